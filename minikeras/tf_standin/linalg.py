"""tf.linalg: matmul (with TensorFlow's transpose flags) and norm, as keras.ops ops."""

from minikeras.tf_standin._common import arg, call, missing, ops, out


def matmul(a, b, transpose_a=False, transpose_b=False, name=None):
    """a @ b, either operand transposed first over its last two axes."""
    a, b = arg(a), arg(b)
    if transpose_a:
        a = ops.transpose(a, _swap_last_two(ops.ndim(a)))
    if transpose_b:
        b = ops.transpose(b, _swap_last_two(ops.ndim(b)))
    return out(ops.matmul(a, b))


def _swap_last_two(ndim):
    return tuple(range(ndim - 2)) + (ndim - 1, ndim - 2)


def norm(tensor, ord="euclidean", axis=None, keepdims=None, name=None):
    order = None if ord in ("euclidean", 2) and axis is None else ord
    if order == "euclidean":
        order = None
    return call(ops.norm, tensor, ord=order, axis=axis, keepdims=bool(keepdims))


def __getattr__(name):
    raise missing("tensorflow.linalg", name)
