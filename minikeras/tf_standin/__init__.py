"""The `tensorflow` that scripts import under minikeras: Keras plus a small TensorFlow subset.

`minikeras run script.py` (or KERAS_BACKEND=minikeras) makes `import tensorflow as tf` return
this package (minikeras/_aliasing.py). It covers what Keras tutorials use around Keras:
`tf.__version__`, seeding, devices, tensors and the tf.math / tf.nn / tf.linalg basics (each
one keras.ops op under TensorFlow's name: one implementation, two spellings), `tf.Variable`,
`tf.GradientTape` (the keras.ops tape), `tf.function` (runs eagerly) and `tf.data.Dataset` on
in-memory data. Any other attribute raises an AttributeError naming it.
"""

import importlib
import logging
from types import SimpleNamespace

import numpy as np

from minikeras import __version__ as _minikeras_version
from minikeras import variables as _variables
from minikeras.backend.eager_tensor import EagerTensor
from minikeras.ops import tape as _tape
from minikeras.tf_standin import config, data, linalg, math, nn, random
from minikeras.tf_standin._common import arg, call, missing, ops, out, tensor_dtype
from minikeras.tf_standin.linalg import matmul
from minikeras.tf_standin.math import (
    abs,
    add,
    argmax,
    argmin,
    divide,
    equal,
    exp,
    greater,
    less,
    log,
    maximum,
    minimum,
    multiply,
    not_equal,
    pow,
    reduce_all,
    reduce_any,
    reduce_logsumexp,
    reduce_max,
    reduce_mean,
    reduce_min,
    reduce_prod,
    reduce_std,
    reduce_sum,
    reduce_variance,
    sigmoid,
    sqrt,
    square,
    subtract,
    tanh,
)

# The TensorFlow 2 release whose API the stand-in follows, labelled as minikeras's.
TENSORFLOW_API_VERSION = "2.21.0"
__version__ = f"{TENSORFLOW_API_VERSION}+minikeras.{_minikeras_version}"
version = SimpleNamespace(VERSION=__version__, GIT_VERSION="minikeras",
                          COMPILER_VERSION="none")

Tensor = EagerTensor
newaxis = None

float16 = np.dtype("float16")
float32 = np.dtype("float32")
float64 = np.dtype("float64")
int8 = np.dtype("int8")
int16 = np.dtype("int16")
int32 = np.dtype("int32")
int64 = np.dtype("int64")
uint8 = np.dtype("uint8")
bool = np.dtype("bool")


# ------------------------------------------------------------------ tensors


def constant(value, dtype=None, shape=None, name=None):
    """A tensor holding `value` (Python floats become float32, ints int32, as TensorFlow's)."""
    array = np.array(arg(value), dtype=tensor_dtype(value, dtype))
    if shape is not None:
        array = np.broadcast_to(array, tuple(shape)).copy() if array.size == 1 else \
            array.reshape(tuple(shape))
    return out(array)


def convert_to_tensor(value, dtype=None, dtype_hint=None, name=None):
    """value as a tensor; a Variable or a tensor being differentiated stays what it is."""
    if isinstance(value, _tape.Tracked) or hasattr(value, "_is_variable"):
        return value if dtype is None else cast(value, dtype)
    return constant(value, dtype=dtype if dtype is not None else (
        dtype_hint if not isinstance(value, np.ndarray) and dtype_hint is not None else None))


def is_tensor(x):
    return isinstance(x, (EagerTensor, _tape.Tracked)) or hasattr(x, "_is_variable")


class Variable(_variables.Variable):
    """A mutable tensor (TensorFlow's argument order): `assign`, `assign_add`, `assign_sub`,
    `.numpy()`. A GradientTape watches it, and optimizers update it."""

    def __init__(self, initial_value, trainable=True, name=None, dtype=None, **kwargs):
        initial_value = arg(initial_value)
        super().__init__(initial_value, name=name or "Variable", trainable=trainable,
                         dtype=tensor_dtype(initial_value, dtype).name, **kwargs)

    @property
    def dtype(self):
        # TensorFlow's is a dtype object with `.name`; minikeras's Variable gives the name.
        return self.value.dtype

    def __repr__(self):
        return (f"<tf.Variable '{self.name}:0' shape={self.value.shape} "
                f"dtype={self.value.dtype.name}, numpy={self.value!r}>")


def ones(shape, dtype="float32", name=None):
    return out(np.ones(_shape_tuple(shape), dtype=np.dtype(_name(dtype))))


def zeros(shape, dtype="float32", name=None):
    return out(np.zeros(_shape_tuple(shape), dtype=np.dtype(_name(dtype))))


def ones_like(input, dtype=None, name=None):
    return call(ops.ones_like, input, dtype=dtype)


def zeros_like(input, dtype=None, name=None):
    return call(ops.zeros_like, input, dtype=dtype)


def fill(dims, value, name=None):
    return out(np.full(_shape_tuple(dims), value, dtype=tensor_dtype(value)))


def range(start, limit=None, delta=1, dtype=None, name=None):
    """start, start + delta, ... below limit (one argument: 0 .. start - 1)."""
    if limit is None:
        start, limit = 0, start
    if dtype is None:
        floats = any(isinstance(v, float) or np.asarray(v).dtype.kind == "f"
                     for v in (start, limit, delta))
        dtype = "float32" if floats else "int32"
    return out(np.arange(start, limit, delta).astype(_name(dtype)))


def cast(x, dtype, name=None):
    return call(ops.cast, x, _name(dtype))


def reshape(tensor, shape, name=None):
    return call(ops.reshape, tensor, _shape_tuple(shape))


def transpose(a, perm=None, name=None):
    return call(ops.transpose, a, None if perm is None else tuple(perm))


def concat(values, axis, name=None):
    return call(ops.concatenate, list(values), axis=axis)


def stack(values, axis=0, name=None):
    return call(ops.stack, list(values), axis=axis)


def expand_dims(input, axis, name=None):
    return call(ops.expand_dims, input, axis)


def squeeze(input, axis=None, name=None):
    return call(ops.squeeze, input, axis=axis)


def one_hot(indices, depth, on_value=None, off_value=None, axis=None, dtype="float32",
            name=None):
    encoded = ops.one_hot(np.asarray(arg(indices)), depth, axis=-1 if axis is None else axis,
                          dtype=_name(dtype))
    if on_value is not None or off_value is not None:
        on = 1 if on_value is None else on_value
        off = 0 if off_value is None else off_value
        encoded = np.where(encoded == 1, on, off).astype(encoded.dtype)
    return out(encoded)


def where(condition, x=None, y=None, name=None):
    if x is None and y is None:
        return out(np.argwhere(np.asarray(arg(condition))).astype("int64"))
    return call(ops.where, condition, x, y)


def clip_by_value(t, clip_value_min, clip_value_max, name=None):
    return call(ops.clip, t, clip_value_min, clip_value_max)


def gather(params, indices, axis=None, batch_dims=0, name=None):
    return call(ops.take, params, np.asarray(arg(indices)), axis=0 if axis is None else axis)


def tile(input, multiples, name=None):
    return call(ops.tile, input, tuple(np.asarray(multiples).ravel()))


def shape(input, out_type="int32", name=None):
    """The shape as an int32 tensor (TensorFlow's tf.shape)."""
    return out(np.asarray(ops.shape(arg(input)), dtype=_name(out_type)))


def size(input, out_type="int32", name=None):
    return out(np.asarray(ops.size(arg(input)), dtype=_name(out_type)))


def rank(input, name=None):
    return out(np.asarray(np.ndim(_tape.unwrap(arg(input))), dtype="int32"))


def identity(input, name=None):
    return input


def stop_gradient(input, name=None):
    return call(ops.stop_gradient, input)


def _name(dtype):
    return np.dtype(getattr(dtype, "name", dtype)).name


def _shape_tuple(shape):
    if isinstance(shape, (int, np.integer)):
        return (int(shape),)
    return tuple(int(d) for d in np.asarray(arg(shape)).ravel())


# ------------------------------------------------------------------ gradients and functions


class _WatchedTensor(EagerTensor):
    """A tensor `tape.watch(x)` was called on: inside a tape block it is read like a Variable
    (a leaf of the graph, so its gradient can be asked for), and Python operators on it go
    through keras.ops so they are recorded."""

    _is_variable = True     # ops/tape.py: read inside a trace, it becomes a leaf

    @property
    def value(self):
        return self.view(np.ndarray)

    def __add__(self, other): return ops.add(self, other)
    def __radd__(self, other): return ops.add(other, self)
    def __sub__(self, other): return ops.subtract(self, other)
    def __rsub__(self, other): return ops.subtract(other, self)
    def __mul__(self, other): return ops.multiply(self, other)
    def __rmul__(self, other): return ops.multiply(other, self)
    def __truediv__(self, other): return ops.divide(self, other)
    def __rtruediv__(self, other): return ops.divide(other, self)
    def __matmul__(self, other): return ops.matmul(self, other)
    def __rmatmul__(self, other): return ops.matmul(other, self)
    def __pow__(self, other): return ops.power(self, other)
    def __neg__(self): return ops.negative(self)

    def __getitem__(self, key):
        if _tape.active_trace() is not None:
            return ops.get_item(self, key)
        return self.view(np.ndarray)[key]


class GradientTape(_tape.GradientTape):
    """Records the operations run inside `with tf.GradientTape() as tape:` so that
    `tape.gradient(target, sources)` can give d(target)/d(sources); keras.ops's tape, with
    TensorFlow's `persistent` argument (minikeras's tape can always be asked again).

    Variables are watched on their own; `watch(x)` adds a tensor (tf.constant), whose
    gradient is then given like a Variable's."""

    def __init__(self, persistent=False, watch_accessed_variables=True):
        super().__init__()
        self.persistent = persistent
        self._used = False

    def watch(self, tensor):
        for item in tensor if isinstance(tensor, (list, tuple)) else [tensor]:
            if isinstance(item, EagerTensor):
                item.__class__ = _WatchedTensor
            elif not (isinstance(item, _tape.Tracked) or hasattr(item, "_is_variable")):
                raise ValueError("`watch` takes tensors (tf.constant) or Variables. Received: "
                                 f"tensor of type {type(item).__name__}")

    def gradient(self, target, sources, output_gradients=None, unconnected_gradients=None):
        if self._used and not self.persistent:
            raise RuntimeError(
                "A non-persistent GradientTape can only be used to compute one set of "
                "gradients. Create the tape with persistent=True to call gradient() again.")
        self._used = True
        grads = super().gradient(target, _sources(sources), output_gradients)
        if isinstance(grads, list):
            return [None if g is None else out(g) for g in grads]
        return None if grads is None else out(grads)


def _sources(sources):
    # model.trainable_variables may be a tuple or a generator (zip); keep lists as lists.
    if isinstance(sources, (list, tuple)):
        return list(sources)
    if isinstance(sources, dict):
        raise ValueError("`sources` as a dict is not supported by minikeras's GradientTape. "
                         f"Received: sources of type {type(sources).__name__}")
    return sources


def function(func=None, input_signature=None, autograph=True, jit_compile=None,
             reduce_retracing=False, experimental_compile=None, **kwargs):
    """Accepted as a decorator (with or without arguments): the function runs eagerly, as
    under tf.config.run_functions_eagerly(True)."""
    if func is None:
        return lambda f: f
    return func


def get_logger():
    """The "tensorflow" logger (scripts call setLevel on it)."""
    return logging.getLogger("tensorflow")


def executing_eagerly():
    return True


__all__ = [
    "config",
    "data",
    "linalg",
    "math",
    "nn",
    "random",
    "matmul",
    "abs",
    "add",
    "argmax",
    "argmin",
    "divide",
    "equal",
    "exp",
    "greater",
    "less",
    "log",
    "maximum",
    "minimum",
    "multiply",
    "not_equal",
    "pow",
    "reduce_all",
    "reduce_any",
    "reduce_logsumexp",
    "reduce_max",
    "reduce_mean",
    "reduce_min",
    "reduce_prod",
    "reduce_std",
    "reduce_sum",
    "reduce_variance",
    "sigmoid",
    "sqrt",
    "square",
    "subtract",
    "tanh",
    "__version__",
    "version",
    "Tensor",
    "newaxis",
    "float16",
    "float32",
    "float64",
    "int8",
    "int16",
    "int32",
    "int64",
    "uint8",
    "bool",
    "constant",
    "convert_to_tensor",
    "is_tensor",
    "Variable",
    "ones",
    "zeros",
    "ones_like",
    "zeros_like",
    "fill",
    "range",
    "cast",
    "reshape",
    "transpose",
    "concat",
    "stack",
    "expand_dims",
    "squeeze",
    "one_hot",
    "where",
    "clip_by_value",
    "gather",
    "tile",
    "shape",
    "size",
    "rank",
    "identity",
    "stop_gradient",
    "GradientTape",
    "function",
    "get_logger",
    "executing_eagerly",
]


def __getattr__(name):
    # Only for names not defined above. `tf.keras` is minikeras (through the aliasing when it
    # is installed, so `tf.keras is keras`).
    if name == "keras":
        from minikeras import _aliasing

        return importlib.import_module("tensorflow.keras" if _aliasing.is_installed()
                                       else "minikeras")
    raise missing("tensorflow", name)


def __dir__():
    return sorted(set(globals()) | {"keras"})
