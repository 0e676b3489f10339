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

    _is_variable = True     # ops/tape.py: a Variable read on the tape becomes a leaf
    __array_priority__ = 100

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

    # Arithmetic as keras.ops, so `inputs * self.scale` in a custom layer is recorded on the
    # tape inside a training step (and is plain NumPy outside it).
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().divide(self, other)
    def __rtruediv__(self, other): return _ops().divide(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __neg__(self): return _ops().negative(self)
    def __getitem__(self, key): return _ops().get_item(self, key)

    def __float__(self):
        return float(self.value)

    @property
    def T(self):
        return _ops().transpose(self)


def _ops():
    from minikeras import ops

    return ops
