"""tf.nn: activations and the cross-entropies written on logits, as keras.ops ops."""

from minikeras.tf_standin._common import call, missing, ops
from minikeras.tf_standin.math import reduce_mean  # noqa: F401  (tf.nn scripts reach for it)


def relu(features, name=None):
    return call(ops.relu, features)


def relu6(features, name=None):
    return call(ops.relu6, features)


def sigmoid(x, name=None):
    return call(ops.sigmoid, x)


def tanh(x, name=None):
    return call(ops.tanh, x)


def softplus(features, name=None):
    return call(ops.softplus, features)


def elu(features, name=None):
    return call(ops.elu, features)


def selu(features, name=None):
    return call(ops.selu, features)


def silu(features, beta=1.0, name=None):
    if beta != 1.0:
        return call(lambda x: ops.multiply(x, ops.sigmoid(ops.multiply(x, beta))), features)
    return call(ops.silu, features)


swish = silu


def gelu(features, approximate=False, name=None):
    return call(ops.gelu, features, approximate=approximate)


def leaky_relu(features, alpha=0.2, name=None):
    return call(ops.leaky_relu, features, negative_slope=alpha)


def softmax(logits, axis=None, name=None):
    return call(ops.softmax, logits, axis=-1 if axis is None else axis)


def log_softmax(logits, axis=None, name=None):
    return call(ops.log_softmax, logits, axis=-1 if axis is None else axis)


def softmax_cross_entropy_with_logits(labels, logits, axis=-1, name=None):
    """Per-sample cross-entropy of one-hot (or soft) labels against logits."""
    return call(ops.categorical_crossentropy, labels, logits, from_logits=True, axis=axis)


def sparse_softmax_cross_entropy_with_logits(labels, logits, name=None):
    """Per-sample cross-entropy of integer labels against logits."""
    return call(ops.sparse_categorical_crossentropy, labels, logits, from_logits=True)


def sigmoid_cross_entropy_with_logits(labels=None, logits=None, name=None):
    """Element-wise binary cross-entropy of labels against logits (no reduction)."""
    # max(z, 0) - z * y + log(1 + exp(-|z|)): TensorFlow's overflow-free form.
    def loss(y, z):
        return ops.add(ops.subtract(ops.relu(z), ops.multiply(z, y)),
                       ops.log1p(ops.exp(ops.negative(ops.abs(z)))))
    return call(loss, labels, logits)


def __getattr__(name):
    raise missing("tensorflow.nn", name)
