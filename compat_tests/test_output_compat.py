"""What a side-by-side run prints, against Keras (issue 9, items 16-18): the types and
roundings of History and evaluate() values, Keras's warnings, and the progress bars written
to a pipe or a terminal, byte for byte once times are masked."""

import contextlib
import linecache
import os
import re
import subprocess
import sys
import threading
import warnings
from pathlib import Path

import keras
import keras.src.utils.progbar as keras_progbar
import numpy as np
import pytest

import minikeras
import minikeras.callbacks.progbar as minikeras_progbar
from compat_tests.compare import build_pair

RNG = np.random.default_rng(3)
X = RNG.normal(size=(100, 3)).astype("float32")
Y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype("float32")


def _model(k):
    return k.Sequential([k.Input((3,)), k.layers.Dense(4, activation="tanh"),
                         k.layers.Dense(1, activation="sigmoid")])


def _reported_values(floatx):
    """For each engine: every History value, evaluate()'s list and dict, and the
    train_on_batch / test_on_batch results of the same model from the same start."""
    reference, ours = build_pair(_model, floatx=floatx)
    values = {}
    for module, model in ((keras, reference), (minikeras, ours)):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(X, Y, epochs=2, batch_size=16, shuffle=False, verbose=0,
                            validation_split=0.2).history
        reported = {f"history {key} {epoch}": value
                    for key, epoch_values in history.items()
                    for epoch, value in enumerate(epoch_values)}
        loss, accuracy = model.evaluate(X, Y, verbose=0)
        reported.update({"evaluate loss": loss, "evaluate accuracy": accuracy})
        reported.update({f"evaluate dict {key}": value for key, value in
                         model.evaluate(X, Y, verbose=0, return_dict=True).items()})
        reported.update({f"test_on_batch {key}": value for key, value in
                         model.test_on_batch(X, Y, return_dict=True).items()})
        values[module] = reported
    return values[keras], values[minikeras]


def test_reported_values_are_float32_results_made_python_floats():
    ref, ours = _reported_values("float32")
    assert sorted(ref) == sorted(ours)
    for key in ref:
        assert type(ours[key]) is float and type(ref[key]) is float, key
        assert float(np.float32(ours[key])) == ours[key], (key, ours[key])
        assert float(np.float32(ref[key])) == ref[key], (key, ref[key])
        if "accuracy" in key:
            # A fraction of samples: the same float32 on both engines, printed alike
            # (0.8399999737739563 on both, where a float64 result would print 0.84).
            assert repr(ours[key]) == repr(ref[key]), key
        else:
            np.testing.assert_allclose(ours[key], ref[key], rtol=1e-4, err_msg=key)


def test_reported_values_in_float64_keep_float64():
    ref, ours = _reported_values("float64")
    for key in ref:
        assert type(ours[key]) is float and type(ref[key]) is float, key
        if "accuracy" in key:
            assert repr(ours[key]) == repr(ref[key]), key        # 0.84, as in Keras
        else:
            np.testing.assert_allclose(ours[key], ref[key], rtol=1e-6, err_msg=key)
            assert float(np.float32(ours[key])) != ours[key], key
            assert float(np.float32(ref[key])) != ref[key], key


# ------------------------------------------------------------------ warnings (item 17)


def _warnings_of(make):
    """(category, message, source line shown) of each warning make() raises."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return [(w.category, str(w.message), linecache.getline(w.filename, w.lineno).strip())
            for w in caught]


@pytest.mark.parametrize("make", [
    lambda k: k.layers.Dense(2, input_dim=3),
    lambda k: k.layers.Dense(2, input_shape=(3,)),
    lambda k: k.layers.Conv2D(2, 3, input_shape=(8, 8, 1)),
    lambda k: k.layers.Flatten(input_shape=(8, 8, 1)),
    lambda k: k.layers.Dropout(0.5, input_shape=(8,)),
    lambda k: k.Sequential([k.layers.Dense(2, input_dim=3), k.layers.Dense(1)]),
    lambda k: k.Sequential([k.Input((3,)), k.layers.Dense(1)]),
], ids=["input_dim", "input_shape", "conv2d", "flatten", "dropout", "sequential", "input"])
def test_layer_warnings_match_keras(make):
    ours, ref = _warnings_of(lambda: make(minikeras)), _warnings_of(lambda: make(keras))
    assert ours == ref


def _rebuilt_warnings(module, folder):
    """Warnings of from_config, clone_model, load_model and model_from_json, each applied to
    a model built with input_dim."""
    model = module.Sequential([module.layers.Dense(2, input_dim=3)])
    path = folder / f"{module.__name__}.keras"
    model.save(path)
    return [_warnings_of(make) for make in (
        lambda: module.Sequential.from_config(model.get_config()),
        lambda: module.models.clone_model(model),
        lambda: module.models.load_model(path),
        lambda: module.models.model_from_json(model.to_json()))]


def test_models_from_config_warn_as_keras_does(tmp_path):
    assert _rebuilt_warnings(minikeras, tmp_path) == _rebuilt_warnings(keras, tmp_path)


def _stderr_lines(text):
    """stderr without TensorFlow's start-up log lines, file paths reduced to their names."""
    lines = [line for line in text.splitlines()
             if not line.startswith(("WARNING: All log messages", "I0000 "))]
    return [re.sub(r"^\S*/([^/]+\.py):\d+:", r"\1:", line) for line in lines]


@pytest.mark.slow
def test_two_circles_example_warns_exactly_as_keras(tmp_path):
    """examples/two_circles.py uses input_dim: the one warning Keras prints, and nothing
    else, on both engines (paths and line numbers aside)."""
    script = Path(minikeras.__file__).resolve().parents[1] / "examples" / "two_circles.py"
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    runs = {}
    for engine, command in (("keras", [sys.executable, str(script)]),
                            ("minikeras", [sys.executable, "-m", "minikeras", "run",
                                           str(script)])):
        proc = subprocess.run(command + ["--epochs", "1"], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=600)
        assert proc.returncode == 0, proc.stderr
        runs[engine] = _stderr_lines(proc.stderr)
    assert runs["minikeras"] == runs["keras"]
    assert runs["keras"][0].startswith("dense.py: UserWarning: Do not pass an `input_shape`")


# ------------------------------------------------------------------ progress bars (item 18)


class _Clock:
    """A stand-in for time.time() in both progress-bar modules: each reading is `tick`
    seconds after the previous one, so that ETAs, elapsed times and ms/step are the same on
    both engines and the outputs can be compared byte for byte, times included."""

    def __init__(self, tick):
        self.now = 1000.0
        self.tick = tick

    def time(self):
        self.now += self.tick
        return self.now


@contextlib.contextmanager
def _stdout_into(kind, folder):
    """Redirects sys.stdout into a file, a pipe or a pseudo-terminal; yields a list that holds
    the bytes written once the block ends."""
    captured = []
    if kind == "file":
        path = folder / "stdout.txt"
        with open(path, "w", encoding="utf-8") as stream, contextlib.redirect_stdout(stream):
            yield captured
        captured.append(path.read_bytes())
        return
    read_end, write_end = os.openpty() if kind == "tty" else os.pipe()
    chunks = []

    def drain():
        while True:
            try:
                chunk = os.read(read_end, 65536)
            except OSError:         # a pty's reader gets EIO once the writer is closed
                break
            if not chunk:
                break
            chunks.append(chunk)

    reader = threading.Thread(target=drain)
    reader.start()
    try:
        with open(write_end, "w", encoding="utf-8") as stream, \
                contextlib.redirect_stdout(stream):
            assert stream.isatty() == (kind == "tty")
            yield captured
    finally:
        reader.join()
        os.close(read_end)
    captured.append(b"".join(chunks))


def _progress_run(module, verbose, loss):
    """fit (with validation), evaluate and predict of a fixed small model."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = module.Sequential([module.Input((3,)), module.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.array([[0.3], [-0.2], [0.5]], "float32"),
                       np.array([0.1], "float32")])
    metrics = ["accuracy"] if loss == "binary_crossentropy" else []
    model.compile(optimizer="adam", loss=loss, metrics=metrics)
    model.fit(x, y, epochs=2, batch_size=4, verbose=verbose, shuffle=False,
              validation_split=0.2)
    model.evaluate(x, y, verbose=verbose)
    model.predict(x, verbose=verbose, batch_size=16)


@pytest.mark.parametrize("kind, verbose, tick, loss", [
    # ms/step and ETAs in seconds, into each kind of stream
    *[(kind, verbose, 0.0123, "binary_crossentropy")
      for kind in ("file", "pipe", "tty") for verbose in (1, 2)],
    # s/step and ETAs of minutes ("1:35")
    *[("pipe", verbose, 13.7, "binary_crossentropy") for verbose in (1, 2)],
    # us/step and negative losses (verbose=2 prints them as -4.6875e-01, as Keras does)
    *[("pipe", verbose, 0.0007, "cosine_similarity") for verbose in (1, 2)],
])
def test_progress_output_is_keras_s_byte_for_byte(kind, verbose, tick, loss, tmp_path,
                                                   monkeypatch):
    outputs = {}
    for module, progbar_module in ((keras, keras_progbar), (minikeras, minikeras_progbar)):
        monkeypatch.setattr(progbar_module, "time", _Clock(tick))
        with _stdout_into(kind, tmp_path) as captured:
            _progress_run(module, verbose, loss)
        outputs[module] = captured[0]
    assert outputs[minikeras] == outputs[keras]
    text = outputs[keras].decode("utf-8")
    # The comparison covers what it means to: bars, their redraws and metric values.
    assert text.count("Epoch ") == 2 and "/step" in text
    if verbose == 1:
        assert "\x1b[1m8/8\x1b[0m \x1b[32m" + "━" * 20 in text and "\b\r" in text
        assert "\b" * 20 in text and "\x1b[37m━" in text
    else:
        assert "\b" not in text and "\x1b[" not in text
    assert ("1:" in text) == (tick > 1 and verbose == 1)
    negative_in_scientific = re.search(r"loss: -\d\.\d{4}e-01", text) is not None
    assert negative_in_scientific == (loss == "cosine_similarity" and verbose == 2)
