"""`keras.activations`: the built-in activation functions, by name and as objects."""

import numpy as np

from minikeras.activations.activations import *  # noqa: F403
from minikeras.activations.activations import ALL_ACTIVATIONS
from minikeras.activations.base import ActivationFunction

_BY_NAME = {fn.__name__: fn for fn in ALL_ACTIVATIONS}
# Keras's aliases: the same objects under a second name (serialized under the first).
_BY_NAME["swish"] = _BY_NAME["silu"]
_BY_NAME["hard_swish"] = _BY_NAME["hard_silu"]


class FunctionActivation(ActivationFunction):
    """An activation given as any function written with keras.ops (`Dense(8,
    activation=my_fn)`): forward runs it on the tape, backward walks what it recorded."""

    def __init__(self, function):
        self.function = function
        self.__name__ = getattr(function, "__name__", "activation")

    def __call__(self, x, *args, **kwargs):
        return self.function(x, *args, **kwargs)

    def forward(self, x, **kwargs):
        from minikeras.ops import tape

        with tape.Trace():
            tracked = tape.Tracked(x)
            y = self.function(tracked, **kwargs)
        return np.asarray(tape.unwrap(y)), (tracked, y)

    def backward(self, dy, cache):
        from minikeras.ops import tape

        tracked, y = cache
        dx = tape.gradients([(y, dy)], [tracked])[0]
        return np.zeros_like(tracked.value) if dx is None else dx


def get(identifier):
    """The activation for a name ("relu"), None (linear) or an ActivationFunction."""
    if identifier is None:
        return _BY_NAME["linear"]
    if isinstance(identifier, ActivationFunction):
        return identifier
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown activation function: {identifier!r}. "
                f"Valid names: {sorted(_BY_NAME)}"
            )
        return _BY_NAME[identifier]
    if isinstance(identifier, dict) and "config" in identifier:
        return get(identifier["config"])
    if callable(identifier):
        # A function written with keras.ops: its gradient comes from the tape.
        return FunctionActivation(identifier)
    raise TypeError(f"Could not interpret activation identifier: {identifier!r}")


def serialize(activation):
    """The name under which `get` finds the activation again."""
    return activation.__name__


def deserialize(config):
    return get(config)


__all__ = ["deserialize", "get", "serialize"] + sorted(_BY_NAME)
