"""Intersection-over-union metrics (semantic segmentation and classification).

A (num_classes x num_classes) confusion matrix cm[true, predicted] is summed over the epoch;
for class c:

    IoU_c = TP_c / (TP_c + FP_c + FN_c) = cm[c, c] / (row_c + column_c - cm[c, c])

and the metric is the mean of IoU_c over the target classes that occur (a class with an empty
denominator is left out of the mean).

As in Keras, the counts are integers by default (dtype "int"): float sample weights are
truncated towards zero (Keras warns about it; so does this).
"""

import warnings

import numpy as np

from minikeras import backend
from minikeras.metrics.metric import Metric


class _IoUBase(Metric):
    """Accumulates the confusion matrix of class ids.

    Args:
        num_classes: number of classes.
        ignore_class: a label value whose samples are not counted.
        sparse_y_true / sparse_y_pred: False when that input holds one-hot vectors or
            scores (its argmax along `axis` is then taken).
        axis: the class axis for the argmax.
    """

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(name=name, dtype=dtype or "int")
        self._direction = "up"
        self.num_classes = num_classes
        self.ignore_class = ignore_class
        self.sparse_y_true = sparse_y_true
        self.sparse_y_pred = sparse_y_pred
        self.axis = axis
        self.reset_state()

    def reset_state(self):
        self.total_cm = np.zeros((self.num_classes, self.num_classes), dtype=self.dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true, y_pred: class ids (any shape, flattened), or scores/one-hot along `axis`
        when not sparse. sample_weight: broadcastable to the flattened ids."""
        y_true = np.asarray(y_true)
        y_pred = np.asarray(y_pred)
        if not self.sparse_y_true:
            y_true = np.argmax(y_true, axis=self.axis)
        if not self.sparse_y_pred:
            y_pred = np.argmax(y_pred, axis=self.axis)
        y_true = y_true.astype(self.dtype).reshape(-1)
        y_pred = y_pred.astype(self.dtype).reshape(-1)
        if sample_weight is None:
            weights = np.ones_like(y_true)
        else:
            weights = np.asarray(sample_weight)
            if np.issubdtype(weights.dtype, np.floating) and \
                    np.issubdtype(np.dtype(self.dtype), np.integer):
                warnings.warn(
                    "You are passing weight as `float`, but dtype is `int`. This may result "
                    "in an incorrect weight due to type casting. Consider using integer "
                    "weights.", stacklevel=2)
            weights = np.broadcast_to(weights.astype(self.dtype).reshape(-1), y_true.shape)
        # Out-of-range ids (and the ignored class) are not counted.
        valid = (y_true >= 0) & (y_true < self.num_classes) & \
            (y_pred >= 0) & (y_pred < self.num_classes)
        if self.ignore_class is not None:
            valid &= y_true != self.ignore_class
        cells = (y_true * self.num_classes + y_pred)[valid].astype(np.int64)
        counts = np.bincount(cells, weights=weights[valid].astype(np.float64),
                             minlength=self.num_classes ** 2)
        self.total_cm = self.total_cm + counts.reshape(self.num_classes, self.num_classes) \
            .astype(self.dtype)


class IoU(_IoUBase):
    """Mean IoU over `target_class_ids`.

    Args:
        num_classes: number of classes.
        target_class_ids: the classes averaged over.
        (the others as _IoUBase)
    """

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=sparse_y_true, sparse_y_pred=sparse_y_pred, axis=axis)
        if max(target_class_ids) >= num_classes:
            raise ValueError(
                f"Target class id {max(target_class_ids)} is out of range, which is "
                f"[0, {num_classes})."
            )
        self.target_class_ids = list(target_class_ids)

    def result(self):
        cm = self.total_cm.astype(np.float64)
        true_positives = np.diag(cm)
        denominator = cm.sum(axis=0) + cm.sum(axis=1) - true_positives   # TP + FP + FN
        true_positives = true_positives[self.target_class_ids]
        denominator = denominator[self.target_class_ids]
        valid = denominator > 1e-9
        iou = np.where(valid, true_positives / (denominator + backend.epsilon()), 0.0)
        return float(np.sum(iou) / (np.sum(valid) + backend.epsilon()))

    def get_config(self):
        config = super().get_config()
        config.update({"num_classes": self.num_classes,
                       "target_class_ids": self.target_class_ids,
                       "ignore_class": self.ignore_class, "sparse_y_true": self.sparse_y_true,
                       "sparse_y_pred": self.sparse_y_pred, "axis": self.axis})
        return config


class BinaryIoU(IoU):
    """IoU of binary predictions: y_pred >= threshold is class 1."""

    def __init__(self, target_class_ids=(0, 1), threshold=0.5, name=None, dtype=None):
        super().__init__(num_classes=2, target_class_ids=target_class_ids, name=name,
                         dtype=dtype)
        self.threshold = threshold

    def update_state(self, y_true, y_pred, sample_weight=None):
        predicted = np.asarray(y_pred, dtype=np.float32) >= self.threshold
        super().update_state(y_true, predicted, sample_weight)

    def get_config(self):
        return {"target_class_ids": self.target_class_ids, "threshold": self.threshold,
                "name": self.name, "dtype": self.dtype}


class MeanIoU(IoU):
    """Mean IoU over all classes."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_true=True, sparse_y_pred=True, axis=-1):
        super().__init__(num_classes, list(range(num_classes)), name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=sparse_y_true,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["target_class_ids"]
        return config


class OneHotIoU(IoU):
    """IoU with one-hot targets (and, by default, score predictions)."""

    def __init__(self, num_classes, target_class_ids, name=None, dtype=None,
                 ignore_class=None, sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, target_class_ids, name=name, dtype=dtype,
                         ignore_class=ignore_class, sparse_y_true=False,
                         sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config


class OneHotMeanIoU(MeanIoU):
    """Mean IoU over all classes with one-hot targets."""

    def __init__(self, num_classes, name=None, dtype=None, ignore_class=None,
                 sparse_y_pred=False, axis=-1):
        super().__init__(num_classes, name=name, dtype=dtype, ignore_class=ignore_class,
                         sparse_y_true=False, sparse_y_pred=sparse_y_pred, axis=axis)

    def get_config(self):
        config = super().get_config()
        del config["sparse_y_true"]
        return config
