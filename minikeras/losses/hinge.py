"""Hinge losses (maximum-margin classification).

Notation: y = y_true, p = y_pred (scores, typically from a tanh or linear output).
Hinge and SquaredHinge expect labels -1/1; labels given as 0/1 are turned into -1/1 first, as
Keras does (only when every label in the batch is 0 or 1). At the hinge itself (margin exactly
1) the derivative is TensorFlow's: max(a, 0) passes its gradient where a >= 0.
"""

import numpy as np

from minikeras.losses.loss import ElementwiseMeanLoss, Loss, check_same_shape, squeeze_or_expand


def _signed_labels(y_true):
    """0/1 labels -> -1/1 (when every label is 0 or 1); any other labels unchanged."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2.0 * y_true - 1.0
    return y_true


class Hinge(ElementwiseMeanLoss):
    """e = max(1 - y p, 0); de/dp = -y where 1 - y p >= 0, else 0."""

    def __init__(self, reduction="sum_over_batch_size", name="hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        y = _signed_labels(y_true)
        margin = 1.0 - y * y_pred
        inside = margin >= 0
        return np.maximum(margin, 0.0), -y * inside


class SquaredHinge(ElementwiseMeanLoss):
    """e = max(1 - y p, 0)^2; de/dp = -2 y max(1 - y p, 0)."""

    def __init__(self, reduction="sum_over_batch_size", name="squared_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        y = _signed_labels(y_true)
        hinge = np.maximum(1.0 - y * y_pred, 0.0)
        return hinge * hinge, -2.0 * y * hinge


class CategoricalHinge(Loss):
    """values = max(neg - pos + 1, 0), with one-hot y:
        pos = sum(y p)               (the true class's score)
        neg = max((1 - y) p)         (the best other score)

    dL/dp = dvalues * [neg - pos + 1 >= 0] * (-y + (1 - y) * at_max / n_max), where at_max
    marks the entries achieving the max and n_max counts them (TensorFlow shares the max's
    gradient among ties).
    """

    def __init__(self, reduction="sum_over_batch_size", name="categorical_hinge", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        pos = np.sum(y_true * y_pred, axis=-1)
        others = (1.0 - y_true) * y_pred
        neg = np.max(others, axis=-1)
        margin = neg - pos + 1.0
        at_max = others == neg[..., None]
        share = at_max / at_max.sum(axis=-1, keepdims=True)
        dmargin_dpred = (-y_true + (1.0 - y_true) * share).astype(y_pred.dtype)
        return np.maximum(margin, 0.0), (dmargin_dpred, margin >= 0, reshaped)

    def backward(self, dvalues, cache):
        dmargin_dpred, active, reshaped = cache
        dpred = (dvalues * active)[..., None] * dmargin_dpred
        return dpred if reshaped is None else dpred.reshape(reshaped)
