"""Hinge metrics: running means of the hinge losses' per-sample values (minikeras.losses)."""

from minikeras.metrics.reduction_metrics import MeanMetricWrapper
from minikeras.metrics.regression_metrics import loss_function


class Hinge(MeanMetricWrapper):
    """Mean of max(1 - y_true y_pred, 0) (0/1 labels are mapped to -1/1)."""

    def __init__(self, name="hinge", dtype=None):
        super().__init__(loss_function("hinge"), name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class SquaredHinge(MeanMetricWrapper):
    """Mean of max(1 - y_true y_pred, 0)^2."""

    def __init__(self, name="squared_hinge", dtype=None):
        super().__init__(loss_function("squared_hinge"), name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}


class CategoricalHinge(MeanMetricWrapper):
    """Mean of max(0, max_wrong - correct + 1) over one-hot targets."""

    def __init__(self, name="categorical_hinge", dtype=None):
        super().__init__(loss_function("categorical_hinge"), name=name, dtype=dtype)
        self._direction = "down"

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}
