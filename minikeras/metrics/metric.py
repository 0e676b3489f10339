"""`Metric` base class and the running means most metrics are built on.

A metric accumulates state over the batches of an epoch (`update_state`), reports it
(`result`), and starts again (`reset_state`). History records `result()` at the end of each
epoch, so a metric's epoch value is its mean over every sample seen, not a mean of batch means.
"""

import numpy as np

from minikeras import backend
from minikeras.utils.naming import to_snake_case


class Metric:
    """Base class: subclasses implement update_state, result and reset_state."""

    def __init__(self, name=None, dtype=None):
        self.name = name or to_snake_case(type(self).__name__)
        self.dtype = backend.standardize_dtype(dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, y_true, y_pred, sample_weight=None):
        """Updates the state with one batch and returns the result so far."""
        self.update_state(y_true, y_pred, sample_weight=sample_weight)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class Mean(Metric):
    """The (weighted) mean of the values given: total / count."""

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.reset_state()

    def reset_state(self):
        self.total = 0.0
        self.count = 0.0

    def update_state(self, values, sample_weight=None):
        """values: (batch, ...) or a scalar; each sample's value is its mean over the rest."""
        values = np.asarray(values, dtype=np.float64)
        if values.ndim > 1:
            values = values.reshape(values.shape[0], -1).mean(axis=1)
        if sample_weight is None:
            self.total += float(np.sum(values))
            self.count += float(values.size)
            return
        weights = np.asarray(sample_weight, dtype=np.float64)
        if weights.ndim > values.ndim:
            weights = weights.reshape(weights.shape[0], -1).mean(axis=1)
        weights = np.broadcast_to(weights, values.shape)
        self.total += float(np.sum(values * weights))
        self.count += float(np.sum(weights))

    def result(self):
        return self.total / self.count if self.count else 0.0


class MeanMetricWrapper(Mean):
    """Wraps a per-sample function `fn(y_true, y_pred, **kwargs) -> values` into a mean."""

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", "metric"), dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        values = self._fn(np.asarray(y_true), np.asarray(y_pred), **self._fn_kwargs)
        super().update_state(values, sample_weight=sample_weight)

    def get_config(self):
        config = super().get_config()
        config.update(self._fn_kwargs)
        return config
