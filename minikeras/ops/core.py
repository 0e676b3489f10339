"""keras.ops's core ops: conversions, shape, cast, stop_gradient, slice."""

import numpy as np

from minikeras import backend
from minikeras.ops import numpy as _np_ops
from minikeras.ops.tape import Tracked, primitive, unwrap


def convert_to_tensor(x, dtype=None, sparse=None, ragged=None):
    """x as an array (a tracked value stays tracked). Python floats become floatx."""
    if type(x) is Tracked:
        return x if dtype is None else cast(x, dtype)
    if hasattr(x, "_is_variable"):
        return x.value if dtype is None else x.value.astype(dtype)
    if dtype is None and isinstance(x, float):
        dtype = backend.floatx()
    array = np.asarray(x)
    if dtype is None and array.dtype == np.float64 and not isinstance(x, np.ndarray):
        dtype = backend.floatx()        # nested Python floats: Keras gives floatx
    return array if dtype is None else array.astype(backend.standardize_dtype(dtype))


def convert_to_numpy(x):
    """A plain NumPy array (a copy of a tracked value's array; no gradient)."""
    return np.array(unwrap(x))


def shape(x):
    """The shape as a tuple of ints."""
    return tuple(np.shape(unwrap(x)))


def dtype(x):
    return backend.standardize_dtype(np.asarray(unwrap(x)).dtype.name)


@primitive
def cast(x, dtype):
    """x converted to `dtype`; the gradient flows back (cast to x's dtype) between floats."""
    x = np.asarray(x)
    out = x.astype(backend.standardize_dtype(dtype))
    if x.dtype.kind != "f" or out.dtype.kind != "f":
        return out, None
    return out, lambda g: (g.astype(x.dtype), None)


@primitive
def stop_gradient(x):
    """x, through which no gradient flows."""
    return np.asarray(x), None


def slice(inputs, start_indices, shape):
    """inputs[start : start + shape] on every axis (Keras's ops.slice)."""
    key = tuple(_builtin_slice(int(s), int(s) + int(n)) for s, n in zip(start_indices, shape))
    return _np_ops.get_item(inputs, key)


_builtin_slice = __builtins__["slice"] if isinstance(__builtins__, dict) else __builtins__.slice


def is_tensor(x):
    return isinstance(x, (np.ndarray, Tracked))
