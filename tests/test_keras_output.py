"""Output a script sees as it would on Keras (issue 9, items 16-18): the values reported by
fit/evaluate, Keras's warnings, and the progress bars. compat_tests/test_output_compat.py
checks the same against Keras itself."""

import linecache
import os
import warnings

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


# ------------------------------------------------------------------ Keras's warnings (item 17)

INPUT_SHAPE_WARNING = (
    "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
    "models, prefer using an `Input(shape)` object as the first layer in the model instead."
)


def _recorded(make):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        make()
    return caught


@pytest.mark.parametrize("make, file", [
    (lambda: keras.layers.Dense(2, input_dim=3), "dense.py"),
    (lambda: keras.layers.Dense(2, input_shape=(3,)), "dense.py"),
    (lambda: keras.layers.Conv2D(2, 3, input_shape=(8, 8, 1)), "conv2d.py"),
    (lambda: keras.layers.Flatten(input_shape=(8, 8, 1)), "flatten.py"),
    (lambda: keras.Sequential([keras.layers.Dense(2, input_dim=3)]), "dense.py"),
])
def test_input_shape_arguments_warn_as_keras_does(make, file):
    caught = _recorded(make)
    assert [(w.category, str(w.message)) for w in caught] == [(UserWarning,
                                                               INPUT_SHAPE_WARNING)]
    # Shown at the layer's call to Layer.__init__, as Keras shows it.
    assert os.path.basename(caught[0].filename) == file
    assert linecache.getline(caught[0].filename, caught[0].lineno).strip().startswith(
        "super().__init__(")


def test_the_warning_is_filtered_like_keras_s():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        warnings.filterwarnings("ignore", message="Do not pass an `input_shape`")
        keras.layers.Dense(2, input_dim=3)
    assert caught == []


def test_models_rebuilt_from_their_config_do_not_warn(tmp_path):
    with pytest.warns(UserWarning, match="input_dim"):
        model = keras.Sequential([keras.layers.Dense(2, input_dim=3)])
    model.save(tmp_path / "m.keras")
    for make in (lambda: keras.Sequential.from_config(model.get_config()),
                 lambda: keras.models.clone_model(model),
                 lambda: keras.models.load_model(tmp_path / "m.keras"),
                 lambda: keras.models.model_from_json(model.to_json()),
                 lambda: keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])):
        assert _recorded(make) == []
