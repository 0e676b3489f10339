"""Overlap losses for segmentation masks: Dice and Tversky.

Notation: y = y_true (0/1 masks), p = y_pred (probabilities), sums taken over `axis` (None:
every entry of the batch, which gives one value for the whole batch, as in Keras).
"""

import numpy as np

from minikeras import backend
from minikeras.losses.loss import Loss, check_same_shape, squeeze_or_expand


def _check_axis(axis):
    if axis is None:
        return None
    if isinstance(axis, (list, tuple)) and all(isinstance(a, int) and not isinstance(a, bool)
                                               for a in axis):
        return tuple(axis)
    if isinstance(axis, int) and not isinstance(axis, bool):
        return axis
    raise ValueError(f"`axis` must be None, an integer or a tuple of integers. "
                     f"Received: axis={axis!r}")


class Dice(Loss):
    """values = 1 - 2 I / (sum(y) + sum(p) + eps), with I = sum(y p) over `axis`.

    With S = sum(y) + sum(p) + eps: dL/dp = -2 y / S + 2 I / S^2.

    Args:
        axis: the axes summed over (None: all, one value for the batch).
    """

    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        axis = self.axis
        intersection = np.sum(y_true * y_pred, axis=axis, keepdims=True)
        total = (np.sum(y_true, axis=axis, keepdims=True) + np.sum(y_pred, axis=axis,
                                                                   keepdims=True)
                 + backend.epsilon())
        values = 1.0 - 2.0 * intersection / total
        dpred = -2.0 * y_true / total + 2.0 * intersection / (total * total)
        return _drop_kept_axes(values, axis), (dpred.astype(y_pred.dtype), reshaped)

    def backward(self, dvalues, cache):
        dpred, reshaped = cache
        grad = _restore_kept_axes(dvalues, self.axis, dpred.ndim) * dpred
        return grad if reshaped is None else grad.reshape(reshaped)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


class Tversky(Loss):
    """values = 1 - I / (I + alpha FP + beta FN + eps) over `axis`, with
    I = sum(y p), FP = sum((1 - p) y), FN = sum(p (1 - y)) (Keras's naming).

    With D the denominator: dL/dp = -(y D - I (y - alpha y + beta (1 - y))) / D^2.

    Args:
        alpha, beta: weights of the two kinds of error (0.5 each: the Dice loss, up to eps).
        axis: the axes summed over (None: all, one value for the batch).
    """

    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        for arg, value in (("alpha", alpha), ("beta", beta)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{arg}` must be a number. Received: {arg}={value!r}")
        self.alpha = float(alpha)
        self.beta = float(beta)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        axis = self.axis
        intersection = np.sum(y_true * y_pred, axis=axis, keepdims=True)
        false_pos = np.sum((1.0 - y_pred) * y_true, axis=axis, keepdims=True)
        false_neg = np.sum(y_pred * (1.0 - y_true), axis=axis, keepdims=True)
        denominator = (intersection + self.alpha * false_pos + self.beta * false_neg
                       + backend.epsilon())
        values = 1.0 - intersection / denominator
        ddenominator = y_true - self.alpha * y_true + self.beta * (1.0 - y_true)
        dpred = -(y_true * denominator - intersection * ddenominator) / denominator ** 2
        return _drop_kept_axes(values, axis), (dpred.astype(y_pred.dtype), reshaped)

    def backward(self, dvalues, cache):
        dpred, reshaped = cache
        grad = _restore_kept_axes(dvalues, self.axis, dpred.ndim) * dpred
        return grad if reshaped is None else grad.reshape(reshaped)

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "beta": self.beta, "axis": self.axis})
        return config


def _drop_kept_axes(values, axis):
    """values summed with keepdims -> Keras's shape: () for axis=None, else without axis."""
    if axis is None:
        return values.reshape(())
    return np.squeeze(values, axis=axis)


def _restore_kept_axes(dvalues, axis, ndim):
    dvalues = np.asarray(dvalues)
    if axis is None:
        return dvalues.reshape((1,) * ndim)
    return np.expand_dims(dvalues, axis)
