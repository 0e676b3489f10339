"""`keras.activations`: the built-in activation functions, by name and as objects."""

from minikeras.activations.activations import *  # noqa: F403
from minikeras.activations.activations import ALL_ACTIVATIONS
from minikeras.activations.base import ActivationFunction

_BY_NAME = {fn.__name__: fn for fn in ALL_ACTIVATIONS}
# Keras's aliases: the same objects under a second name (serialized under the first).
_BY_NAME["swish"] = _BY_NAME["silu"]
_BY_NAME["hard_swish"] = _BY_NAME["hard_silu"]


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
        raise TypeError(
            "minikeras computes gradients by hand, so an activation must be one of its "
            f"built-ins (given by name or as minikeras.activations.<name>). "
            f"Received: activation={identifier!r}"
        )
    raise TypeError(f"Could not interpret activation identifier: {identifier!r}")


def serialize(activation):
    """The name under which `get` finds the activation again."""
    return activation.__name__


def deserialize(config):
    return get(config)


__all__ = ["deserialize", "get", "serialize"] + sorted(_BY_NAME)
