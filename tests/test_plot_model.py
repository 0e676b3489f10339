"""utils.plot_model: Keras's messages when pydot or Graphviz is missing."""

import sys
import types

import numpy as np
import pytest

import minikeras
from minikeras.utils import model_visualization


@pytest.fixture
def model():
    model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    model(np.zeros((1, 2)))
    return model


@pytest.fixture
def no_ipython(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)


def test_without_pydot_raises_keras_message(model, monkeypatch, no_ipython):
    monkeypatch.setitem(sys.modules, "pydot", None)     # makes `import pydot` fail
    with pytest.raises(ImportError) as error:
        minikeras.utils.plot_model(model, to_file="model.png")
    assert str(error.value) == (
        "You must install pydot (`pip install pydot`) for `plot_model` to work.")


def test_in_ipython_the_message_is_printed_instead(model, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "pydot", None)
    monkeypatch.setitem(sys.modules, "IPython.core.magics.namespace", types.ModuleType("x"))
    assert minikeras.utils.plot_model(model) is None
    assert "You must install pydot" in capsys.readouterr().out


def test_without_graphviz_raises_keras_message(model, monkeypatch, no_ipython):
    fake = types.ModuleType("pydot")

    class Dot:
        def create(self):
            raise OSError("dot not found")

    fake.Dot = Dot
    monkeypatch.setitem(sys.modules, "pydot", fake)
    with pytest.raises(ImportError, match="You must install graphviz"):
        minikeras.utils.plot_model(model)


def test_unbuilt_model_is_refused_first():
    model = minikeras.Sequential([minikeras.layers.Dense(1)])
    with pytest.raises(ValueError, match="This model has not yet been built"):
        model_visualization.plot_model(model)
