"""`keras.regularizers`: penalties on weights (or layer outputs) added to the loss.

Each regularizer gives the penalty, `reg(w) -> float`, and its gradient, `reg.gradient(w)`, which
the training step adds to the weight's gradient.
"""

import numpy as np


class Regularizer:
    """Base class: subclasses implement `__call__`, `gradient` and `get_config`."""

    def __call__(self, x):
        return 0.0

    def gradient(self, x):
        return np.zeros_like(x)

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_factor(name, value):
    if value is None:
        value = 0.0
    if not isinstance(value, (int, float, np.floating, np.integer)) or value < 0:
        raise ValueError(
            f"`{name}` must be a non-negative number. Received: {name}={value!r}"
        )
    return float(value)


class L1L2(Regularizer):
    """penalty = l1 * sum(|w|) + l2 * sum(w^2); gradient = l1 * sign(w) + 2 * l2 * w."""

    def __init__(self, l1=0.0, l2=0.0):
        self.l1 = _check_factor("l1", l1)
        self.l2 = _check_factor("l2", l2)

    def __call__(self, x):
        penalty = 0.0
        if self.l1:
            penalty += self.l1 * np.sum(np.abs(x))
        if self.l2:
            penalty += self.l2 * np.sum(np.square(x))
        return penalty

    def gradient(self, x):
        grad = np.zeros_like(x)
        if self.l1:
            grad = grad + self.l1 * np.sign(x)
        if self.l2:
            grad = grad + 2.0 * self.l2 * x
        return grad.astype(x.dtype, copy=False)

    def get_config(self):
        return {"l1": self.l1, "l2": self.l2}


class L1(L1L2):
    """penalty = l1 * sum(|w|)."""

    def __init__(self, l1=0.01):
        super().__init__(l1=l1, l2=0.0)

    def get_config(self):
        return {"l1": self.l1}


class L2(L1L2):
    """penalty = l2 * sum(w^2)."""

    def __init__(self, l2=0.01):
        super().__init__(l1=0.0, l2=l2)

    def get_config(self):
        return {"l2": self.l2}


def l1_l2(l1=0.01, l2=0.01):
    """Keras's shortcut: both penalties, each 0.01 by default."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2}


def serialize(regularizer):
    return {"class_name": type(regularizer).__name__, "config": regularizer.get_config()}


def deserialize(config):
    cls = _BY_NAME.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown regularizer: {config['class_name']!r}")
    return cls.from_config(config.get("config", {}))


def get(identifier):
    """A regularizer from None, a name ("l2"), a config dict or an instance."""
    if identifier is None:
        return None
    if isinstance(identifier, Regularizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier not in _BY_NAME:
            raise ValueError(
                f"Unknown regularizer: {identifier!r}. Valid names: ['l1', 'l2', 'l1_l2']"
            )
        return _BY_NAME[identifier]()
    raise TypeError(
        "A regularizer must be a minikeras.regularizers.Regularizer (its gradient is needed) "
        f"or a name. Received: {identifier!r}"
    )


__all__ = ["L1", "L1L2", "L2", "Regularizer", "deserialize", "get", "l1", "l1_l2", "l2",
           "serialize"]
