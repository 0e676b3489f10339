"""utils.plot_model / model_to_dot against Keras's: the same DOT graph for the same model (boxes,
labels, arrows, clusters, graph settings, in the same order), the same image size, and the
same messages when pydot or Graphviz is missing.

Keras names each box after `id(layer)`, so the two graphs are compared after replacing every
id by the layer's name (each case names all its layers and models).
"""

import re
import struct
import sys

import keras
import numpy as np
import pytest

import minikeras
from minikeras.utils import model_visualization

ENGINES = {"keras": keras, "minikeras": minikeras}


def build(K, case):
    """The model `case`, built with the engine module K (keras or minikeras)."""
    L = K.layers
    if case == "sequential":
        return K.Sequential([K.Input((4,), name="x"), L.Dense(8, activation="relu", name="d1"),
                             L.Dropout(0.1, name="drop"),
                             L.Dense(1, activation="sigmoid", name="out")], name="seq")
    if case == "fan_out_and_merges":
        x = K.Input((4,), name="x")
        a = L.Dense(3, name="a")(x)
        b = L.Dense(3, activation="tanh", name="b")(x)
        total = L.Add(name="add")([a, b])
        joined = L.Concatenate(name="cat")([total, x])
        model = K.Model(x, [L.Dense(1, name="o1")(joined), L.Dense(2, name="o2")(total)],
                        name="fan")
        model.get_layer("a").trainable = False
        return model
    if case == "dict_inputs":
        a = K.Input((3,), name="a")
        b = K.Input((2,), name="b")
        joined = L.Concatenate(name="cat")([a, b])
        return K.Model({"a": a, "b": b}, L.Dense(1, name="o")(joined), name="dict_in")
    if case == "shared_layer":
        x1 = K.Input((4,), name="x1")
        x2 = K.Input((4,), name="x2")
        shared = L.Dense(3, name="shared")
        return K.Model([x1, x2], L.Subtract(name="sub")([shared(x1), shared(x2)]), name="sh")
    if case == "layer_shared_with_another_model":
        dense = L.Dense(2, name="d")
        a = K.Input((3,), name="a")
        K.Model(a, dense(a), name="other")
        b = K.Input((3,), name="b")
        return K.Model(b, L.Dense(1, name="o")(dense(b)), name="mine")
    if case == "attention_and_states":
        q = K.Input((4, 8), name="q")
        v = K.Input((5, 8), name="v")
        attended = L.MultiHeadAttention(2, 4, name="mha")(q, v)
        out, h, c = L.LSTM(8, return_state=True, name="lstm")(attended)
        return K.Model([q, v], L.Add(name="add")([out, h, c]), name="att")
    if case == "nested":
        ix = K.Input((3,), name="ix")
        inner = K.Model(ix, L.Dense(5, activation="relu", name="inner_d")(ix), name="inner_func")
        seq = K.Sequential([K.Input((4,), name="sx"), L.Dense(3, name="seq_d1"),
                            L.Dense(3, name="seq_d2")], name="inner_seq")
        deep = K.Sequential([K.Input((5,), name="dx"), L.Dense(2, name="deep_d")], name="deep")
        iy = K.Input((5,), name="iy")
        mid = K.Model(iy, deep(iy), name="mid")
        x = K.Input((4,), name="x")
        h = inner(seq(x))
        joined = L.Concatenate(name="cat")([h, mid(h)])
        return K.Model(x, L.Dense(1, name="out")(joined), name="outer")
    if case == "shared_nested_model":
        ix = K.Input((3,), name="ix")
        encoder = K.Model(ix, L.Dense(2, name="enc_d")(ix), name="enc")
        a = K.Input((3,), name="a")
        b = K.Input((3,), name="b")
        return K.Model([a, b], L.Dot(axes=1, name="dot")([encoder(a), encoder(b)]),
                       name="siamese")
    if case == "sequential_in_sequential":
        inner = K.Sequential([K.Input((4,), name="ii"), L.Dense(3, name="i1"),
                              L.Dense(3, name="i2")], name="inner")
        mid = K.Sequential([K.Input((4,), name="mi"), inner, L.Dense(2, name="m1")], name="mid")
        return K.Sequential([K.Input((4,), name="oi"), mid, L.Dense(1, name="o1")],
                            name="outer")
    if case == "convnet":
        return K.Sequential([K.Input((8, 8, 1), name="img"),
                             L.Conv2D(2, 3, activation="relu", name="conv"),
                             L.BatchNormalization(name="bn"), L.Flatten(name="flat"),
                             L.Dense(3, activation="softmax", name="sm")], name="cnn")
    if case == "subclassed":
        class TwoLayer(K.Model):
            def __init__(self):
                super().__init__(name="two_layer")
                self.d1 = L.Dense(3, activation="relu", name="d1")
                self.d2 = L.Dense(1, name="d2")

            def call(self, x):
                return self.d2(self.d1(x))

        model = TwoLayer()
        model(np.zeros((2, 4), "float32"))
        return model
    raise AssertionError(case)


CASES = ["sequential", "fan_out_and_merges", "dict_inputs", "shared_layer",
         "layer_shared_with_another_model", "attention_and_states", "nested",
         "shared_nested_model", "sequential_in_sequential", "convnet", "subclassed"]
EVERYTHING = {"show_shapes": True, "show_dtype": True, "show_layer_activations": True,
              "show_trainable": True}
OPTIONS = {
    "defaults": {},
    "everything_shown": EVERYTHING,
    "expanded_LR": {**EVERYTHING, "expand_nested": True, "rankdir": "LR", "dpi": 96,
                    "show_layer_names": False, "splines": "polyline"},
}


@pytest.fixture(scope="module", params=CASES)
def models(request):
    return {name: build(K, request.param) for name, K in ENGINES.items()}


def _names_by_id(model, names):
    """{str(id(layer)): layer.name} for the model, its layers, nested models' layers and
    their InputLayers."""
    names[str(id(model))] = model.name
    for layer in getattr(model, "layers", []):
        names[str(id(layer))] = layer.name
        if isinstance(layer, (keras.Model, minikeras.Model)):
            _names_by_id(layer, names)
    for tensor in getattr(model, "inputs", None) or []:
        layer = tensor._keras_history[0]
        names[str(id(layer))] = layer.name
    return names


def dot_text(engine, model, **options):
    """model_to_dot's DOT source, with each box's id replaced by its layer's name."""
    text = ENGINES[engine].utils.model_to_dot(model, **options).to_string()
    names = _names_by_id(model, {})
    return re.sub(r"\b\d{6,}\b", lambda match: names[match.group(0)], text)


@pytest.mark.parametrize("option", OPTIONS)
def test_model_to_dot_is_keras_graph(models, option):
    theirs = dot_text("keras", models["keras"], **OPTIONS[option])
    ours = dot_text("minikeras", models["minikeras"], **OPTIONS[option])
    assert ours == theirs
    assert "->" in ours or models["minikeras"].name == "two_layer"


def test_nested_graph_has_clusters_and_arrows_through_them():
    """What the comparison above covers, stated once: the expanded nested model."""
    model = build(minikeras, "nested")
    text = dot_text("minikeras", model, expand_nested=True)
    for cluster in ("inner_seq", "inner_func", "mid", "deep"):
        assert f"subgraph cluster_{cluster} {{" in text
    for arrow in ("x -> seq_d1", "seq_d2 -> ix", "inner_d -> iy", "deep_d -> cat",
                  "inner_d -> cat", "cat -> out"):
        assert arrow + " [penwidth=2];" in text
    collapsed = dot_text("minikeras", model)
    assert "cluster" not in collapsed and "x -> inner_seq" in collapsed


def _png_size(path):
    with open(path, "rb") as file:
        header = file.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n" and header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


@pytest.mark.parametrize("case", ["fan_out_and_merges", "nested"])
def test_png_has_keras_size(tmp_path, case):
    sizes = {}
    for name, K in ENGINES.items():
        path = tmp_path / f"{name}.png"
        K.utils.plot_model(build(K, case), to_file=path, show_shapes=True, expand_nested=True)
        sizes[name] = _png_size(path)
    assert sizes["minikeras"] == sizes["keras"]
    width, height = sizes["minikeras"]
    assert width > 300 and height > 1000        # several boxes at 200 dpi, top to bottom


# -------------------------------------------------------- missing optional dependencies

@pytest.fixture
def no_ipython(monkeypatch):
    # Once IPython.display is imported (plot_model does it), both libraries print the
    # message instead of raising, as they do in a notebook.
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)


@pytest.fixture
def no_pydot(monkeypatch, no_ipython):
    from keras.src.utils import model_visualization as keras_visualization

    monkeypatch.setattr(keras_visualization, "pydot", None)     # Keras imported it at start
    monkeypatch.setitem(sys.modules, "pydot", None)             # makes `import pydot` fail
    for fork in ("pydot_ng", "pydotplus"):
        monkeypatch.setitem(sys.modules, fork, None)


def _messages(call):
    received = {}
    for name, K in ENGINES.items():
        model = build(K, "sequential")
        with pytest.raises(ImportError) as error:
            call(K, model)
        received[name] = str(error.value)
    return received


def test_missing_pydot_message_matches_keras(no_pydot):
    messages = _messages(lambda K, model: K.utils.plot_model(model))
    assert messages["minikeras"] == messages["keras"] == model_visualization.PYDOT_MESSAGE


def test_missing_pydot_in_model_to_dot_matches_keras(no_pydot):
    messages = _messages(lambda K, model: K.utils.model_to_dot(model))
    assert messages["minikeras"] == messages["keras"]
    assert "model_to_dot" in messages["minikeras"]


def test_missing_graphviz_message_matches_keras(monkeypatch, no_ipython, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))       # no `dot` program to find
    messages = _messages(lambda K, model: K.utils.plot_model(model, to_file=tmp_path / "m.png"))
    assert messages["minikeras"] == messages["keras"] == model_visualization.GRAPHVIZ_MESSAGE
    assert list(tmp_path.iterdir()) == []
