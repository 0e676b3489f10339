"""`keras.losses`: loss functions, loss classes, and the names `compile` accepts."""

from minikeras.losses.loss import Loss, LossFunctionWrapper, reduce_weighted_values  # noqa: F401
from minikeras.losses.losses import *  # noqa: F403
from minikeras.losses.losses import (  # noqa: F401  (tf.keras's legacy short names)
    ALIASES,
    BCE,
    KLD,
    LOSS_CLASSES,
    LOSS_FUNCTIONS,
    MAE,
    MAPE,
    MSE,
    MSLE,
    bce,
    kld,
    kullback_leibler_divergence,
    logcosh,
    mae,
    mape,
    mse,
    msle,
)
from minikeras.losses.losses import __all__ as _LOSS_NAMES

_CLASSES_BY_NAME = {cls.__name__: cls for cls in LOSS_CLASSES.values()}


def get(identifier):
    """A Loss instance from a name ("mse", "mean_squared_error", "MeanSquaredError"), a Keras
    loss function, a Loss class or instance, or a config dict {"class_name", "config"}."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Loss):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        name = ALIASES.get(identifier, identifier)
        if name in LOSS_CLASSES:
            return LOSS_CLASSES[name]()
        if name in _CLASSES_BY_NAME:
            return _CLASSES_BY_NAME[name]()
        raise ValueError(
            f"Could not interpret loss identifier: {identifier!r}. Valid names: "
            f"{sorted(set(LOSS_CLASSES) | set(ALIASES) | set(_CLASSES_BY_NAME))}"
        )
    if callable(identifier) and identifier in LOSS_FUNCTIONS:
        return LOSS_CLASSES[LOSS_FUNCTIONS[identifier]]()
    if callable(identifier):
        # A function written with keras.ops: its gradient comes from the tape.
        return LossFunctionWrapper(identifier)
    raise ValueError(f"Could not interpret loss identifier: {identifier!r}")


def serialize(loss):
    """{"class_name": ..., "config": ...}, which `deserialize` and `get` turn back into it."""
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def deserialize(config):
    """A Loss from `serialize`'s dict (or a name)."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"Could not interpret loss config: {config!r}")
    if config["class_name"] == "function":            # Keras's form for a loss function
        return get(config.get("config"))
    cls = _CLASSES_BY_NAME.get(config["class_name"])
    if cls is not None:
        return cls.from_config(config.get("config") or {})
    return get(config["class_name"])


__all__ = ["Loss", "deserialize", "get", "reduce_weighted_values", "serialize"] + _LOSS_NAMES
