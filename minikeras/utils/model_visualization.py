"""`keras.utils.plot_model`: minikeras does not draw models.

Keras draws a model with pydot and Graphviz, two optional dependencies. minikeras depends on
NumPy only, so a script calling plot_model gets what Keras gives it when those are missing:
Keras's own messages, raised as ImportError (or printed, in an IPython session, where Keras
prints instead of raising so that a notebook keeps running). With both installed, minikeras
says plainly that it does not draw, rather than writing nothing.
"""

import importlib
import sys

PYDOT_MESSAGE = "You must install pydot (`pip install pydot`) for `plot_model` to work."
GRAPHVIZ_MESSAGE = ("You must install graphviz (see instructions at "
                    "https://graphviz.gitlab.io/download/) for `plot_model` to work.")


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, **kwargs):
    """Keras's signature. Raises Keras's messages when pydot or Graphviz is missing."""
    if not getattr(model, "built", False):
        raise ValueError(
            "This model has not yet been built. Build the model first by calling `build()` "
            "or by calling the model on a batch of data."
        )
    pydot = _import_pydot()
    if pydot is None:
        return _missing(PYDOT_MESSAGE)
    if not _graphviz_works(pydot):
        return _missing(GRAPHVIZ_MESSAGE)
    raise NotImplementedError(
        "minikeras does not draw models: `plot_model` is Keras's (pydot and Graphviz are "
        f"installed, but minikeras has no drawing code). Received: to_file={to_file!r}"
    )


def _import_pydot():
    try:
        return importlib.import_module("pydot")
    except ImportError:
        return None


def _graphviz_works(pydot):
    """Keras's test: pydot can render an empty graph (it runs Graphviz's `dot`)."""
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, getattr(pydot, "PydotException", OSError)):
        return False


def _missing(message):
    if "IPython.core.magics.namespace" in sys.modules:
        print(message)
        return None
    raise ImportError(message)
