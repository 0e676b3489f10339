"""`keras.losses`: loss functions, loss classes, and the names `compile` accepts."""

from minikeras.losses.loss import Loss, reduce_weighted_values
from minikeras.losses.losses import *  # noqa: F403
from minikeras.losses.losses import ALIASES, LOSS_CLASSES, LOSS_FUNCTIONS


def get(identifier):
    """A Loss instance from a name ("mse"), a Keras loss function, a config dict or a Loss."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        name = ALIASES.get(identifier, ALIASES.get(identifier.lower(), identifier))
        if name in LOSS_CLASSES:
            return LOSS_CLASSES[name]()
        for cls in LOSS_CLASSES.values():
            if cls.__name__ == identifier:
                return cls()
        raise ValueError(
            f"Could not interpret loss identifier: {identifier!r}. Valid names: "
            f"{sorted(set(LOSS_CLASSES) | set(ALIASES))}"
        )
    if callable(identifier) and identifier in LOSS_FUNCTIONS:
        return LOSS_CLASSES[LOSS_FUNCTIONS[identifier]]()
    if callable(identifier):
        raise TypeError(
            "minikeras computes gradients by hand, so a loss must be one of its built-ins "
            f"(a name, a minikeras.losses function or a Loss subclass with forward/backward). "
            f"Received: loss={identifier!r}"
        )
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    for cls in LOSS_CLASSES.values():
        if cls.__name__ == config["class_name"]:
            return cls.from_config(config.get("config", {}))
    return get(config["class_name"])


__all__ = ["Loss", "deserialize", "get", "reduce_weighted_values", "serialize"] + sorted(
    [cls.__name__ for cls in LOSS_CLASSES.values()] + list(LOSS_CLASSES) + list(ALIASES)
)
