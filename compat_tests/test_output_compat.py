"""What a side-by-side run prints, against Keras (issue 9, items 16-18): the types and
roundings of History and evaluate() values, Keras's warnings, and the progress bars written
to a pipe or a terminal, byte for byte once times are masked."""

import linecache
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import keras
import numpy as np
import pytest

import minikeras
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
