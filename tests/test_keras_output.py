"""Output a script sees as it would on Keras (issue 9, items 16-18): the values reported by
fit/evaluate, Keras's warnings, and the progress bars. compat_tests/test_output_compat.py
checks the same against Keras itself."""

import io
import linecache
import os
import re
import sys
import warnings

import numpy as np
import pytest

import minikeras as keras
from minikeras.callbacks.progbar import Progbar

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


# ------------------------------------------------------------------ progress bars (item 18)


def test_progbar_writes_keras_s_bytes_into_any_stream():
    """compat_tests/test_output_compat.py compares whole fits with Keras byte for byte; here
    the parts of one redraw: colour codes, backspaces over what was shown, the return."""
    out = io.StringIO()
    bar = Progbar(target=4, stream=out, interval=0.0, stateless_metrics=set())
    bar.update(1, [("loss", 0.5)])
    bar.update(4, [("loss", 0.25)])
    first, second = out.getvalue().split("\r")[1:]
    assert first.startswith("\x1b[1m1/4\x1b[0m \x1b[32m━━━━━\x1b[0m\x1b[37m" + "━" * 15
                            + "\x1b[0m \x1b[1m")
    shown = re.sub(r"\x1b\[[0-9;]*m", "", first.rstrip("\b"))
    assert first.endswith(" - loss: 0.5000" + "\b" * len(shown))
    assert second.startswith("\x1b[1m4/4\x1b[0m \x1b[32m" + "━" * 20 + "\x1b[0m\x1b[37m\x1b[0m ")
    assert second.endswith(" - loss: 0.2500\n")


def test_progbar_without_dynamic_display_starts_a_line_per_state(monkeypatch):
    """Keras redraws in place on POSIX systems, terminal or not; elsewhere, on a stream that
    is not a terminal, each state gets its own line."""
    monkeypatch.delitem(sys.modules, "posix", raising=False)
    monkeypatch.delenv("PYCHARM_HOSTED", raising=False)
    out = io.StringIO()
    bar = Progbar(target=2, stream=out, interval=0.0)
    bar.update(1)
    bar.update(2)
    text = out.getvalue()
    assert "\b" not in text and "\r" not in text
    assert text.startswith("\n\x1b[1m1/2\x1b[0m") and "\n\x1b[1m2/2\x1b[0m" in text


def test_progbar_into_a_stream_without_the_bar_character_falls_back_to_equals():
    raw = io.BytesIO()
    out = io.TextIOWrapper(raw, encoding="ascii")
    Progbar(target=2, stream=out).update(2, [("loss", 1.0)])
    text = raw.getvalue().decode("ascii")
    assert "\x1b[32m" + "=" * 20 in text and text.endswith(" - loss: 1.0000\n")
