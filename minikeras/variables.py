"""`Variable`: a named NumPy array that a layer owns and an optimizer updates."""

import numpy as np

from minikeras import backend


class Variable:
    """A model weight.

    Attributes:
        value: the array itself, shape `shape`. Layers read it in `forward`; optimizers write it.
        name: short name, e.g. "kernel".
        path: owner and name, e.g. "dense/kernel".
        trainable: whether optimizers update it.
        constraint: optional callable applied after each optimizer update.
        regularizer: optional callable giving a penalty added to the loss.
    """

    def __init__(
        self,
        initial_value,
        name="variable",
        trainable=True,
        dtype=None,
        constraint=None,
        regularizer=None,
        path=None,
    ):
        self.name = name
        self.path = path or name
        self.trainable = trainable
        self.constraint = constraint
        self.regularizer = regularizer
        # C order: initializers such as Orthogonal can return transposed (Fortran-order)
        # arrays, and in-place edits through reshape(-1) views must reach the weight.
        self.value = np.array(initial_value, dtype=backend.standardize_dtype(dtype), order="C")

    @property
    def shape(self):
        return self.value.shape

    @property
    def dtype(self):
        return str(self.value.dtype)

    @property
    def ndim(self):
        return self.value.ndim

    def numpy(self):
        """A copy of the value."""
        return self.value.copy()

    def assign(self, value):
        """Overwrites the value in place; the shape must not change."""
        value = np.asarray(value)
        if value.shape != self.value.shape:
            raise ValueError(
                f"The shape of the target variable and the shape of the value must match. "
                f"Variable {self.path!r} has shape {self.value.shape}. "
                f"Received: value.shape={value.shape}"
            )
        self.value[...] = value
        return self

    def assign_add(self, delta):
        self.value += np.asarray(delta, dtype=self.value.dtype)
        return self

    def assign_sub(self, delta):
        self.value -= np.asarray(delta, dtype=self.value.dtype)
        return self

    def __array__(self, dtype=None, copy=None):
        if dtype is None:
            return self.value
        return self.value.astype(dtype)

    def __repr__(self):
        return f"<Variable path={self.path}, shape={self.shape}, dtype={self.dtype}>"
