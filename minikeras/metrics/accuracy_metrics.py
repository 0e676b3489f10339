"""Accuracy metrics: per-sample match functions and the running means around them.

Each function returns 1.0 where the prediction is right and 0.0 elsewhere, one value per
sample (or per entry for binary_accuracy / accuracy); the classes average them.
"""

import numpy as np

from minikeras import backend
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import MeanMetricWrapper


def _matches(mask):
    return mask.astype(backend.floatx())


def accuracy(y_true, y_pred):
    """1.0 where y_pred equals y_true exactly. Shapes: alike, up to a trailing 1."""
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return _matches(y_true == y_pred)


def binary_accuracy(y_true, y_pred, threshold=0.5):
    """1.0 where (y_pred > threshold) equals y_true. Shapes: alike, up to a trailing 1."""
    y_true, y_pred = squeeze_or_expand_to_same_rank(np.asarray(y_true), np.asarray(y_pred))
    return _matches(y_true == (y_pred > threshold))


def categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals argmax(y_true). (batch, classes) -> (batch,)."""
    return _matches(np.argmax(y_true, axis=-1) == np.argmax(y_pred, axis=-1))


def sparse_categorical_accuracy(y_true, y_pred):
    """1.0 where argmax(y_pred) equals the integer label.

    y_true: (batch,) or (batch, 1); y_pred: (batch, classes). Returns (batch,).
    """
    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.ndim == y_pred.ndim and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return _matches(y_true == np.argmax(y_pred, axis=-1))


def _in_top_k(labels, y_pred, k):
    """True where the score of class `labels` is among the k largest of its row.

    As in TensorFlow, classes tied with the k-th score all count as in the top k: a label
    is in the top k when fewer than k classes score strictly higher. labels: (n,) ints;
    y_pred: (n, classes).
    """
    label_scores = np.take_along_axis(y_pred, labels[:, None], axis=-1)     # (n, 1)
    higher = np.sum(y_pred > label_scores, axis=-1)
    return (higher < k) & np.isfinite(label_scores[:, 0])


def top_k_categorical_accuracy(y_true, y_pred, k=5):
    """1.0 where the one-hot target's class is among the k highest scores.

    y_true, y_pred: (..., classes). Returns (...,).
    """
    y_pred = np.asarray(y_pred)
    labels = np.argmax(np.asarray(y_true), axis=-1)
    matches = _in_top_k(labels.reshape(-1), y_pred.reshape(-1, y_pred.shape[-1]), k)
    return _matches(matches.reshape(labels.shape))


def sparse_top_k_categorical_accuracy(y_true, y_pred, k=5, from_sorted_ids=False):
    """1.0 where the integer label is among the k highest scores.

    y_true: (batch,) labels. y_pred: (batch, classes) scores, or with from_sorted_ids=True
    (batch, N) class ids sorted from best to worst (the first k are checked).
    """
    y_pred = np.asarray(y_pred)
    y_true = np.asarray(y_true)
    shape = y_true.shape
    y_pred = y_pred.reshape(-1, y_pred.shape[-1])
    y_true = y_true.reshape(-1)
    if from_sorted_ids:
        matches = np.any(y_true[:, None] == y_pred[:, :k], axis=1)
    else:
        matches = _in_top_k(y_true.astype(np.int64), y_pred, k)
    return _matches(matches.reshape(shape))


class Accuracy(MeanMetricWrapper):
    """Fraction of entries where y_pred equals y_true exactly."""

    def __init__(self, name="accuracy", dtype=None):
        super().__init__(accuracy, name=name, dtype=dtype)
        self._direction = "up"


class BinaryAccuracy(MeanMetricWrapper):
    """Fraction of entries where (y_pred > threshold) matches y_true."""

    def __init__(self, name="binary_accuracy", dtype=None, threshold=0.5):
        super().__init__(binary_accuracy, name=name, dtype=dtype, threshold=threshold)
        self.threshold = threshold
        self._direction = "up"


class CategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose predicted class matches the one-hot target's class."""

    def __init__(self, name="categorical_accuracy", dtype=None):
        super().__init__(categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"


class SparseCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose predicted class matches the integer label."""

    def __init__(self, name="sparse_categorical_accuracy", dtype=None):
        super().__init__(sparse_categorical_accuracy, name=name, dtype=dtype)
        self._direction = "up"


class TopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose one-hot target is among the k highest scores."""

    def __init__(self, k=5, name="top_k_categorical_accuracy", dtype=None):
        super().__init__(top_k_categorical_accuracy, name=name, dtype=dtype, k=k)
        self.k = k
        self._direction = "up"


class SparseTopKCategoricalAccuracy(MeanMetricWrapper):
    """Fraction of samples whose integer label is among the k highest scores."""

    def __init__(self, k=5, name="sparse_top_k_categorical_accuracy", dtype=None,
                 from_sorted_ids=False):
        super().__init__(sparse_top_k_categorical_accuracy, name=name, dtype=dtype, k=k,
                         from_sorted_ids=from_sorted_ids)
        self.k = k
        self.from_sorted_ids = from_sorted_ids
        self._direction = "up"

    def get_config(self):
        config = {"name": self.name, "dtype": self.dtype, "k": self.k}
        if self.from_sorted_ids:
            config["from_sorted_ids"] = True
        return config
