"""utils.plot_model / model_to_dot: real drawings with pydot and Graphviz's `dot`, the file
formats chosen by extension, argument errors, and Keras's messages when pydot or Graphviz is
missing. (compat_tests/test_plot_model_compat.py compares the graphs with Keras's.)"""

import re
import struct
import sys
import types

import numpy as np
import pydot
import pytest

import minikeras
from minikeras.utils import model_visualization


@pytest.fixture
def model():
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model(np.zeros((1, 2)))
    return model


@pytest.fixture(scope="module")
def mlp():
    return minikeras.Sequential([minikeras.Input((4,), name="x"),
                                 minikeras.layers.Dense(8, activation="relu", name="hidden"),
                                 minikeras.layers.Dense(3, activation="softmax", name="probs")])


@pytest.fixture
def no_ipython(monkeypatch):
    # Importing IPython.display (plot_model does, to return the image) loads this module,
    # after which Keras, and minikeras, print the messages instead of raising.
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)


def _png_size(path):
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height, len(data)


# ------------------------------------------------------------------------------ drawing

def test_png_is_a_real_png_of_plausible_size(mlp, tmp_path):
    path = tmp_path / "mlp.png"
    minikeras.utils.plot_model(mlp, to_file=path, show_shapes=True)
    width, height, size = _png_size(path)
    # Two wide boxes (the shapes side by side), one above the other, at 200 dpi.
    assert 500 < width < 3000 and 400 < height < width
    assert 5_000 < size < 500_000


def test_rankdir_and_dpi_change_the_picture(mlp, tmp_path):
    minikeras.utils.plot_model(mlp, to_file=tmp_path / "tb.png")
    minikeras.utils.plot_model(mlp, to_file=tmp_path / "lr.png", rankdir="LR")
    minikeras.utils.plot_model(mlp, to_file=tmp_path / "small.png", dpi=100)
    tb_width, tb_height, _ = _png_size(tmp_path / "tb.png")
    lr_width, lr_height, _ = _png_size(tmp_path / "lr.png")
    small_width, small_height, _ = _png_size(tmp_path / "small.png")
    assert tb_height > tb_width and lr_width > lr_height
    assert small_width == pytest.approx(tb_width / 2, abs=2)
    assert small_height == pytest.approx(tb_height / 2, abs=2)


@pytest.mark.parametrize("name, start", [("m.svg", b"<?xml"), ("m.pdf", b"%PDF"),
                                         ("m.dot", b"digraph"), ("m.jpg", b"\xff\xd8\xff"),
                                         ("m.gif", b"GIF8"), ("no_extension", b"\x89PNG")])
def test_format_follows_the_extension(mlp, tmp_path, name, start):
    minikeras.utils.plot_model(mlp, to_file=str(tmp_path / name))
    assert (tmp_path / name).read_bytes().startswith(start)


def test_svg_shows_the_labels(mlp, tmp_path):
    minikeras.utils.plot_model(mlp, to_file=tmp_path / "m.svg", show_shapes=True,
                               show_layer_names=True, show_layer_activations=True,
                               show_trainable=True, show_dtype=True)
    svg = (tmp_path / "m.svg").read_text()
    for text in ("hidden", "(Dense)", "Activation: ", "relu", "softmax", "Input shape: ",
                 "(None, 4)", "(None, 8)", "(None, 3)", "Output dtype: ", "float32",
                 "Trainable"):
        assert text in svg
    assert "InputLayer" not in svg       # a Sequential's Input has no box, as in Keras


def test_returns_an_ipython_image_it_can_show(mlp, tmp_path, monkeypatch):
    shown = []
    display = types.ModuleType("IPython.display")
    display.Image = lambda filename, format: shown.append((filename, format)) or "image"
    ipython = types.ModuleType("IPython")
    ipython.display = display
    monkeypatch.setitem(sys.modules, "IPython", ipython)
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    assert minikeras.utils.plot_model(mlp, to_file=tmp_path / "m.jpg") == "image"
    assert shown == [(str(tmp_path / "m.jpg"), "jpeg")]
    # Keras raises after writing an SVG here (IPython cannot embed it); the file is enough.
    assert minikeras.utils.plot_model(mlp, to_file=tmp_path / "m.svg") is None
    monkeypatch.setitem(sys.modules, "IPython", None)
    assert minikeras.utils.plot_model(mlp, to_file=tmp_path / "m.png") is None
    assert (tmp_path / "m.png").exists()


def test_model_to_dot_graph(mlp):
    dot = minikeras.utils.model_to_dot(mlp, rankdir="LR", dpi=72)
    assert isinstance(dot, pydot.Dot)
    assert dot.get("rankdir") == "LR" and dot.get("dpi") == 72
    names = {node.get_name(): node.get("label") for node in dot.get_nodes()
             if node.get_name() != "node"}
    hidden, probs = (str(id(layer)) for layer in mlp.layers)
    assert set(names) == {hidden, probs}
    assert "<b>hidden</b> (Dense)" in names[hidden]      # names shown by default here
    assert [(e.get_source(), e.get_destination()) for e in dot.get_edges()] == [(hidden, probs)]


def test_subclassed_model_is_one_box():
    class Tiny(minikeras.Model):
        def __init__(self):
            super().__init__(name="tiny")
            self.dense = minikeras.layers.Dense(2)

        def call(self, x):
            return self.dense(x)

    tiny = Tiny()
    tiny(np.zeros((1, 3), "float32"))
    dot = minikeras.utils.model_to_dot(tiny, show_shapes=True)
    (node,) = [n for n in dot.get_nodes() if n.get_name() != "node"]
    assert node.get_name() == str(id(tiny)) and "<b>tiny</b> (Tiny)" in node.get("label")
    assert "Input shape: <b>?</b>" in node.get("label") and dot.get_edges() == []


def test_frozen_layer_is_marked_non_trainable():
    x = minikeras.Input((3,), name="x")
    frozen = minikeras.layers.Dense(2, name="frozen", trainable=False)
    model = minikeras.Model(x, minikeras.layers.Dense(1, name="free")(frozen(x)))
    dot = minikeras.utils.model_to_dot(model, show_trainable=True)
    labels = {node.get_name(): node.get("label") for node in dot.get_nodes()}
    assert "Non-trainable" in labels[str(id(frozen))]
    assert "Trainable" in labels[str(id(model.get_layer("free")))]
    assert "rainable" not in labels[str(id(model.get_layer("x")))]     # no weights


def test_an_older_pydot_fork_is_used_when_pydot_is_missing(mlp, monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    monkeypatch.setitem(sys.modules, "pydot_ng", pydot)
    assert isinstance(minikeras.utils.model_to_dot(mlp), pydot.Dot)


# -------------------------------------------------------------------- argument errors

def test_unknown_extension_is_refused_before_writing(mlp, tmp_path):
    with pytest.raises(ValueError, match=r"Expected `to_file` to end with an image format "
                                         r".*Received: to_file='.*m\.xyz'"):
        minikeras.utils.plot_model(mlp, to_file=tmp_path / "m.xyz")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("function", ["plot_model", "model_to_dot"])
def test_keyword_errors_as_keras(mlp, function):
    draw = getattr(minikeras.utils, function)
    with pytest.raises(ValueError, match="Argument `layer_range` is no longer supported."):
        draw(mlp, layer_range=["hidden", "probs"])
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments: \{'colour': 1\}"):
        draw(mlp, colour=1)


@pytest.mark.parametrize("function", ["plot_model", "model_to_dot"])
def test_unbuilt_model_is_refused_first(function, monkeypatch):
    monkeypatch.setitem(sys.modules, "pydot", None)
    model = minikeras.Sequential([minikeras.layers.Dense(1)])
    with pytest.raises(ValueError, match="This model has not yet been built"):
        getattr(model_visualization, function)(model)


# --------------------------------------------------------- missing optional dependencies

def test_without_pydot_raises_keras_message(model, monkeypatch, no_ipython):
    monkeypatch.setitem(sys.modules, "pydot", None)     # makes `import pydot` fail
    monkeypatch.setitem(sys.modules, "pydot_ng", None)
    monkeypatch.setitem(sys.modules, "pydotplus", None)
    with pytest.raises(ImportError) as error:
        minikeras.utils.plot_model(model, to_file="model.png")
    assert str(error.value) == (
        "You must install pydot (`pip install pydot`) for `plot_model` to work.")
    with pytest.raises(ImportError) as error:
        minikeras.utils.model_to_dot(model)
    assert str(error.value) == (
        "You must install pydot (`pip install pydot`) for model_to_dot to work.")


def test_in_ipython_the_message_is_printed_instead(model, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pydot", None)
    monkeypatch.setitem(sys.modules, "pydot_ng", None)
    monkeypatch.setitem(sys.modules, "pydotplus", None)
    monkeypatch.setitem(sys.modules, "IPython.core.magics.namespace", types.ModuleType("x"))
    assert minikeras.utils.plot_model(model) is None
    assert "You must install pydot" in capsys.readouterr().out


def test_without_graphviz_raises_keras_message(model, monkeypatch, no_ipython, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))       # real pydot, no `dot` program to run
    with pytest.raises(ImportError) as error:
        minikeras.utils.plot_model(model, to_file=tmp_path / "model.png")
    assert str(error.value) == (
        "You must install graphviz (see instructions at https://graphviz.gitlab.io/download/) "
        "for `plot_model` to work.")
    assert list(tmp_path.iterdir()) == []


def test_graphviz_failing_as_pydot_reports_it(model, monkeypatch, no_ipython):
    fake = types.ModuleType("pydot")

    class Dot:
        def create(self):
            raise OSError("dot not found")

    fake.Dot = Dot
    monkeypatch.setitem(sys.modules, "pydot", fake)
    with pytest.raises(ImportError, match="You must install graphviz"):
        minikeras.utils.plot_model(model)


def test_plot_and_test_extras_bring_pydot():
    """README: `pip install "minikeras[plot]"` brings what plot_model needs from PyPI."""
    from importlib.metadata import requires

    extras = set()
    for requirement in requires("minikeras"):
        match = re.fullmatch(r"""(\w+)\s*;\s*extra\s*==\s*["'](\w+)["']""", requirement)
        if match:
            extras.add(match.groups())
    assert {("pydot", "plot"), ("pydot", "test"), ("matplotlib", "plot")} <= extras
