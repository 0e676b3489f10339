"""Regression metrics: running means of the regression losses' per-sample values.

The per-sample maths is the losses' (minikeras.losses.mean_squared_error and so on); these
classes only average it over the epoch. RootMeanSquaredError averages squared errors and takes
the square root at the end, so it is not the mean of per-batch RMSEs.
"""

import numpy as np

from minikeras import backend
from minikeras.losses import (
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
)
from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import squeeze_or_expand_to_same_rank
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper


def cosine_similarity(y_true, y_pred, axis=-1):
    """sum(y_true_hat * y_pred_hat) along axis, each vector scaled to unit L2 norm.

    The norm is floored at epsilon (as Keras), so a zero vector gives 0, not NaN.
    y_true, y_pred: (batch, ..., features) -> (batch, ...).
    """
    y_pred = np.asarray(y_pred, dtype=backend.floatx())
    y_true = np.asarray(y_true, dtype=y_pred.dtype)
    y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
    return np.sum(_unit(y_true, axis) * _unit(y_pred, axis), axis=axis)


def _unit(x, axis):
    inv_norm = 1.0 / np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    return x * np.minimum(inv_norm, 1.0 / backend.epsilon())


class MeanSquaredError(MeanMetricWrapper):
    """Mean of (y_pred - y_true)^2."""

    def __init__(self, name="mean_squared_error", dtype=None):
        super().__init__(mean_squared_error, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsoluteError(MeanMetricWrapper):
    """Mean of |y_pred - y_true|."""

    def __init__(self, name="mean_absolute_error", dtype=None):
        super().__init__(mean_absolute_error, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanAbsolutePercentageError(MeanMetricWrapper):
    """Mean of 100 |y_true - y_pred| / max(|y_true|, epsilon)."""

    def __init__(self, name="mean_absolute_percentage_error", dtype=None):
        super().__init__(mean_absolute_percentage_error, name=name,
                         dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class MeanSquaredLogarithmicError(MeanMetricWrapper):
    """Mean of (log(1 + y_pred) - log(1 + y_true))^2 (inputs floored at epsilon)."""

    def __init__(self, name="mean_squared_logarithmic_error", dtype=None):
        super().__init__(mean_squared_logarithmic_error, name=name,
                         dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class RootMeanSquaredError(Mean):
    """sqrt(mean of (y_pred - y_true)^2) over every entry seen."""

    def __init__(self, name="root_mean_squared_error", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "down"

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true, y_pred: (batch, ...) alike (up to a trailing 1)."""
        y_true = np.asarray(y_true, dtype=self.dtype)
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        super().update_state(np.square(y_pred - y_true), sample_weight=sample_weight)

    def result(self):
        return float(np.sqrt(super().result()))


class CosineSimilarity(MeanMetricWrapper):
    """Mean cosine of the angle between y_true and y_pred (along `axis`)."""

    def __init__(self, name="cosine_similarity", dtype=None, axis=-1):
        super().__init__(cosine_similarity, name=name, dtype=dtype, axis=axis)
        self._direction = "up"


class LogCoshError(MeanMetricWrapper):
    """Mean of log(cosh(y_pred - y_true))."""

    def __init__(self, name="logcosh", dtype=None):
        super().__init__(log_cosh, name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class R2Score(Metric):
    """Coefficient of determination, 1 - SS_res / SS_tot, per output column.

    Args:
        class_aggregation: how the per-column scores combine: "uniform_average" (mean),
            "variance_weighted_average" (weighted by each column's SS_tot) or None (the
            array of per-column scores).
        num_regressors: p > 0 gives the adjusted R2, 1 - (1 - R2) (n - 1) / (n - p - 1).

    y_true, y_pred: (batch, outputs). Sums are accumulated over the epoch, so the score is
    that of all samples seen, not a mean of batch scores.
    """

    AGGREGATIONS = (None, "uniform_average", "variance_weighted_average")

    def __init__(self, class_aggregation="uniform_average", num_regressors=0, name="r2_score",
                 dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if class_aggregation not in self.AGGREGATIONS:
            raise ValueError(
                "Invalid value for argument `class_aggregation`. Expected one of "
                f"{self.AGGREGATIONS}. Received: class_aggregation={class_aggregation}"
            )
        if num_regressors < 0:
            raise ValueError(
                "Invalid value for argument `num_regressors`. Expected a value >= 0. "
                f"Received: num_regressors={num_regressors}"
            )
        self.class_aggregation = class_aggregation
        self.num_regressors = num_regressors
        self.reset_state()

    def reset_state(self):
        self.num_samples = 0
        self.sums = None          # per column: sum w y, sum w y^2, sum w (y - p)^2, sum w

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = np.asarray(y_true, dtype=np.float64)
        y_pred = np.asarray(y_pred, dtype=np.float64)
        y_true, y_pred = squeeze_or_expand_to_same_rank(y_true, y_pred)
        if y_pred.ndim != 2 or y_true.ndim != 2:
            raise ValueError(
                "R2Score expects 2D inputs with shape (batch_size, output_dim). Received "
                f"input shapes: y_pred.shape={y_pred.shape} and y_true.shape={y_true.shape}."
            )
        weights = np.ones_like(y_true) if sample_weight is None else \
            np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim == 1:
            weights = weights[:, None]
        weights = np.broadcast_to(weights, y_true.shape)
        batch_sums = np.stack([
            np.sum(weights * y_true, axis=0),
            np.sum(weights * y_true * y_true, axis=0),
            np.sum(weights * (y_true - y_pred) ** 2, axis=0),
            np.sum(weights, axis=0),
        ])
        self.sums = batch_sums if self.sums is None else self.sums + batch_sums
        self.num_samples += y_true.size

    def result(self):
        if self.sums is None:
            return 0.0
        total, total_sq, residual, count = self.sums
        with np.errstate(divide="ignore", invalid="ignore"):
            ss_tot = total_sq - total * (total / count)
            scores = 1.0 - residual / ss_tot
        scores = np.where(np.isinf(scores), 0.0, scores)
        if self.class_aggregation == "uniform_average":
            score = np.mean(scores)
        elif self.class_aggregation == "variance_weighted_average":
            score = np.sum(ss_tot * scores) / np.sum(ss_tot)
        else:
            score = scores
        n, p = self.num_samples, self.num_regressors
        if p and p < n - 1:
            score = 1.0 - (1.0 - score) * (n - 1) / (n - p - 1)
        return score if isinstance(score, np.ndarray) and score.ndim else float(score)

    def get_config(self):
        config = super().get_config()
        config.update({"class_aggregation": self.class_aggregation,
                       "num_regressors": self.num_regressors})
        return config
