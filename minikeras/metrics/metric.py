"""`Metric`: the base class of every metric.

A metric accumulates state over the batches of an epoch (`update_state`), reports it
(`result`), and starts again (`reset_state`). History records `result()` at the end of each
epoch, so a metric's epoch value covers every sample seen, not a mean of batch values.

Metrics that should go up (accuracy, AUC, precision) or down (errors, cross-entropies) say so
in `_direction` ("up" / "down"); EarlyStopping and friends read it in mode="auto". Metrics
without an obvious direction (Mean, Sum, TruePositives...) have none, as in Keras.
"""

from minikeras import backend
from minikeras.utils.naming import to_snake_case


class Metric:
    """Base class: subclasses implement update_state, result and reset_state.

    Args:
        name: the metric's name (History key when used in compile); default: the class name
            in snake case, made unique ("auc", then "auc_1", ...) as Keras does.
        dtype: float type of the result (default floatx).
    """

    def __init__(self, name=None, dtype=None):
        self.name = name or backend.unique_name(to_snake_case(type(self).__name__))
        self.dtype = backend.standardize_dtype(dtype)

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        raise NotImplementedError

    def __call__(self, *args, **kwargs):
        """Updates the state with one batch and returns the result so far."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self):
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"
