"""What every module of the TensorFlow stand-in shares: the refusal of anything not provided,
and the conversion of results to tensors."""

import numpy as np

from minikeras import ops
from minikeras.backend.eager_tensor import EagerTensor, as_tensor

SUBSET_NOTE = (
    "minikeras stands in for Keras and provides the Keras API plus a small TensorFlow subset "
    "(tf.__version__, tf.random, tf.config, tensors and tf.math / tf.nn / tf.linalg basics, "
    "tf.Variable, tf.GradientTape, tf.function, tf.data.Dataset on in-memory data; README.md, "
    "'TensorFlow subset', lists it). Rewrite this part of the script with NumPy or the Keras "
    "API, or run it with real TensorFlow."
)


def missing(module_name, name):
    """The AttributeError for `module_name.name`, which the stand-in does not provide."""
    return AttributeError(f"module {module_name!r} has no attribute {name!r}: {SUBSET_NOTE}")


def tensor_dtype(value, dtype=None):
    """TensorFlow's dtype for a new tensor: Python floats -> float32, Python ints -> int32,
    NumPy arrays keep theirs."""
    if dtype is not None:
        return np.dtype(_dtype_name(dtype))
    if isinstance(value, (np.ndarray, np.generic, EagerTensor)):
        return np.asarray(value).dtype
    kind = np.asarray(value).dtype.kind
    if kind == "f":
        return np.dtype("float32")
    if kind in "iu":
        return np.dtype("int32")
    return np.asarray(value).dtype


def _dtype_name(dtype):
    return np.dtype(getattr(dtype, "name", dtype)).name


def out(value):
    """An op's result for the script: an EagerTensor (a tracked value inside a GradientTape
    block stays tracked, so the gradient flows)."""
    return as_tensor(value)


def arg(value):
    """A script's value as an op argument: Variables and tracked values pass through (the tape
    sees them), tensors become plain arrays."""
    if isinstance(value, EagerTensor) and not hasattr(value, "_is_variable"):
        return value.view(np.ndarray)       # (a watched tensor stays: the tape reads it)
    if isinstance(value, (list, tuple)):
        return [arg(v) for v in value]
    return value


def call(op, *args, **kwargs):
    """Runs a keras.ops op on the script's values and returns a tensor: the one place where a
    tf.* function becomes its keras.ops implementation."""
    return out(op(*[arg(a) for a in args], **kwargs))


__all__ = ["SUBSET_NOTE", "arg", "call", "missing", "ops", "out", "tensor_dtype"]
