"""Callbacks against Keras: the same model from the same start, trained with the same
callbacks, must stop at the same epoch, log the same learning rates, end with the same
weights, write the same CSV and print the same progress output (timings aside)."""

import contextlib
import csv
import io
import re

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair

RNG = np.random.default_rng(7)
X = RNG.normal(size=(120, 4)).astype("float32")
Y = ((X[:, :1] * X[:, 1:2] + 0.3 * X[:, 2:3]) > 0).astype("float32")


def _model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="tanh"),
        k.layers.Dense(1, activation="sigmoid"),
    ])


def _fit_pair(make_callbacks, epochs=8, lr=0.05, metrics=("accuracy",), batch_size=30,
              **fit_kwargs):
    """Fits the Keras and the minikeras model with callbacks from make_callbacks(module).
    Returns (reference, ours, ref_history, our_history, ref_callbacks, our_callbacks)."""
    reference, ours = build_pair(_model)
    results = []
    for module, model in ((keras, reference), (minikeras, ours)):
        model.compile(optimizer=module.optimizers.Adam(lr), loss="binary_crossentropy",
                      metrics=list(metrics))
        callbacks = make_callbacks(module)
        history = model.fit(X, Y, epochs=epochs, batch_size=batch_size, shuffle=False,
                            verbose=0, callbacks=callbacks, **fit_kwargs)
        results.append((history, callbacks))
    (ref_history, ref_callbacks), (our_history, our_callbacks) = results
    return reference, ours, ref_history, our_history, ref_callbacks, our_callbacks


def _assert_same_weights(reference, ours):
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------ EarlyStopping

@pytest.mark.parametrize("kwargs, epochs_run", [
    (dict(monitor="val_loss", min_delta=0.01, patience=1, restore_best_weights=True), 5),
    (dict(monitor="loss", min_delta=0.02, patience=1), 4),
    (dict(monitor="val_accuracy", patience=3, restore_best_weights=True, start_from_epoch=2),
     8),
    (dict(monitor="val_accuracy", patience=2, baseline=0.9, restore_best_weights=True), 4),
    (dict(monitor="loss", mode="max", patience=0), 2),
], ids=["val_loss_restore", "min_delta", "auto_max_start_from", "baseline", "mode_max"])
def test_early_stopping_matches_keras(kwargs, epochs_run):
    reference, ours, ref, got, ref_cb, our_cb = _fit_pair(
        lambda k: [k.callbacks.EarlyStopping(**kwargs)], lr=0.1, validation_split=0.25)
    assert len(ref.epoch) == epochs_run          # the scenario is the one intended
    assert got.epoch == ref.epoch
    assert_histories_close(ref.history, got.history)
    assert our_cb[0].stopped_epoch == ref_cb[0].stopped_epoch
    assert our_cb[0].best_epoch == ref_cb[0].best_epoch
    assert our_cb[0].wait == ref_cb[0].wait
    _assert_same_weights(reference, ours)       # the restored (or last) weights


# ------------------------------------------------------ learning-rate callbacks

def test_reduce_lr_on_plateau_matches_keras():
    def callbacks(k):
        return [k.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1,
                                              min_delta=0.03, cooldown=1, min_lr=0.004)]
    reference, ours, ref, got, _, _ = _fit_pair(callbacks, epochs=10, lr=0.05)
    assert "learning_rate" in got.history
    assert len(set(ref.history["learning_rate"])) > 2        # it did reduce, several times
    assert_histories_close(ref.history, got.history, rtol=1e-4)
    assert got.history["learning_rate"][-1] == pytest.approx(0.004, rel=1e-6)
    _assert_same_weights(reference, ours)


def test_learning_rate_scheduler_matches_keras():
    def callbacks(k):
        return [k.callbacks.LearningRateScheduler(
            lambda epoch, lr: lr if epoch < 2 else lr * 0.5)]
    reference, ours, ref, got, _, _ = _fit_pair(callbacks, epochs=5, lr=0.05,
                                                validation_split=0.2)
    assert_histories_close(ref.history, got.history)
    np.testing.assert_allclose(got.history["learning_rate"],
                               [0.05, 0.05, 0.025, 0.0125, 0.00625], rtol=1e-6)
    _assert_same_weights(reference, ours)


def test_one_argument_schedule_and_stop_training_from_a_callback():
    def callbacks(k):
        def stop_at_epoch_3(epoch, logs):
            if epoch == 2:
                model_of[k].stop_training = True
        return [k.callbacks.LearningRateScheduler(lambda epoch: 0.1 / (epoch + 1)),
                k.callbacks.LambdaCallback(on_epoch_end=stop_at_epoch_3)]

    reference, ours = build_pair(_model)
    model_of = {keras: reference, minikeras: ours}
    histories = {}
    for module, model in model_of.items():
        model.compile(optimizer="sgd", loss="binary_crossentropy")
        histories[module] = model.fit(X, Y, epochs=10, batch_size=32, shuffle=False,
                                      verbose=0, callbacks=callbacks(module))
    assert histories[minikeras].epoch == histories[keras].epoch == [0, 1, 2]
    assert_histories_close(histories[keras].history, histories[minikeras].history)


def test_stop_training_mid_epoch_matches_keras():
    """Set on a batch end: the epoch ends there, and still gets validated and logged."""
    def callbacks(k):
        def stop(batch, logs):
            if batch == 2:
                model_of[k].stop_training = True
        return [k.callbacks.LambdaCallback(on_train_batch_end=stop)]

    reference, ours = build_pair(_model)
    model_of = {keras: reference, minikeras: ours}
    histories = {}
    for module, model in model_of.items():
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        histories[module] = model.fit(X, Y, epochs=4, batch_size=16, shuffle=False,
                                      verbose=0, validation_split=0.25,
                                      callbacks=callbacks(module))
    assert histories[minikeras].epoch == histories[keras].epoch == [0]
    assert_histories_close(histories[keras].history, histories[minikeras].history)
    _assert_same_weights(reference, ours)


def test_terminate_on_nan_matches_keras():
    """SGD with a huge learning rate on a linear model: the loss overflows to inf at the
    same batch on both engines (each step multiplies it by ~1e4, far from any tie)."""
    def linear(k):
        return k.Sequential([k.Input((4,)), k.layers.Dense(1)])

    reference, ours = build_pair(linear)
    histories, outputs = {}, {}
    for module, model in ((keras, reference), (minikeras, ours)):
        model.compile(optimizer=module.optimizers.SGD(100.0), loss="mse")
        seen = []
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            histories[module] = model.fit(
                X, Y * 10, epochs=3, batch_size=8, shuffle=False, verbose=0,
                callbacks=[module.callbacks.TerminateOnNaN(),
                           module.callbacks.LambdaCallback(
                               on_train_batch_end=lambda b, logs, seen=seen: seen.append(b))])
        outputs[module] = (out.getvalue(), seen)
    assert outputs[minikeras] == outputs[keras]
    assert outputs[keras][0] == "Batch 8: Invalid loss, terminating training\n"
    assert histories[minikeras].epoch == histories[keras].epoch == [0]


# ---------------------------------------------------------------------- CSVLogger

def test_csv_logger_file_matches_keras(tmp_path):
    files = {keras: tmp_path / "keras.csv", minikeras: tmp_path / "ours.csv"}
    _fit_pair(lambda k: [k.callbacks.CSVLogger(str(files[k]), separator=";"),
                         k.callbacks.ReduceLROnPlateau(monitor="loss", patience=1)],
              epochs=3, metrics=("accuracy", "mse"))
    ref_text = files[keras].read_bytes()
    our_text = files[minikeras].read_bytes()
    assert our_text.splitlines()[0] == ref_text.splitlines()[0]          # header
    assert our_text.count(b"\r\n") == ref_text.count(b"\r\n")          # line endings
    ref_rows = list(csv.reader(io.StringIO(ref_text.decode()), delimiter=";"))
    our_rows = list(csv.reader(io.StringIO(our_text.decode()), delimiter=";"))
    assert len(our_rows) == len(ref_rows) == 4
    for ref_row, our_row in zip(ref_rows[1:], our_rows[1:]):
        assert our_row[0] == ref_row[0]                                  # epoch
        for a, b in zip(our_row[1:], ref_row[1:]):
            if b == "NA":
                assert a == "NA"
            else:
                np.testing.assert_allclose(float(a), float(b), rtol=1e-4)


def test_csv_logger_without_validation_adds_val_columns_like_keras(tmp_path):
    files = {keras: tmp_path / "keras.csv", minikeras: tmp_path / "ours.csv"}
    _fit_pair(lambda k: [k.callbacks.CSVLogger(str(files[k]))], epochs=2)
    ref_lines = files[keras].read_text().splitlines()
    our_lines = files[minikeras].read_text().splitlines()
    assert our_lines[0] == ref_lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert [line.split(",")[-2:] for line in our_lines[1:]] == [["NA", "NA"]] * 2


# ------------------------------------------------------------------ printed output

ANSI = re.compile(r"\x1b\[[0-9;]*m")
TIMING = re.compile(r"\b\d+(?::\d\d){0,2}s\b|\b\d+(?:s|ms|us)/step")
NUMBER = re.compile(r"-?\d+\.\d{4}(?:e[-+]\d\d)?")


def _final_lines(text):
    """What stays on screen: for each line, its last carriage-return segment (both engines
    redraw the bar after a \\r; Keras also writes backspaces and colour codes, dropped
    here), and only finished bars ("k/k"), so that the number of intermediate redraws,
    which depends on timing, does not matter."""
    text = ANSI.sub("", text).replace("\b", "")
    lines = []
    for line in text.split("\n"):
        line = line.split("\r")[-1].rstrip()
        match = re.match(r"\s*(\d+)/(\d+) ", line)
        if not line or (match and match.group(1) != match.group(2)):
            continue
        lines.append(line)
    return lines


def _masked(line):
    return NUMBER.sub("<num>", TIMING.sub("<time>", line))


@pytest.fixture(scope="module")
def printed_outputs():
    """stdout of fit/evaluate/predict at verbose 0, 1 and 2, for each engine: one pair of
    models, trained on at each level in turn (they stay in step)."""
    reference, ours = build_pair(_model)
    texts = {}
    for module, model in ((keras, reference), (minikeras, ours)):
        model.compile(optimizer="adam", loss="binary_crossentropy",
                      metrics=["accuracy", module.metrics.AUC(name="auc")])
        for verbose in (0, 1, 2):
            out = io.StringIO()
            with contextlib.redirect_stdout(out):
                model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=verbose,
                          validation_split=0.2,
                          callbacks=[module.callbacks.ReduceLROnPlateau(monitor="loss")])
                print("EVALUATE")
                model.evaluate(X, Y, verbose=verbose)
                print("PREDICT")
                model.predict(X, verbose=verbose)
            texts[module, verbose] = out.getvalue()
    return texts


@pytest.mark.parametrize("verbose", [0, 1, 2])
def test_printed_output_matches_keras(printed_outputs, verbose):
    ref_text, our_text = printed_outputs[keras, verbose], printed_outputs[minikeras, verbose]
    ref_lines, our_lines = _final_lines(ref_text), _final_lines(our_text)
    assert [_masked(line) for line in our_lines] == [_masked(line) for line in ref_lines]
    for ref_line, our_line in zip(ref_lines, our_lines):
        np.testing.assert_allclose([float(v) for v in NUMBER.findall(our_line)],
                                   [float(v) for v in NUMBER.findall(ref_line)],
                                   rtol=1e-3, atol=2e-4)
    if verbose == 0:
        assert our_lines == ["EVALUATE", "PREDICT"]
    if verbose == 1:
        # Colour codes and backspaces into a StringIO too, as Keras writes them (on POSIX).
        assert "\x1b[1m" in our_text and "\b\r" in our_text
        # The line is overwritten in place; nothing of a longer earlier state remains.
        for line in our_text.split("\n"):
            segments = [ANSI.sub("", segment).replace("\b", "") for segment in line.split("\r")]
            for before, after in zip(segments[1:], segments[2:]):
                assert len(after) >= len(before)


def test_printed_output_shows_what_keras_shows(printed_outputs):
    """The masked comparison above must compare something: check the line shapes."""
    lines = [_masked(line) for line in _final_lines(printed_outputs[minikeras, 1])]
    assert lines[0] == "Epoch 1/2"
    assert lines[1] == ("6/6 ━━━━━━━━━━━━━━━━━━━━ <time> <time> - accuracy: <num> - auc: <num> "
                        "- loss: <num> - val_accuracy: <num> - val_auc: <num> - val_loss: <num>"
                        " - learning_rate: <num>")
    assert lines[-1] == "4/4 ━━━━━━━━━━━━━━━━━━━━ <time> <time>"      # predict
    lines = [_masked(line) for line in _final_lines(printed_outputs[minikeras, 2])]
    assert lines[-3] == "4/4 - <time> - <time> - accuracy: <num> - auc: <num> - loss: <num>"
