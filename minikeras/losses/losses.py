"""The built-in losses: per-sample forward maths next to its derivative.

Notation: values[i] is sample i's loss, K the size of the last axis (losses average over it),
dvalues = dL/d(values) from the reduction.
"""

import numpy as np

from minikeras import backend
from minikeras.losses.loss import Loss, _as_arrays, align_ranks, check_same_shape


def _clip_probabilities(p):
    """Clips p to [eps, 1 - eps] and returns the mask where the clip was inactive.

    The clip's derivative is 1 inside the range and 0 outside, as in TensorFlow.
    """
    eps = backend.epsilon()
    inside = (p >= eps) & (p <= 1.0 - eps)
    return np.clip(p, eps, 1.0 - eps), inside


def _log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


# ------------------------------------------------------------------- binary crossentropy

class BinaryCrossentropy(Loss):
    """values = mean over the last axis of -(y log p + (1 - y) log(1 - p)).

    Args:
        from_logits: y_pred holds logits z rather than probabilities p = sigmoid(z).
        label_smoothing: targets become y (1 - s) + s / 2.
        axis: the axis averaged over (last).
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = axis

    def forward(self, y_true, y_pred, logits=None):
        y_true = align_ranks(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        k = y_pred.shape[self.axis]
        if logits is None and self.from_logits:
            logits = y_pred
        if logits is not None:
            z = logits
            # Stable form of the loss: max(z, 0) - z y + log(1 + exp(-|z|)).
            elementwise = np.maximum(z, 0) - z * y_true + np.log1p(np.exp(-np.abs(z)))
            return elementwise.mean(axis=self.axis), ("logits", z, y_true, k)
        p, inside = _clip_probabilities(y_pred)
        elementwise = -(y_true * np.log(p) + (1.0 - y_true) * np.log(1.0 - p))
        return elementwise.mean(axis=self.axis), ("probabilities", (p, inside), y_true, k)

    def backward(self, dvalues, cache):
        kind, saved, y_true, k = cache
        dvalues = np.expand_dims(dvalues, self.axis) / k
        if kind == "logits":
            z = saved
            sigmoid_z = np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                                 np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z))))
            return (dvalues * (sigmoid_z - y_true)).astype(z.dtype)   # d/dz = sigmoid(z) - y
        p, inside = saved
        dp = -(y_true / p - (1.0 - y_true) / (1.0 - p))
        return (dvalues * dp * inside).astype(p.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


# -------------------------------------------------------------- categorical crossentropy

class CategoricalCrossentropy(Loss):
    """values = -sum over classes of y log q, with q = p / sum(p) clipped to [eps, 1 - eps].

    Args:
        from_logits: y_pred holds logits z (then q = softmax(z), no clipping).
        label_smoothing: targets become y (1 - s) + s / num_classes.
        axis: the class axis.
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = axis

    def forward(self, y_true, y_pred, logits=None):
        check_same_shape(self.name, y_true, y_pred)
        if self.label_smoothing:
            num_classes = y_pred.shape[self.axis]
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        if logits is None and self.from_logits:
            logits = y_pred
        if logits is not None:
            log_q = _log_softmax(logits, self.axis)
            values = -(y_true * log_q).sum(axis=self.axis)
            return values, ("logits", np.exp(log_q), y_true)
        total = y_pred.sum(axis=self.axis, keepdims=True)
        q, inside = _clip_probabilities(y_pred / total)
        values = -(y_true * np.log(q)).sum(axis=self.axis)
        return values, ("probabilities", (q, inside, y_pred / total, total), y_true)

    def backward(self, dvalues, cache):
        kind, saved, y_true = cache
        dvalues = np.expand_dims(dvalues, self.axis)
        if kind == "logits":
            softmax_z = saved
            # d/dz = softmax(z) * sum(y) - y
            dz = softmax_z * y_true.sum(axis=self.axis, keepdims=True) - y_true
            return (dvalues * dz).astype(softmax_z.dtype)
        q, inside, normalised, total = saved
        dq = dvalues * (-y_true / q) * inside              # through the clip
        # q = p / sum(p): dL/dp_j = (dq_j - sum_i dq_i q_i) / sum(p)
        dp = (dq - (dq * normalised).sum(axis=self.axis, keepdims=True)) / total
        return dp.astype(q.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


# ------------------------------------------------------- sparse categorical crossentropy

class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer class labels: values = -log q[label].

    Without from_logits, TensorFlow computes it as softmax crossentropy on log(clip(p)), which
    renormalises p; this does the same.

    Args:
        from_logits: y_pred holds logits.
        ignore_class: a label value whose samples get zero loss (None: none).
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.ignore_class = ignore_class

    def forward(self, y_true, y_pred, logits=None):
        labels = _sparse_labels(self.name, y_true, y_pred)
        valid = None
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
            labels = np.where(valid, labels, 0)
        if logits is None and self.from_logits:
            logits = y_pred
        inside = None
        if logits is not None:
            z = logits
        else:
            p, inside = _clip_probabilities(y_pred)
            z = np.log(p)
        log_q = _log_softmax(z)
        values = -np.take_along_axis(log_q, labels[..., None], axis=-1)[..., 0]
        if valid is not None:
            values = values * valid
        saved = (np.exp(log_q), labels, valid, inside, None if inside is None else p)
        return values, saved

    def backward(self, dvalues, cache):
        softmax_z, labels, valid, inside, p = cache
        if valid is not None:
            dvalues = dvalues * valid
        dz = softmax_z.copy()                       # d/dz = softmax(z) - onehot(label)
        np.put_along_axis(dz, labels[..., None],
                          np.take_along_axis(dz, labels[..., None], axis=-1) - 1.0, axis=-1)
        dz *= dvalues[..., None]
        if inside is None:
            return dz.astype(softmax_z.dtype)
        return (dz / p * inside).astype(softmax_z.dtype)   # z = log(p): dz/dp = 1 / p

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "ignore_class": self.ignore_class})
        return config


def _sparse_labels(name, y_true, y_pred):
    labels = y_true
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"Loss {name!r} expects integer labels of shape {y_pred.shape[:-1]} (or with a "
            f"trailing 1) for predictions of shape {y_pred.shape}. "
            f"Received: y_true.shape={y_true.shape}"
        )
    if labels.size and not np.all(np.mod(labels, 1) == 0):
        raise ValueError(f"Loss {name!r} expects integer class labels in `y_true`.")
    labels = labels.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[-1]):
        raise ValueError(
            f"Loss {name!r}: labels must lie in [0, {y_pred.shape[-1] - 1}] for "
            f"{y_pred.shape[-1]} classes. Received labels from {labels.min()} to {labels.max()}"
        )
    return labels


# ----------------------------------------------------------------------- regression

class MeanSquaredError(Loss):
    """values = mean over the last axis of (p - y)^2; d/dp = 2 (p - y) / K."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_squared_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def forward(self, y_true, y_pred, logits=None):
        y_true = align_ranks(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        diff = y_pred - y_true
        return np.mean(diff * diff, axis=-1), diff

    def backward(self, dvalues, diff):
        return dvalues[..., None] * (2.0 / diff.shape[-1]) * diff


class MeanAbsoluteError(Loss):
    """values = mean over the last axis of |p - y|; d/dp = sign(p - y) / K."""

    def __init__(self, reduction="sum_over_batch_size", name="mean_absolute_error", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def forward(self, y_true, y_pred, logits=None):
        y_true = align_ranks(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        diff = y_pred - y_true
        return np.mean(np.abs(diff), axis=-1), diff

    def backward(self, dvalues, diff):
        return dvalues[..., None] * np.sign(diff) / diff.shape[-1]


def _check_smoothing(value):
    if not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
        raise ValueError(
            f"`label_smoothing` must be a float in [0, 1]. Received: label_smoothing={value!r}"
        )
    return float(value)


# ------------------------------------------------ Keras's functional forms (per-sample)

def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = BinaryCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                              axis=axis)
    return loss.forward(*_as_arrays(y_true, y_pred, backend.floatx()))[0]


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    loss = CategoricalCrossentropy(from_logits=from_logits, label_smoothing=label_smoothing,
                                   axis=axis)
    return loss.forward(*_as_arrays(y_true, y_pred, backend.floatx()))[0]


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    loss = SparseCategoricalCrossentropy(from_logits=from_logits, ignore_class=ignore_class)
    return loss.forward(*_as_arrays(y_true, y_pred, backend.floatx()))[0]


def mean_squared_error(y_true, y_pred):
    return MeanSquaredError().forward(*_as_arrays(y_true, y_pred, backend.floatx()))[0]


def mean_absolute_error(y_true, y_pred):
    return MeanAbsoluteError().forward(*_as_arrays(y_true, y_pred, backend.floatx()))[0]


mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error

# Which class each compile string (and function) stands for.
LOSS_CLASSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
}
LOSS_FUNCTIONS = {
    binary_crossentropy: "binary_crossentropy",
    categorical_crossentropy: "categorical_crossentropy",
    sparse_categorical_crossentropy: "sparse_categorical_crossentropy",
    mean_squared_error: "mean_squared_error",
    mean_absolute_error: "mean_absolute_error",
}
ALIASES = {"mse": "mean_squared_error", "mae": "mean_absolute_error"}
