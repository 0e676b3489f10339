"""Shared parts of BatchNormalization, LayerNormalization and GroupNormalization.

All three compute, over some axes of x,

    x_hat = (x - mean) / sqrt(var + epsilon)          out = gamma * x_hat + beta

and differ only in which axes the mean and variance are taken over (the batch for batch
normalization, the features for layer normalization, groups of channels for group
normalization) and in where gamma and beta broadcast. The maths lives here once.
"""

import numbers

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer, maybe_serialize

# Keras adds its backend epsilon to the count of unmasked entries of a masked mean.
MASKED_COUNT_EPSILON = 1e-7


def moments(x, axes, weights=None):
    """Mean and (biased) variance of x over `axes`, kept broadcastable to x.

    weights: None, or 1 (counted) / 0 (masked) entries broadcastable to x: the weighted
    versions Keras uses for masked inputs.
    """
    if weights is None:
        mean = x.mean(axis=axes, keepdims=True)
        var = np.square(x - mean).mean(axis=axes, keepdims=True)
        return mean, var
    count = _count(weights, x, axes)
    mean = (weights * x).sum(axis=axes, keepdims=True) / count
    var = (weights * np.square(x - mean)).sum(axis=axes, keepdims=True) / count
    return mean, var


def normalize_backward(dx_hat, x_hat, rstd, axes, weights=None):
    """dL/dx for x_hat = (x - mean(x)) * rstd(x) with mean and variance over `axes`:

        dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))

    With weights (a mask), only counted entries shape the statistics, but every x_hat
    depends on them: the sums run over all entries, divided by the counted ones, and only
    counted entries get the two mean terms.
    """
    if weights is None:
        return rstd * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                       - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
    count = _count(weights, x_hat, axes)
    mean_dx_hat = dx_hat.sum(axis=axes, keepdims=True) / count
    mean_dx_hat_x_hat = (dx_hat * x_hat).sum(axis=axes, keepdims=True) / count
    return rstd * (dx_hat - weights * (mean_dx_hat + x_hat * mean_dx_hat_x_hat))


def _count(weights, x, axes):
    return np.broadcast_to(weights, x.shape).sum(axis=axes, keepdims=True) \
        + MASKED_COUNT_EPSILON


def check_number(layer_type, name, value, positive=False):
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or (
            positive and value <= 0):
        kind = "a number > 0" if positive else "a number"
        raise ValueError(
            f"`{name}` of {layer_type} must be {kind}. Received: {name}={value!r}"
        )
    return float(value)


class ScaleShiftLayer(Layer):
    """A layer with Keras's optional gamma (scale) and beta (offset) weights.

    Subclasses call `_init_scale_shift(...)` from __init__ and `_add_scale_shift(shape)` from
    build; `_scale_shift_config()` gives the matching get_config entries.
    """

    def _init_scale_shift(self, epsilon, center, scale, beta_initializer, gamma_initializer,
                          beta_regularizer, gamma_regularizer, beta_constraint,
                          gamma_constraint):
        self.epsilon = check_number(type(self).__name__, "epsilon", epsilon, positive=True)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.gamma = self.beta = None
        self.supports_masking = True

    def _add_scale_shift(self, shape):
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)

    def _scale_shift(self, x_hat, shape):
        """gamma * x_hat + beta, with gamma and beta reshaped to `shape` to broadcast."""
        out = x_hat
        if self.scale:
            out = out * self.gamma.value.reshape(shape)
        if self.center:
            out = out + self.beta.value.reshape(shape)
        return out

    def _scale_shift_backward(self, dout, x_hat, shape, axes):
        """(dL/dx_hat, [dgamma, dbeta] as far as they exist and train); sums over `axes`."""
        dx_hat = dout * self.gamma.value.reshape(shape) if self.scale else dout
        grads = []
        if self.trainable:
            if self.scale:
                grads.append((dout * x_hat).sum(axis=axes).reshape(self.gamma.shape))
            if self.center:
                grads.append(dout.sum(axis=axes).reshape(self.beta.shape))
        return dx_hat, grads


    def _scale_shift_config(self):
        return {
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "beta_regularizer": maybe_serialize(regularizers.serialize, self.beta_regularizer),
            "gamma_regularizer": maybe_serialize(regularizers.serialize,
                                                 self.gamma_regularizer),
            "beta_constraint": maybe_serialize(constraints.serialize, self.beta_constraint),
            "gamma_constraint": maybe_serialize(constraints.serialize, self.gamma_constraint),
        }


def axis_list(layer_type, axis):
    """An int or a list/tuple of ints -> list of ints (Keras's `axis` of the normalizers)."""
    axes = list(axis) if isinstance(axis, (list, tuple)) else [axis]
    if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                       for a in axes):
        raise TypeError(
            f"Expected an int or a list/tuple of ints for the argument 'axis' of "
            f"{layer_type}. Received: axis={axis!r}"
        )
    return [int(a) for a in axes]


def check_axes_in_range(axes, input_shape, axis):
    for a in axes:
        if not -len(input_shape) <= a < len(input_shape):
            raise ValueError(
                f"Axis {a} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={axis}"
            )
