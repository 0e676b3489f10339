"""`Metric`: the base class of every metric.

A metric accumulates state over the batches of an epoch (`update_state`), reports it
(`result`), and starts again (`reset_state`). History records `result()` at the end of each
epoch, so a metric's epoch value covers every sample seen, not a mean of batch values.

Metrics that should go up (accuracy, AUC, precision) or down (errors, cross-entropies) say so
in `_direction` ("up" / "down"); EarlyStopping and friends read it in mode="auto". Metrics
without an obvious direction (Mean, Sum, TruePositives...) have none, as in Keras.
"""

import numpy as np

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
        self._variables = []

    def add_variable(self, shape, initializer="zeros", dtype=None, name=None):
        """A state Variable, as Keras metrics create them (`self.total = self.add_variable(
        shape=(), initializer="zeros", name="total")`, then `self.total.assign_add(...)`).
        The default reset_state sets every such variable back to zeros."""
        from minikeras import initializers
        from minikeras.variables import Variable

        dtype = dtype or self.dtype
        value = initializers.get(initializer)(tuple(shape), dtype=dtype)
        variable = Variable(value, name=name or "variable", trainable=False, dtype=dtype,
                            path=f"{self.name}/{name or 'variable'}")
        self._variables.append(variable)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Keras's other name for add_variable."""
        return self.add_variable(shape, initializer=initializer, dtype=dtype, name=name)

    @property
    def variables(self):
        return list(self._variables)

    def update_state(self, y_true, y_pred, sample_weight=None):
        raise NotImplementedError

    def result(self):
        raise NotImplementedError

    def reset_state(self):
        """Zeroes the variables made with add_variable (subclasses with other state
        override this)."""
        for variable in self._variables:
            variable.assign(np.zeros(variable.shape, dtype=variable.dtype))

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
