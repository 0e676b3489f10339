"""model.summary() prints Keras's text, character for character."""

import keras
import numpy as np
import pytest

import minikeras


def _summary(model, **kwargs):
    texts = []
    model.summary(print_fn=lambda text, line_break=None: texts.append(text), **kwargs)
    assert len(texts) == 1          # Keras hands print_fn the whole table in one call
    return texts[0]


def _small(k):
    return k.Sequential([k.Input((4,)), k.layers.Dense(8, activation="relu"),
                         k.layers.Dropout(0.2), k.layers.Dense(1, activation="sigmoid")],
                        name="my_model")


def _unbuilt(k):
    return k.Sequential([k.layers.Dense(8), k.layers.Dense(1)])


def _trained(k):
    model = k.Sequential([k.Input((28, 28)), k.layers.Flatten(),
                          k.layers.Dense(128, activation="relu"), k.layers.Reshape((8, 16)),
                          k.layers.Dense(3), k.layers.Activation("softmax")])
    model.compile(optimizer="adam", loss="mse")       # Adam's moments: "Optimizer params"
    model.fit(np.zeros((2, 28, 28)), np.zeros((2, 8, 3)), verbose=0)
    return model


def _frozen_and_long_names(k):
    model = k.Sequential([k.Input((4,)),
                          k.layers.Dense(8, name="a_very_long_layer_name_that_has_to_wrap"),
                          k.layers.Dense(100000, name="wide", use_bias=False),
                          k.layers.Dense(2, name="last")])
    model.layers[1].trainable = False
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.zeros((2, 4)), np.zeros((2, 2)), verbose=0)
    return model


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("build", [_small, _unbuilt, _trained, _frozen_and_long_names],
                         ids=["small", "unbuilt", "trained_adam", "frozen_long_names"])
def test_summary_text_matches_keras(build, columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)      # both engines size the table from it
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert _summary(build(minikeras)) == _summary(build(keras))


@pytest.mark.parametrize("kwargs", [
    dict(line_length=60), dict(line_length=100), dict(show_trainable=True),
    dict(layer_range=["wide", "last"]), dict(positions=[0.3, 0.6, 1.0]),
], ids=["line_60", "line_100", "show_trainable", "layer_range", "positions"])
def test_summary_options_match_keras(kwargs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert (_summary(_frozen_and_long_names(minikeras), **kwargs)
            == _summary(_frozen_and_long_names(keras), **kwargs))


def test_summary_without_print_fn_prints_the_same_text(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "80")
    minikeras.backend.clear_session()
    model = _small(minikeras)
    model.summary()
    assert capsys.readouterr().out == _summary(model)
