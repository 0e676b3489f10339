"""Output a script sees as it would on Keras (issue 9, items 16-18): the values reported by
fit/evaluate, Keras's warnings, and the progress bars. compat_tests/test_output_compat.py
checks the same against Keras itself."""

import numpy as np
import pytest

import minikeras as keras

RNG = np.random.default_rng(5)
X = RNG.normal(size=(50, 3)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


@pytest.fixture
def floatx():
    yield keras.backend.set_floatx
    keras.backend.set_floatx("float32")


def _reported(model):
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, epochs=2, batch_size=8, validation_split=0.2, verbose=0).history
    values = [v for epoch_values in history.values() for v in epoch_values]
    values += model.evaluate(X, Y, verbose=0)
    values += list(model.evaluate(X, Y, verbose=0, return_dict=True).values())
    values += model.train_on_batch(X, Y) + model.test_on_batch(X, Y)
    return values


def _model():
    return keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])


def test_values_are_float32_results_as_python_floats():
    values = _reported(_model())
    assert len(values) == 16
    assert all(type(v) is float for v in values)
    assert all(float(np.float32(v)) == v for v in values)


def test_values_stay_float64_when_floatx_is_float64(floatx):
    floatx("float64")
    values = _reported(_model())
    assert all(type(v) is float for v in values)
    # The losses are not float32 numbers (each would be with a float32 rounding).
    assert sum(float(np.float32(v)) != v for v in values) >= 8
