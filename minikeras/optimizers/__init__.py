"""`keras.optimizers`: the optimizers, by class and by the names compile accepts."""

from minikeras.optimizers import schedules
from minikeras.optimizers.adam import Adam
from minikeras.optimizers.base_optimizer import Optimizer
from minikeras.optimizers.sgd import SGD

OPTIMIZER_CLASSES = {
    "sgd": SGD,
    "adam": Adam,
}


def get(identifier):
    """An Optimizer from a name ("adam"), a config dict, a class or an instance."""
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Optimizer):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        cls = OPTIMIZER_CLASSES.get(identifier.lower())
        if cls is None:
            raise ValueError(
                f"Could not interpret optimizer identifier: {identifier!r}. Valid names: "
                f"{sorted(OPTIMIZER_CLASSES)}"
            )
        return cls()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer):
    return {"class_name": type(optimizer).__name__, "config": optimizer.get_config()}


def deserialize(config):
    for cls in OPTIMIZER_CLASSES.values():
        if cls.__name__ == config["class_name"]:
            return cls.from_config(config.get("config", {}))
    raise ValueError(f"Unknown optimizer: {config['class_name']!r}")


__all__ = ["SGD", "Adam", "Optimizer", "deserialize", "get", "schedules", "serialize"]
