"""`keras.optimizers`: the optimizers, by class and by the names compile accepts."""

from minikeras.optimizers import schedules
from minikeras.optimizers.adadelta import Adadelta
from minikeras.optimizers.adafactor import Adafactor
from minikeras.optimizers.adagrad import Adagrad
from minikeras.optimizers.adam import Adam
from minikeras.optimizers.adamax import Adamax
from minikeras.optimizers.adamw import AdamW
from minikeras.optimizers.base_optimizer import Optimizer
from minikeras.optimizers.ftrl import Ftrl
from minikeras.optimizers.lamb import Lamb
from minikeras.optimizers.lion import Lion
from minikeras.optimizers.nadam import Nadam
from minikeras.optimizers.rmsprop import RMSprop
from minikeras.optimizers.sgd import SGD

# Keras looks names up by the lower-cased class name, so "adam", "Adam" and "ADAM" all work,
# but "rms_prop" or "adam_w" do not. (Keras's `get` does not know "lamb"; minikeras's does.)
OPTIMIZER_CLASSES = {
    cls.__name__.lower(): cls
    for cls in (SGD, RMSprop, Adagrad, Adadelta, Adam, AdamW, Adamax, Nadam, Ftrl, Lion,
                Adafactor, Lamb)
}


def get(identifier):
    """An Optimizer from a name ("adam", any case), a config dict (as `serialize` writes
    it), or an Optimizer instance (returned as is). None gives None."""
    if identifier is None:
        return None
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return deserialize({"class_name": identifier, "config": {}})
    raise ValueError(f"Could not interpret optimizer identifier: {identifier!r}")


def serialize(optimizer):
    """The optimizer as Keras writes it in a config."""
    return {"module": "keras.optimizers", "class_name": type(optimizer).__name__,
            "config": optimizer.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The optimizer described by `serialize`'s dict. Built-in class names are matched
    whatever their case; other names must be in `custom_objects`."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with a 'class_name' key describing an optimizer. "
            f"Received: config={config!r}"
        )
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or OPTIMIZER_CLASSES.get(class_name.lower())
    if cls is None:
        raise ValueError(
            f"Could not interpret optimizer identifier: {class_name!r}. Valid names: "
            f"{sorted(OPTIMIZER_CLASSES)}"
        )
    return cls.from_config(dict(config.get("config") or {}), custom_objects=custom_objects)


__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]
