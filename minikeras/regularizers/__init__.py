"""`keras.regularizers`: penalties on weights (or layer outputs) added to the loss.

Each regularizer gives the penalty, `reg(w) -> float`, and its gradient, `reg.gradient(w)`, which
the training step adds to the weight's gradient.
"""

import numpy as np

from minikeras import backend


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


class OrthogonalRegularizer(Regularizer):
    """Pushes the rows (mode="rows") or columns (mode="columns") of a 2-D weight towards
    mutual orthogonality.

    With U the weight's rows scaled to unit length (n rows) and P = U @ U.T:
        penalty = factor * 0.5 * sum(|P_ij|, i != j) / (n * (n - 1) / 2)
    """

    def __init__(self, factor=0.01, mode="rows"):
        self.factor = _check_factor("factor", factor)
        if mode not in ("rows", "columns"):
            raise ValueError(
                f"`mode` must be 'rows' or 'columns'. Received: mode={mode!r}"
            )
        self.mode = mode

    def _rows(self, x):
        if np.ndim(x) != 2:
            raise ValueError(
                "Inputs to OrthogonalRegularizer must have rank 2. "
                f"Received: inputs.shape={np.shape(x)}"
            )
        return x if self.mode == "rows" else x.T

    @staticmethod
    def _unit_rows(w):
        """(U, inv_norm): rows of w scaled to unit length (the scale capped at 1/epsilon)."""
        inv_norm = np.minimum(1.0 / np.sqrt(np.sum(np.square(w), axis=1, keepdims=True)),
                              1.0 / backend.epsilon())
        return w * inv_norm, inv_norm

    def __call__(self, x):
        w = self._rows(x)
        n = w.shape[0]
        u, _ = self._unit_rows(w)
        off_diagonal = (u @ u.T) * (1.0 - np.eye(n, dtype=w.dtype))
        return self.factor * 0.5 * np.sum(np.abs(off_diagonal)) / (n * (n - 1) / 2.0)

    def gradient(self, x):
        w = self._rows(x)
        n = w.shape[0]
        u, inv_norm = self._unit_rows(w)
        dp = np.sign(u @ u.T) * (1.0 - np.eye(n, dtype=w.dtype))
        dp *= self.factor * 0.5 / (n * (n - 1) / 2.0)        # d penalty / d P
        du = (dp + dp.T) @ u                                 # P = U U^T
        # U_i = W_i / |W_i|: remove the radial part, divide by the norm (none when capped).
        radial = np.sum(u * du, axis=1, keepdims=True) * u
        capped = inv_norm >= 1.0 / backend.epsilon()
        dw = np.where(capped, du, du - radial) * inv_norm
        dw = dw.astype(x.dtype, copy=False)
        return dw if self.mode == "rows" else dw.T

    def get_config(self):
        return {"factor": self.factor, "mode": self.mode}


def l1_l2(l1=0.01, l2=0.01):
    """Keras's shortcut: both penalties, each 0.01 by default."""
    return L1L2(l1=l1, l2=l2)


l1 = L1
l2 = L2
orthogonal_regularizer = OrthogonalRegularizer

_BY_NAME = {"l1": L1, "l2": L2, "l1_l2": L1L2, "L1": L1, "L2": L2, "L1L2": L1L2,
            "orthogonal_regularizer": OrthogonalRegularizer,
            "OrthogonalRegularizer": OrthogonalRegularizer}


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
                f"Unknown regularizer: {identifier!r}. Valid names: "
                "['l1', 'l1_l2', 'l2', 'orthogonal_regularizer']"
            )
        return _BY_NAME[identifier]()
    raise TypeError(
        "A regularizer must be a minikeras.regularizers.Regularizer (its gradient is needed) "
        f"or a name. Received: {identifier!r}"
    )


__all__ = ["L1", "L1L2", "L2", "OrthogonalRegularizer", "Regularizer", "deserialize", "get",
           "l1", "l1_l2", "l2", "orthogonal_regularizer", "serialize"]
