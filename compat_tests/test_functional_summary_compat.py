"""summary() of functional models prints Keras's text, character for character: the
"Connected to" column, several inputs, shared layers, long names, chains (three columns),
nested models (expand_nested)."""

import keras
import pytest

import minikeras


def _summary(model, **kwargs):
    texts = []
    model.summary(print_fn=lambda text, line_break=None: texts.append(text), **kwargs)
    assert len(texts) == 1
    return texts[0]


def _two_inputs_shared_layer(k):
    layers = k.layers
    a = k.Input((4,), name="a")
    b = k.Input((3,), name="b")
    h = layers.Dense(4, name="d1")(a)
    s = layers.Add(name="add")([h, a])
    c = layers.Concatenate(name="cat")([s, layers.Dense(2, name="from_b")(b)])
    shared = layers.Dense(2, name="shared")
    o1 = shared(c)
    o2 = layers.Dense(1, name="o2")(shared(layers.Dense(6, name="d6")(c)))
    return k.Model([a, b], [o1, o2], name="two_in_two_out")


def _inception(k):
    layers = k.layers
    inputs = k.Input((12, 12, 3), name="image")
    b1 = layers.Conv2D(4, 1, padding="same", name="inception_1x1")(inputs)
    b3 = layers.Conv2D(2, 1, padding="same", name="inception_3x3_reduce")(inputs)
    b3 = layers.Conv2D(4, 3, padding="same", name="inception_3x3")(b3)
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name="inception_pool")(inputs)
    x = layers.Concatenate(name="inception_concat")([b1, b3, bp])
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    return k.Model(inputs, layers.Dense(3, activation="softmax", name="classes")(x))


def _chain(k):
    inputs = k.Input((5,))
    x = k.layers.Dense(4, activation="relu")(inputs)
    return k.Model(inputs, k.layers.Dense(1)(x), name="chain")


def _residual(k):
    inputs = k.Input((8,), name="x")
    h = k.layers.Dense(8, activation="relu", name="h1")(inputs)
    h = k.layers.Dense(8, name="h2")(h)
    out = k.layers.Activation("relu", name="relu")(k.layers.add([inputs, h], name="skip"))
    return k.Model(inputs, out, name="residual")


def _shared_nested_model(k):
    """A functional model called twice: the calls are head[0][0] and head[1][0]."""
    inner_in = k.Input((4,), name="inner_in")
    head = k.Model(inner_in, k.layers.Dense(2, name="head_dense")(inner_in), name="head")
    a, b = k.Input((4,), name="a"), k.Input((4,), name="b")
    out = k.layers.Dense(1, name="o")(k.layers.add([head(a), head(b)], name="s"))
    return k.Model([a, b], out, name="m")


@pytest.mark.parametrize("columns", ["80", "200"])
@pytest.mark.parametrize("build", [_two_inputs_shared_layer, _inception, _chain, _residual,
                                   _shared_nested_model],
                         ids=["two_inputs_shared", "inception", "chain", "residual",
                              "shared_nested_model"])
def test_functional_summary_matches_keras(build, columns, monkeypatch):
    monkeypatch.setenv("COLUMNS", columns)
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert _summary(build(minikeras)) == _summary(build(keras))


@pytest.mark.parametrize("kwargs", [
    dict(show_trainable=True), dict(line_length=150), dict(layer_range=["d1", "cat"]),
    dict(positions=[0.25, 0.5, 0.7, 1.0]),
], ids=["show_trainable", "line_150", "layer_range", "positions"])
def test_functional_summary_options_match_keras(kwargs, monkeypatch):
    monkeypatch.setenv("COLUMNS", "160")
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert (_summary(_two_inputs_shared_layer(minikeras), **kwargs)
            == _summary(_two_inputs_shared_layer(keras), **kwargs))


def _nested(k):
    encoder = k.Sequential([k.Input((6,)), k.layers.Dense(4, name="enc_dense")],
                           name="encoder")
    encoder.layers[0].trainable = False
    inner_in = k.Input((4,), name="inner_in")
    head = k.Model(inner_in, k.layers.Dense(2, name="head_dense")(inner_in), name="head")
    left, right = k.Input((6,), name="left"), k.Input((6,), name="right")
    joined = k.layers.concatenate([encoder(left), encoder(right)], name="joined")
    out = head(k.layers.Dense(4, name="mix")(joined))
    return k.Model([left, right], out, name="siamese")


@pytest.mark.parametrize("expand_nested", [False, True])
def test_nested_models_summary_matches_keras(expand_nested, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert (_summary(_nested(minikeras), expand_nested=expand_nested, show_trainable=True)
            == _summary(_nested(keras), expand_nested=expand_nested, show_trainable=True))


def _sequential_in_sequential(k):
    inner = k.Sequential([k.Input((4,)), k.layers.Dense(3, name="in1"),
                          k.layers.Dense(2, name="in2")], name="inner")
    return k.Sequential([k.Input((4,)), inner, k.layers.Dense(1, name="out")], name="outer")


@pytest.mark.parametrize("expand_nested", [False, True])
def test_sequential_in_sequential_summary_matches_keras(expand_nested, monkeypatch):
    monkeypatch.setenv("COLUMNS", "120")
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    assert (_summary(_sequential_in_sequential(minikeras), expand_nested=expand_nested)
            == _summary(_sequential_in_sequential(keras), expand_nested=expand_nested))
