"""utils.plot_model without pydot: the same error as Keras's, word for word."""

import sys

import keras
import numpy as np
import pytest

import minikeras


def test_missing_pydot_message_matches_keras(monkeypatch):
    monkeypatch.delitem(sys.modules, "IPython.core.magics.namespace", raising=False)
    monkeypatch.setitem(sys.modules, "pydot", None)
    theirs = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    ours = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
    ours(np.zeros((1, 2)))
    with pytest.raises(ImportError) as expected:
        keras.utils.plot_model(theirs)
    with pytest.raises(ImportError) as received:
        minikeras.utils.plot_model(ours)
    assert str(received.value) == str(expected.value)
