"""tf.math: each function is its keras.ops op under TensorFlow's name and argument names."""

import numpy as np

from minikeras.tf_standin._common import arg, call, missing, ops, out


def _unary(op):
    def function(x, name=None):
        return call(op, x)
    function.__name__ = function.__qualname__ = op.__name__
    function.__doc__ = f"TensorFlow's spelling of keras.ops.{op.__name__}."
    return function


def _binary(op):
    def function(x, y, name=None):
        return call(op, x, y)
    function.__name__ = function.__qualname__ = op.__name__
    function.__doc__ = f"TensorFlow's spelling of keras.ops.{op.__name__}."
    return function


abs = _unary(ops.abs)
exp = _unary(ops.exp)
log = _unary(ops.log)
log1p = _unary(ops.log1p)
sqrt = _unary(ops.sqrt)
square = _unary(ops.square)
negative = _unary(ops.negative)
sign = _unary(ops.sign)
round = _unary(ops.round)
floor = _unary(ops.floor)
ceil = _unary(ops.ceil)
sin = _unary(ops.sin)
cos = _unary(ops.cos)
tanh = _unary(ops.tanh)
sigmoid = _unary(ops.sigmoid)
softplus = _unary(ops.softplus)
reciprocal = _unary(ops.reciprocal)
is_nan = _unary(ops.isnan)
is_finite = _unary(ops.isfinite)
logical_not = _unary(ops.logical_not)

add = _binary(ops.add)
subtract = _binary(ops.subtract)
multiply = _binary(ops.multiply)
divide = _binary(ops.divide)
truediv = divide
pow = _binary(ops.power)
maximum = _binary(ops.maximum)
minimum = _binary(ops.minimum)
floordiv = _binary(ops.floor_divide)
mod = _binary(ops.mod)
equal = _binary(ops.equal)
not_equal = _binary(ops.not_equal)
greater = _binary(ops.greater)
greater_equal = _binary(ops.greater_equal)
less = _binary(ops.less)
less_equal = _binary(ops.less_equal)
logical_and = _binary(ops.logical_and)
logical_or = _binary(ops.logical_or)


def rsqrt(x, name=None):
    """1 / sqrt(x)."""
    return call(lambda v: ops.reciprocal(ops.sqrt(v)), x)


def _reduction(op):
    def function(input_tensor, axis=None, keepdims=False, name=None):
        return call(op, input_tensor, axis=_axis(axis), keepdims=keepdims)
    function.__name__ = function.__qualname__ = "reduce_" + op.__name__
    function.__doc__ = f"TensorFlow's spelling of keras.ops.{op.__name__}."
    return function


def _axis(axis):
    if isinstance(axis, list):
        return tuple(axis)
    if isinstance(axis, np.ndarray):
        return tuple(int(a) for a in axis.ravel()) if axis.ndim else int(axis)
    return axis


reduce_sum = _reduction(ops.sum)
reduce_mean = _reduction(ops.mean)
reduce_max = _reduction(ops.max)
reduce_min = _reduction(ops.min)
reduce_prod = _reduction(ops.prod)
reduce_std = _reduction(ops.std)
reduce_variance = _reduction(ops.var)
reduce_any = _reduction(ops.any)
reduce_all = _reduction(ops.all)


def reduce_logsumexp(input_tensor, axis=None, keepdims=False, name=None):
    return call(ops.logsumexp, input_tensor, axis=_axis(axis), keepdims=keepdims)


def argmax(input, axis=None, output_type="int64", name=None):
    """Index of the largest value along `axis` (TensorFlow's default axis is 0)."""
    return out(ops.cast(ops.argmax(arg(input), axis=0 if axis is None else axis), output_type))


def argmin(input, axis=None, output_type="int64", name=None):
    """Index of the smallest value along `axis` (TensorFlow's default axis is 0)."""
    return out(ops.cast(ops.argmin(arg(input), axis=0 if axis is None else axis), output_type))


def count_nonzero(input, axis=None, keepdims=False, dtype="int64", name=None):
    counts = ops.count_nonzero(arg(input), axis=_axis(axis))
    if keepdims:
        counts = np.expand_dims(counts, _axis(axis)) if axis is not None else np.reshape(
            counts, (1,) * np.ndim(arg(input)))
    return out(np.asarray(counts, dtype=dtype))


def __getattr__(name):
    raise missing("tensorflow.math", name)
