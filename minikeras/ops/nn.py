"""keras.ops's neural-network ops: activations, one_hot, cross-entropies, conv and max_pool.

The activations are the built-in ones (minikeras/activations/), whose forward and backward
already sit side by side; `_activation_op` puts them on the tape. The cross-entropies are
written with ops, as Keras's TensorFlow backend computes them, so their gradients follow.
conv and max_pool use the layers' kernels (minikeras/kernels/) and their backward passes.
"""

import numpy as np

from minikeras import activations as _activations
from minikeras import backend
from minikeras.kernels import conv as _conv
from minikeras.kernels import pooling as _pooling
from minikeras.ops import numpy as _np_ops
from minikeras.ops.tape import primitive


def _activation_op(name, **defaults):
    """An op from a built-in activation: forward(x) -> (y, cache), vjp = its backward."""
    function = _activations.get(name)

    def forward(x, **kwargs):
        x = np.asarray(x)
        if x.dtype.kind != "f":
            x = x.astype(backend.floatx())
        y, cache = function.forward(x, **{**defaults, **kwargs})
        return y, lambda g: (function.backward(g, cache),)

    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"keras.ops.{name}: the `{name}` activation (activations.{name})."
    return primitive(forward)


relu = _activation_op("relu")
relu6 = _activation_op("relu6")
sigmoid = _activation_op("sigmoid")
tanh = _activation_op("tanh")
softplus = _activation_op("softplus")
softsign = _activation_op("softsign")
silu = _activation_op("silu")
swish = silu
elu = _activation_op("elu")
selu = _activation_op("selu")
leaky_relu = _activation_op("leaky_relu")
hard_sigmoid = _activation_op("hard_sigmoid")
log_sigmoid = _activation_op("log_sigmoid")
gelu = _activation_op("gelu", approximate=True)      # keras.ops.gelu's default
_softmax = _activation_op("softmax")
_log_softmax = _activation_op("log_softmax")


def softmax(x, axis=-1):
    """exp(x) / sum(exp(x)) along `axis`."""
    return _softmax(x, axis=axis)


def log_softmax(x, axis=-1):
    """x - logsumexp(x) along `axis`."""
    return _log_softmax(x, axis=axis)


def one_hot(x, num_classes, axis=-1, dtype=None, sparse=False):
    """Integer labels (any shape) -> one-hot floats with a new axis of num_classes."""
    x = np.asarray(x).astype("int64")
    out = (x[..., None] == np.arange(num_classes)).astype(dtype or backend.floatx())
    if axis != -1:
        out = np.moveaxis(out, -1, axis)
    return out


def _check_same_shape(target, output):
    if np.ndim(target) != np.ndim(output) or np.shape(target) != np.shape(output):
        raise ValueError(
            "Arguments `target` and `output` must have the same shape. Received: "
            f"target.shape={np.shape(target)}, output.shape={np.shape(output)}"
        )


def binary_crossentropy(target, output, from_logits=False):
    """Elementwise binary cross-entropy (same shape as output), as Keras on TensorFlow:

        from logits x:   max(x, 0) - x t + log(1 + exp(-|x|))
        from probabilities p, clipped to [eps, 1 - eps]:   -(t log p + (1 - t) log(1 - p))
    """
    _check_same_shape(target, output)
    if from_logits:
        x = output
        return _np_ops.add(_np_ops.subtract(relu(x), _np_ops.multiply(x, target)),
                           _np_ops.log1p(_np_ops.exp(_np_ops.negative(_np_ops.abs(x)))))
    eps = backend.epsilon()
    p = _np_ops.clip(output, eps, 1.0 - eps)
    positive = _np_ops.multiply(target, _np_ops.log(p))
    negative = _np_ops.multiply(_np_ops.subtract(1, target), _np_ops.log(_np_ops.subtract(1, p)))
    return _np_ops.negative(_np_ops.add(positive, negative))


def categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-sum(target * log(output)) along `axis`: output rescaled to sum to 1 and clipped to
    [eps, 1 - eps] (Keras's TensorFlow backend), or log_softmax of logits."""
    _check_same_shape(target, output)
    if from_logits:
        log_p = log_softmax(output, axis=axis)
    else:
        eps = backend.epsilon()
        p = _np_ops.divide(output, _np_ops.sum(output, axis=axis, keepdims=True))
        log_p = _np_ops.log(_np_ops.clip(p, eps, 1.0 - eps))
    return _np_ops.negative(_np_ops.sum(_np_ops.multiply(target, log_p), axis=axis))


def sparse_categorical_crossentropy(target, output, from_logits=False, axis=-1):
    """-log(output[target]) along `axis`, target holding class indices."""
    target = np.asarray(target).astype("int64")
    if target.ndim == np.ndim(output) and target.shape[-1] == 1:
        target = target[..., 0]
    if from_logits:
        log_p = log_softmax(output, axis=axis)
    else:
        eps = backend.epsilon()
        p = _np_ops.divide(output, _np_ops.sum(output, axis=axis, keepdims=True))
        log_p = _np_ops.log(_np_ops.clip(p, eps, 1.0 - eps))
    picked = _np_ops.take_along_axis(log_p, np.expand_dims(target, axis), axis=axis)
    return _np_ops.negative(_np_ops.squeeze(picked, axis=axis))


def _pair(value, name):
    if isinstance(value, int):
        return (value, value)
    value = tuple(value)
    if len(value) != 2:
        raise ValueError(f"Expected an int or a pair of ints. Received: {name}={value!r}")
    return value


@primitive
def conv(inputs, kernel, strides=1, padding="valid", data_format=None, dilation_rate=1):
    """2-D convolution, channels last: inputs (batch, height, width, in_channels), kernel
    (kh, kw, in_channels, filters) -> (batch, out_height, out_width, filters). Forward and
    backward are Conv2D's kernels (kernels/conv.py)."""
    if np.ndim(inputs) != 4:
        raise ValueError(
            "minikeras's ops.conv supports 2-D convolution (4-D inputs) only. Received: "
            f"inputs.shape={np.shape(inputs)}"
        )
    if data_format not in (None, "channels_last"):
        raise ValueError(f"Only channels_last is supported. Received: data_format={data_format!r}")
    groups = np.shape(inputs)[-1] // np.shape(kernel)[2]
    out, cache = _conv.conv2d_forward(np.asarray(inputs), np.asarray(kernel),
                                      strides=_pair(strides, "strides"), padding=padding,
                                      dilation_rate=_pair(dilation_rate, "dilation_rate"),
                                      groups=groups)

    def vjp(g):
        dx, dkernel, _ = _conv.conv2d_backward(g, cache)
        return dx, dkernel

    return out, vjp


@primitive
def max_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """2-D max pooling, channels last: (batch, height, width, channels). Forward and backward
    are MaxPooling2D's kernels (kernels/pooling.py)."""
    pool_size = _pair(pool_size, "pool_size")
    strides = pool_size if strides is None else _pair(strides, "strides")
    out, cache = _pooling.pool2d_forward(np.asarray(inputs), pool_size, strides, padding,
                                         mode="max")
    return out, lambda g: (_pooling.pool2d_backward(g, cache),)


@primitive
def average_pool(inputs, pool_size, strides=None, padding="valid", data_format=None):
    """2-D average pooling, channels last."""
    pool_size = _pair(pool_size, "pool_size")
    strides = pool_size if strides is None else _pair(strides, "strides")
    out, cache = _pooling.pool2d_forward(np.asarray(inputs), pool_size, strides, padding,
                                         mode="average")
    return out, lambda g: (_pooling.pool2d_backward(g, cache),)
