"""F-scores: the harmonic-type mean of precision and recall, per class or averaged.

    F_beta = (1 + beta^2) * precision * recall / (beta^2 * precision + recall)

Counts are summed over the epoch (like Precision/Recall), then combined in result().
"""

import numpy as np

from minikeras import backend
from minikeras.metrics.metric import Metric

AVERAGES = (None, "micro", "macro", "weighted")


class FBetaScore(Metric):
    """F-beta score for multi-class / multi-label predictions.

    Args:
        average: None (one score per class), "micro" (counts pooled over classes), "macro"
            (mean of the class scores) or "weighted" (class scores weighted by the number
            of true instances of each class).
        beta: weight of recall relative to precision (> 0, a float).
        threshold: a prediction counts as positive above it; None: the highest score of
            each row counts as positive (ties included).

    y_true, y_pred: (batch, classes).
    """

    def __init__(self, average=None, beta=1.0, threshold=None, name="fbeta_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if average not in AVERAGES:
            raise ValueError(
                "Invalid `average` argument value. Expected one of: "
                f"{{None, 'micro', 'macro', 'weighted'}}. Received: average={average}"
            )
        if not isinstance(beta, float):
            raise ValueError(
                "Invalid `beta` argument value. It should be a Python float. "
                f"Received: beta={beta} of type '{type(beta)}'"
            )
        if beta <= 0.0:
            raise ValueError(
                f"Invalid `beta` argument value. It should be > 0. Received: beta={beta}"
            )
        if threshold is not None:
            if not isinstance(threshold, float):
                raise ValueError(
                    "Invalid `threshold` argument value. It should be a Python float. "
                    f"Received: threshold={threshold} of type '{type(threshold)}'"
                )
            if threshold > 1.0 or threshold <= 0.0:
                raise ValueError(
                    "Invalid `threshold` argument value. It should verify "
                    f"0 < threshold <= 1. Received: threshold={threshold}"
                )
        self.average = average
        self.beta = beta
        self.threshold = threshold
        # "micro" pools every entry; otherwise counts are kept per class (axis 0 summed).
        self.axis = None if average == "micro" else 0
        self.reset_state()

    def reset_state(self):
        self.true_positives = self.false_positives = None
        self.false_negatives = self.intermediate_weights = None

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, dtype=self.dtype)
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(
                "FBetaScore expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        if self.threshold is None:
            row_max = np.max(y_pred, axis=-1, keepdims=True)
            predicted = (y_pred >= row_max) & (np.abs(y_pred) > 1e-9)   # all-zero rows: none
        else:
            predicted = y_pred > self.threshold
        predicted = predicted.astype(np.float64)
        y_true = y_true.astype(np.float64)
        weights = None if sample_weight is None else \
            np.asarray(sample_weight, dtype=np.float64)[:, None]

        def weighted_sum(values):
            if weights is not None:
                values = values * weights
            return np.sum(values, axis=self.axis)

        batch = [weighted_sum(predicted * y_true), weighted_sum(predicted * (1 - y_true)),
                 weighted_sum((1 - predicted) * y_true), weighted_sum(y_true)]
        if self.true_positives is None:
            (self.true_positives, self.false_positives, self.false_negatives,
             self.intermediate_weights) = batch
        else:
            self.true_positives = self.true_positives + batch[0]
            self.false_positives = self.false_positives + batch[1]
            self.false_negatives = self.false_negatives + batch[2]
            self.intermediate_weights = self.intermediate_weights + batch[3]

    def result(self):
        if self.true_positives is None:
            return 0.0
        eps = backend.epsilon()
        tp = self.true_positives
        precision = tp / (tp + self.false_positives + eps)
        recall = tp / (tp + self.false_negatives + eps)
        beta2 = self.beta ** 2
        score = (1 + beta2) * precision * recall / (beta2 * precision + recall + eps)
        if self.average == "weighted":
            weights = self.intermediate_weights / (np.sum(self.intermediate_weights) + eps)
            return float(np.sum(score * weights))
        if self.average is not None:
            return float(np.mean(score))
        return score

    def get_config(self):
        config = super().get_config()
        config.update({"average": self.average, "beta": self.beta,
                       "threshold": self.threshold})
        return config


class F1Score(FBetaScore):
    """FBetaScore with beta = 1: 2 precision recall / (precision + recall)."""

    def __init__(self, average=None, threshold=None, name="f1_score", dtype=None):
        super().__init__(average=average, beta=1.0, threshold=threshold, name=name,
                         dtype=dtype)

    def get_config(self):
        config = super().get_config()
        del config["beta"]
        return config
