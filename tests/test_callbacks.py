"""Callbacks: each one's behaviour on scripted logs (a stub model) and inside a real fit."""

import io
import re

import numpy as np
import pytest

import minikeras
from minikeras import callbacks, metrics
from minikeras.callbacks.progbar import Progbar, format_duration, format_time_per_unit


class StubOptimizer:
    def __init__(self, learning_rate):
        self.learning_rate = learning_rate


class StubModel:
    """What the callbacks touch: weights, stop_training, optimizer, metrics."""

    def __init__(self, learning_rate=0.1, metric_list=()):
        self.weights = [np.zeros(2)]
        self.stop_training = False
        self.optimizer = StubOptimizer(learning_rate)
        self.metrics = list(metric_list)

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        self.weights = [w.copy() for w in weights]


def _drive(callback, model, values, key="loss"):
    """Runs epochs with logs {key: value} until the model is told to stop.
    Returns the epochs run and each epoch's final logs."""
    callback.set_model(model)
    callback.on_train_begin()
    seen = []
    for epoch, value in enumerate(values):
        model.weights = [np.full(2, float(epoch))]      # "training" changes the weights
        logs = {key: value}
        callback.on_epoch_end(epoch, logs)
        seen.append(logs)
        if model.stop_training:
            break
    callback.on_train_end()
    return len(seen), seen


def _small_model(seed=0):
    minikeras.utils.set_random_seed(seed)
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  minikeras.layers.Dense(4, activation="tanh"),
                                  minikeras.layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer=minikeras.optimizers.SGD(0.1), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 3)).astype("float32")
Y = (X[:, :1] - X[:, 1:2] > 0).astype("float32")


# ------------------------------------------------------------------ EarlyStopping

def test_early_stopping_patience_and_restored_weights():
    model = StubModel()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=2, restore_best_weights=True)
    epochs, _ = _drive(stopper, model, [1.0, 0.8, 0.9, 0.95, 0.7])
    assert epochs == 4                               # epochs 2 and 3 without improvement
    assert stopper.stopped_epoch == 3 and stopper.best_epoch == 1
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])   # epoch 1's weights


def test_early_stopping_min_delta_mode_and_start_from_epoch():
    model = StubModel()
    stopper = callbacks.EarlyStopping(monitor="loss", min_delta=0.1, patience=0)
    assert _drive(stopper, model, [1.0, 0.95, 0.5])[0] == 2      # 0.05 is no improvement
    model = StubModel()
    stopper = callbacks.EarlyStopping(monitor="acc", mode="max", patience=1)
    assert _drive(stopper, model, [0.5, 0.6, 0.6, 0.6, 0.7], key="acc")[0] == 3
    model = StubModel()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=0, start_from_epoch=3)
    assert _drive(stopper, model, [1.0, 2.0, 3.0, 4.0, 5.0, 6.0])[0] == 5


def test_early_stopping_baseline_and_never_after_epoch_zero():
    model = StubModel()
    stopper = callbacks.EarlyStopping(monitor="loss", patience=1, baseline=0.5,
                                      restore_best_weights=True)
    # Improvements over the best that never beat the baseline do not reset the patience.
    assert _drive(stopper, model, [1.0, 0.9, 0.95, 0.8])[0] == 3
    np.testing.assert_array_equal(model.weights[0], [1.0, 1.0])
    model = StubModel()
    assert _drive(callbacks.EarlyStopping(monitor="loss"), model, [1.0])[0] == 1
    assert not model.stop_training


def test_early_stopping_auto_mode_reads_metric_directions():
    auc = metrics.AUC(name="auc")
    stopper = callbacks.EarlyStopping(monitor="val_auc", patience=0)
    assert _drive(stopper, StubModel(metric_list=[auc]), [0.5, 0.6, 0.55], key="val_auc")[0] == 3
    assert stopper.monitor_op is np.greater
    stopper = callbacks.EarlyStopping(monitor="val_total", patience=0)
    with pytest.raises(ValueError, match="mode='max'"):
        _drive(stopper, StubModel(metric_list=[metrics.Sum(name="total")]), [1.0],
               key="val_total")


def test_early_stopping_warns_when_the_monitor_is_missing():
    stopper = callbacks.EarlyStopping(monitor="val_loss")
    with pytest.warns(UserWarning, match="val_loss.*Available metrics are: loss"):
        _drive(stopper, StubModel(), [1.0, 2.0])


def test_early_stopping_in_fit_restores_the_best_epoch_weights():
    model = _small_model()
    snapshots = []
    record = callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: snapshots.append(model.get_weights()))
    stopper = callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    model.compile(optimizer=minikeras.optimizers.SGD(2.0), loss="binary_crossentropy")
    history = model.fit(X, Y, epochs=30, batch_size=8, verbose=0, validation_split=0.25,
                        shuffle=False, callbacks=[record, stopper])
    best = int(np.argmin(history.history["val_loss"]))
    assert stopper.best_epoch == best
    for restored, saved in zip(model.get_weights(), snapshots[best]):
        np.testing.assert_array_equal(restored, saved)
    if stopper.stopped_epoch:
        assert len(history.epoch) == stopper.stopped_epoch + 1


# ---------------------------------------------------- learning-rate callbacks

def test_reduce_lr_on_plateau_patience_cooldown_and_min_lr():
    model = StubModel(learning_rate=1.0)
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=2, cooldown=1,
                                          min_lr=0.2)
    _, logs = _drive(reducer, model, [1.0] * 9)
    rates = [entry["learning_rate"] for entry in logs]
    # Logged before any change at that epoch's end. Reductions after epochs 2, 4 and 6: as
    # in Keras, the epoch that ends the cooldown already counts towards the patience.
    np.testing.assert_allclose(rates, [1, 1, 1, 0.5, 0.5, 0.25, 0.25, 0.2, 0.2], rtol=1e-6)
    assert model.optimizer.learning_rate == pytest.approx(0.2)       # floored at min_lr


def test_reduce_lr_on_plateau_rejects_factor_one_or_more():
    with pytest.raises(ValueError, match="factor=1.0"):
        callbacks.ReduceLROnPlateau(factor=1.0)


def test_reduce_lr_in_fit_adds_learning_rate_to_history():
    model = _small_model()
    history = model.fit(X, Y, epochs=4, verbose=0, callbacks=[
        callbacks.ReduceLROnPlateau(monitor="loss", patience=0, min_delta=10, factor=0.5)])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.1, 0.05, 0.025],
                               rtol=1e-6)
    assert model.optimizer.learning_rate == pytest.approx(0.0125)


def test_learning_rate_scheduler_sets_and_logs_the_rate():
    model = _small_model()
    printed = []
    history = model.fit(X, Y, epochs=3, verbose=0, callbacks=[
        callbacks.LearningRateScheduler(lambda epoch, lr: 0.5 / (epoch + 1)),
        callbacks.LambdaCallback(on_epoch_begin=lambda epoch, logs: printed.append(
            model.optimizer.learning_rate))])
    np.testing.assert_allclose(printed, [0.5, 0.25, 0.5 / 3])
    np.testing.assert_allclose(history.history["learning_rate"], [0.5, 0.25, 0.5 / 3],
                               rtol=1e-6)


def test_learning_rate_scheduler_checks_the_schedule_output():
    model = _small_model()
    with pytest.raises(ValueError, match="should be a float. Got: 1"):
        model.fit(X, Y, epochs=1, verbose=0,
                  callbacks=[callbacks.LearningRateScheduler(lambda epoch: 1)])


# ------------------------------------------------------------ stopping / NaN

def test_terminate_on_nan_stops_or_raises():
    model = StubModel()
    terminate = callbacks.TerminateOnNaN()
    terminate.set_model(model)
    terminate.on_train_batch_end(0, {"loss": 0.5})
    assert not model.stop_training
    terminate.on_train_batch_end(1, {"loss": float("inf")})
    assert model.stop_training
    raising = callbacks.TerminateOnNaN(raise_error=True)
    raising.set_model(StubModel())
    with pytest.raises(RuntimeError, match="batch 4"):
        raising.on_train_batch_end(4, {"loss": float("nan")})


def test_stop_training_set_in_a_batch_ends_the_epoch_and_the_fit():
    model = _small_model()
    batches = []

    def on_batch_end(batch, logs):
        batches.append(batch)
        if batch == 1:
            model.stop_training = True

    history = model.fit(X, Y, epochs=5, batch_size=8, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.LambdaCallback(on_train_batch_end=on_batch_end)])
    assert batches == [0, 1]
    assert history.epoch == [0]
    assert "val_loss" in history.history           # the cut epoch is still validated


# ------------------------------------------------------------------ CSVLogger

def test_csv_logger_writes_sorted_columns(tmp_path):
    path = tmp_path / "log.csv"
    logger = callbacks.CSVLogger(str(path))
    logger.set_model(StubModel())
    logger.on_train_begin()
    logger.on_epoch_end(0, {"loss": 0.5, "accuracy": 0.75, "val_loss": 0.25})
    logger.on_epoch_end(1, {"loss": 0.25, "accuracy": 1.0})
    logger.on_train_end()
    assert path.read_bytes() == (b"epoch,accuracy,loss,val_loss\r\n"
                                 b"0,0.75,0.5,0.25\r\n"
                                 b"1,1.0,0.25,NA\r\n")


def test_csv_logger_append_and_separator(tmp_path):
    path = tmp_path / "log.csv"
    for start in (0, 1):
        logger = callbacks.CSVLogger(path, separator=";", append=True)
        logger.on_train_begin()
        logger.on_epoch_end(start, {"loss": 1.0 / (start + 1)})
        logger.on_train_end()
    # no val_ keys: Keras adds val_ columns anyway; one header only
    assert path.read_text().splitlines() == ["epoch;loss;val_loss", "0;1.0;NA", "1;0.5;NA"]


def test_csv_logger_in_fit(tmp_path):
    path = tmp_path / "fit.csv"
    model = _small_model()
    history = model.fit(X, Y, epochs=3, verbose=0, validation_split=0.25,
                        callbacks=[callbacks.CSVLogger(path)])
    lines = path.read_text().splitlines()
    assert lines[0] == "epoch,accuracy,loss,val_accuracy,val_loss"
    assert len(lines) == 4
    assert float(lines[-1].split(",")[2]) == pytest.approx(history.history["loss"][-1])


# ---------------------------------------------------------- Lambda, list order

def test_lambda_callback_hooks_receive_their_arguments():
    calls = []
    model = _small_model()
    model.fit(X, Y, epochs=2, batch_size=32, verbose=0, callbacks=[callbacks.LambdaCallback(
        on_train_begin=lambda logs: calls.append("train_begin"),
        on_epoch_begin=lambda epoch, logs: calls.append(("epoch_begin", epoch)),
        on_train_batch_end=lambda batch, logs: calls.append(("batch", batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: calls.append(("epoch_end", epoch)),
        on_train_end=lambda logs: calls.append("train_end"),
        on_test_end=lambda logs: calls.append("never: no validation"))])
    assert calls[:3] == ["train_begin", ("epoch_begin", 0), ("batch", 0, ["accuracy", "loss"])]
    assert calls[-2:] == [("epoch_end", 1), "train_end"]
    assert len(calls) == 2 + 2 * 4


def test_on_batch_end_is_the_old_name_of_on_train_batch_end():
    class Counter(callbacks.Callback):
        count = 0

        def on_batch_end(self, batch, logs=None):
            self.count += 1

    counter = Counter()
    _small_model().fit(X, Y, epochs=1, batch_size=16, verbose=0, callbacks=[counter])
    assert counter.count == 4


def test_callback_list_sorts_logs_and_runs_user_callbacks_before_history():
    class AddKey(callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["extra"] = 1.0

    callback_list = callbacks.CallbackList([AddKey()], add_history=True, add_progbar=True)
    names = [type(c).__name__ for c in callback_list.callbacks]
    assert names == ["AddKey", "History", "ProgbarLogger"]
    callback_list.set_params({"verbose": 0, "epochs": 1, "steps": 1})
    callback_list.set_model(StubModel())
    callback_list.on_train_begin()
    callback_list.on_epoch_end(0, {"loss": np.float32(0.5), "accuracy": 1})
    history_seen = callback_list.history.history
    assert list(history_seen) == ["accuracy", "loss", "extra"]
    assert type(history_seen["loss"][0]) is float


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="Callback instances. Received: 3"):
        callbacks.CallbackList([3])


# ------------------------------------------------------------------ progress bar

def _captured_fit(verbose, epochs=2, **kwargs):
    model = _small_model()
    out = io.StringIO()
    logger = callbacks.ProgbarLogger(stream=out)
    model.fit(X, Y, epochs=epochs, batch_size=16, verbose=verbose, callbacks=[logger],
              **kwargs)
    return out.getvalue()


def test_progbar_verbose_1_overwrites_one_line_per_epoch():
    text = _captured_fit(1, validation_split=0.25)
    lines = text.split("\n")
    assert lines[0] == "Epoch 1/2"
    final = lines[1].split("\r")[-1]
    assert final.startswith("\x1b[1m3/3\x1b[0m \x1b[32m" + "━" * 20 + "\x1b[0m\x1b[37m\x1b[0m ")
    assert "/step - accuracy: " in final and " - loss: " in final
    assert final.index("accuracy") < final.index("loss") < final.index("val_accuracy")
    assert "\b\r" in text          # Keras's redraw, written into a StringIO too (on POSIX)
    assert lines[2] == "Epoch 2/2" and lines[-1] == ""


def test_progbar_pads_over_a_longer_previous_state():
    out = io.StringIO()
    bar = Progbar(target=10, stream=out, interval=0.0, stateless_metrics=set())
    bar.update(1, [("loss", 123456.0), ("accuracy", 0.5)])
    bar.update(2, [("loss", 1.0), ("accuracy", 0.5)])
    first, second = out.getvalue().split("\r")[1:]
    backspaces = len(first) - len(first.rstrip("\b"))
    first = first.rstrip("\b")

    def shown(text):
        return re.sub(r"\x1b\[[0-9;]*m", "", text)

    assert shown(first).endswith("loss: 123456.0000 - accuracy: 0.5000")
    assert backspaces == len(shown(first))           # Keras backspaces over what it showed
    assert len(shown(second)) == len(shown(first))   # and pads over a longer state
    assert shown(second).rstrip().endswith("loss: 1.0000 - accuracy: 0.5000")
    assert "\x1b[37m" + "━" * 16 + "\x1b[0m" in second   # the rest of the bar, grey "━"


def test_progbar_colour_and_number_formats():
    out = io.StringIO()
    bar = Progbar(target=4, stream=out, stateful_metrics=["loss"])
    bar.update(4, [("loss", 0.0001)])
    text = out.getvalue()
    assert "\x1b[1m4/4\x1b[0m" in text and "\x1b[32m" + "━" * 20 in text
    assert text.endswith("- loss: 1.0000e-04\n")


def test_progbar_averages_stateless_values_over_steps():
    out = io.StringIO()
    bar = Progbar(target=4, stream=out, verbose=2)
    bar.update(2, [("loss", 1.0)])
    bar.update(4, [("loss", 3.0)], finalize=False)
    bar.update(4, [], finalize=True)
    assert out.getvalue().endswith(" - loss: 2.0000\n")


def test_progbar_verbose_2_one_line_per_epoch():
    lines = _captured_fit(2, epochs=3).splitlines()
    assert lines[0] == "Epoch 1/3"
    assert lines[1].startswith("4/4 - ") and "/step - accuracy: " in lines[1]
    assert len(lines) == 6 and "\r" not in "".join(lines)


def test_progbar_single_epoch_has_no_header_and_verbose_0_is_silent(capsys):
    assert not _captured_fit(1, epochs=1).startswith("Epoch")
    model = _small_model()
    model.fit(X, Y, epochs=2, verbose=0)
    model.evaluate(X, Y, verbose=0)
    model.predict(X, verbose=0)
    assert capsys.readouterr().out == ""


def test_evaluate_and_predict_draw_their_own_bars(capsys):
    model = _small_model()
    model.evaluate(X, Y, batch_size=16, verbose=1)
    model.predict(X, batch_size=16, verbose=2)
    out = capsys.readouterr().out
    evaluate_line, predict_line = out.rstrip("\n").split("\n")
    assert evaluate_line.split("\r")[-1].startswith("\x1b[1m4/4\x1b[0m \x1b[32m" + "━" * 20)
    assert " - accuracy: " in evaluate_line
    assert predict_line.startswith("4/4 - ") and predict_line.endswith("/step")


def test_time_formats():
    assert format_duration(59.9) == "59s"
    assert format_duration(125) == "2:05"
    assert format_duration(3725) == "1:02:05"
    assert format_time_per_unit(2.4) == " 2s/step"
    assert format_time_per_unit(0.0254) == " 25ms/step"
    assert format_time_per_unit(4e-5) == " 40us/step"
    assert format_time_per_unit(0) == " 0s/step"
