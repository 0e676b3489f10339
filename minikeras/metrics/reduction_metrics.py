"""Running sums and means: `Sum`, `Mean`, and `MeanMetricWrapper` (most metrics are one).

    Mean:  total += sum_i w_i v_i,   count += sum_i w_i,   result = total / count

where v_i is sample i's value (averaged over its other axes) and w_i its weight (1 without
sample_weight). So an epoch's value is the weighted mean over all samples seen.
"""

import numpy as np

from minikeras.metrics.metric import Metric
from minikeras.metrics.metrics_utils import reduce_to_samplewise_values


class Sum(Metric):
    """The (weighted) sum of the values given."""

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0

    def update_state(self, values, sample_weight=None):
        """values: (batch, ...) or a scalar; sample_weight: broadcastable to its leading axes."""
        values, _ = reduce_to_samplewise_values(values, sample_weight, np.sum, self.dtype)
        self.total += float(np.sum(values, dtype=np.float64))

    def result(self):
        return self.total


class Mean(Metric):
    """The (weighted) mean of the values given: total / count (0 when count is 0)."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """values: (batch, ...) or a scalar; each sample's value is its mean over the other
        axes. sample_weight: None, a scalar, or weights lining up with values' leading axes."""
        # Two shortcuts for what fit() passes at every step, each giving exactly what the
        # general code below gives, with a few NumPy calls instead of a dozen.
        if _is_number(values) and (sample_weight is None or _is_number(sample_weight)):
            # One number (the loss tracker: the batch loss, weighted by the batch size).
            dtype = np.dtype(self.dtype).type
            value = dtype(values)
            weight = dtype(1.0) if sample_weight is None else dtype(sample_weight)
            self.total += float(value if sample_weight is None else value * weight)
            self.count += float(weight)
            return
        if sample_weight is None and isinstance(values, np.ndarray) and values.ndim >= 1 \
                and values.size == values.shape[0]:
            # One value per sample, (batch,) or (batch, 1, ...): its mean is itself.
            values = np.asarray(values, dtype=self.dtype).reshape(values.shape[0])
            self.total += float(np.add.reduce(values, axis=None, dtype=np.float64))
            self.count += float(values.shape[0])
            return
        values, sample_weight = reduce_to_samplewise_values(values, sample_weight, np.mean,
                                                            self.dtype)
        self.total += float(np.sum(values, dtype=np.float64))
        if sample_weight is not None:
            self.count += float(np.sum(sample_weight, dtype=np.float64))
        else:
            self.count += float(values.shape[0]) if values.ndim >= 1 else 1.0

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """The running mean of a per-sample function `fn(y_true, y_pred, **kwargs) -> values`.

    Args:
        fn: the function; values has shape (batch,) or (batch, ...).
        name: the metric's name (default "mean_metric_wrapper", made unique).
        dtype: float type of the result.
        **kwargs: passed on to fn at each update.
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name, dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs
        if _is_loss_function(fn):
            self._direction = "down"      # a loss is to be minimised

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config


def _is_number(value):
    """A Python or NumPy real number (not an array)."""
    return isinstance(value, (int, float, np.integer, np.floating))


def _is_loss_function(fn):
    from minikeras import losses

    return fn in losses.LOSS_FUNCTIONS or type(fn) in losses.LOSS_CLASSES.values()
