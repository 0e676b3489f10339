"""Regression losses: each compares y_pred with real-valued targets, element by element.

Notation: y = y_true, p = y_pred, K the size of the last axis. Except cosine similarity, each
loss is values = mean over the last axis of e(y, p); `elementwise` returns e and de/dp.
At a kink the derivative is TensorFlow's (for example sign(0) = 0 for the absolute error).
"""

import numpy as np

from minikeras import backend
from minikeras.losses.loss import ElementwiseMeanLoss, Loss, check_same_shape, squeeze_or_expand


class MeanSquaredError(ElementwiseMeanLoss):
    """e = (p - y)^2; de/dp = 2 (p - y)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        diff = y_pred - y_true
        return diff * diff, 2.0 * diff


class MeanAbsoluteError(ElementwiseMeanLoss):
    """e = |p - y|; de/dp = sign(p - y)."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        diff = y_pred - y_true
        return np.abs(diff), np.sign(diff)


class MeanAbsolutePercentageError(ElementwiseMeanLoss):
    """e = 100 |y - p| / max(|y|, eps); de/dp = 100 sign(p - y) / max(|y|, eps).

    eps is backend.epsilon(), so a zero target gives a huge but finite loss, as in Keras.
    """

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_absolute_percentage_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        scale = np.maximum(np.abs(y_true), backend.epsilon()).astype(y_pred.dtype)
        diff = y_pred - y_true
        return 100.0 * np.abs(diff / scale), 100.0 * np.sign(diff) / scale


class MeanSquaredLogarithmicError(ElementwiseMeanLoss):
    """e = (log(max(p, eps) + 1) - log(max(y, eps) + 1))^2;
    de/dp = 2 (log(max(p, eps) + 1) - log(max(y, eps) + 1)) / (max(p, eps) + 1) where p >= eps,
    0 below (the max holds p at eps there)."""

    def __init__(self, reduction="sum_over_batch_size",
                 name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        eps = backend.epsilon()
        shifted_pred = np.maximum(y_pred, eps).astype(y_pred.dtype) + 1.0
        log_diff = np.log(shifted_pred) - np.log(np.maximum(y_true, eps).astype(y_pred.dtype)
                                                 + 1.0)
        return log_diff * log_diff, 2.0 * log_diff / shifted_pred * (y_pred >= eps)


class Huber(ElementwiseMeanLoss):
    """With d = p - y: e = d^2 / 2 where |d| <= delta, else delta |d| - delta^2 / 2;
    de/dp = d, else delta * sign(d).

    Args:
        delta: where the loss turns from quadratic to linear (> 0).
    """

    def __init__(self, delta=1.0, reduction="sum_over_batch_size", name="huber_loss",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(delta, bool) or not isinstance(delta, (int, float)) or delta <= 0:
            raise ValueError(
                f"`delta` must be a positive number. Received: delta={delta!r}"
            )
        self.delta = float(delta)

    def elementwise(self, y_true, y_pred):
        delta = y_pred.dtype.type(self.delta)
        diff = y_pred - y_true
        small = np.abs(diff) <= delta
        e = np.where(small, 0.5 * diff * diff, delta * np.abs(diff) - 0.5 * delta * delta)
        de = np.where(small, diff, delta * np.sign(diff))
        return e, de

    def get_config(self):
        config = super().get_config()
        config["delta"] = self.delta
        return config


class LogCosh(ElementwiseMeanLoss):
    """With d = p - y: e = log(cosh(d)), computed as d + softplus(-2 d) - log(2) (no overflow);
    de/dp = tanh(d) = 1 - 2 sigmoid(-2 d)."""

    def __init__(self, reduction="sum_over_batch_size", name="log_cosh", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        diff = y_pred - y_true
        e = diff + np.logaddexp(diff.dtype.type(0), -2.0 * diff) - np.log(2.0).astype(diff.dtype)
        return e, np.tanh(diff)


class CosineSimilarity(Loss):
    """values = -sum(normalize(y) * normalize(p)) along `axis`: -1 when they point the same way.

    normalize(v) = v * min(1 / sqrt(sum(v^2)), 1 / eps), Keras's l2 normalisation, so a zero
    vector stays zero. With r = 1 / sqrt(sum(p^2)) (below the 1 / eps cap) and g = dL/d(p r):
        dL/dp = g r - r^3 p sum(g p);      at the cap: dL/dp = g / eps.

    Args:
        axis: the axis along which the similarity is computed (default -1).
    """

    def __init__(self, axis=-1, reduction="sum_over_batch_size", name="cosine_similarity",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = axis

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        true_unit = _l2_normalize(y_true, self.axis)[0]
        pred_unit, inverse_norm, uncapped = _l2_normalize(y_pred, self.axis)
        values = -np.sum(true_unit * pred_unit, axis=self.axis)
        return values, (true_unit, y_pred, inverse_norm, uncapped, reshaped)

    def backward(self, dvalues, cache):
        true_unit, y_pred, inverse_norm, uncapped, reshaped = cache
        g = -true_unit * np.expand_dims(dvalues, self.axis)           # dL/d(normalized p)
        # d(inverse_norm)/dp = -inverse_norm^3 p, only where the 1/eps cap is not active.
        projection = np.sum(g * y_pred, axis=self.axis, keepdims=True)
        correction = np.where(uncapped, inverse_norm ** 3 * projection, 0.0)
        dpred = (g * inverse_norm - correction * y_pred).astype(y_pred.dtype)
        return dpred if reshaped is None else dpred.reshape(reshaped)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _l2_normalize(v, axis):
    """Returns (v * inverse_norm, inverse_norm, uncapped): inverse_norm = min(r, 1/eps), with
    r = 1/sqrt(sum(v^2)) along axis (kept), and uncapped = r <= 1/eps (where it flows)."""
    square_sum = np.sum(v * v, axis=axis, keepdims=True)
    with np.errstate(divide="ignore"):
        r = 1.0 / np.sqrt(square_sum)                   # inf for a zero vector
    cap = 1.0 / backend.epsilon()
    uncapped = r <= cap
    inverse_norm = np.minimum(r, cap).astype(v.dtype)
    return v * inverse_norm, inverse_norm, uncapped
