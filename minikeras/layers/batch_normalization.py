"""`BatchNormalization`: normalise each feature by its mean and variance over the batch.

Training (training=True on a trainable layer), for each feature c along `axis`:

    mean_c = mean of x over every other axis          var_c = mean of (x - mean_c)^2
    x_hat = (x - mean_c) / sqrt(var_c + epsilon)       out = gamma_c * x_hat + beta_c

and the moving statistics follow the batch ones: moving = moving * momentum + batch *
(1 - momentum). Inference (training=False, or a frozen layer, as in Keras 3) uses the moving
statistics instead, so the output no longer depends on the rest of the batch.
"""

import numbers

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer, maybe_serialize


class BatchNormalization(Layer):
    """Batch normalization (Ioffe and Szegedy, 2015).

    Args:
        axis: the feature axis (an int; -1 for channels last).
        momentum: the moving statistics' decay per training step.
        epsilon: added to the variance before the square root.
        center / scale: whether to learn beta / gamma.
        beta_initializer, gamma_initializer, moving_mean_initializer,
        moving_variance_initializer, beta_regularizer, gamma_regularizer, beta_constraint,
        gamma_constraint: as in Keras.
        synchronized, renorm: accepted for Keras compatibility; must be False.

    Shapes: x (batch, ...) -> out of the same shape. Weights (each (features,)): gamma,
    beta (trainable), moving_mean, moving_variance (not trainable), in that order.
    """

    def __init__(self, axis=-1, momentum=0.99, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones",
                 moving_mean_initializer="zeros", moving_variance_initializer="ones",
                 beta_regularizer=None, gamma_regularizer=None, beta_constraint=None,
                 gamma_constraint=None, synchronized=False, renorm=False,
                 renorm_clipping=None, renorm_momentum=0.99, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(
                f"`axis` of BatchNormalization must be an int. Received: axis={axis!r}"
            )
        for name, value in (("momentum", momentum), ("epsilon", epsilon)):
            if isinstance(value, bool) or not isinstance(value, numbers.Real):
                raise ValueError(
                    f"`{name}` of BatchNormalization must be a number. "
                    f"Received: {name}={value!r}"
                )
        if epsilon <= 0:
            raise ValueError(
                f"`epsilon` of BatchNormalization must be > 0. Received: epsilon={epsilon!r}"
            )
        if synchronized or renorm:
            raise ValueError(
                "minikeras's BatchNormalization has no synchronized or renorm mode. "
                f"Received: synchronized={synchronized!r}, renorm={renorm!r}"
            )
        self.axis = int(axis)
        self.momentum = float(momentum)
        self.epsilon = float(epsilon)
        self.center = bool(center)
        self.scale = bool(scale)
        self.beta_initializer = initializers.get(beta_initializer)
        self.gamma_initializer = initializers.get(gamma_initializer)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.beta_regularizer = regularizers.get(beta_regularizer)
        self.gamma_regularizer = regularizers.get(gamma_regularizer)
        self.beta_constraint = constraints.get(beta_constraint)
        self.gamma_constraint = constraints.get(gamma_constraint)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self.supports_masking = True

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        self._feature_axis = self.axis % rank
        features = input_shape[self._feature_axis]
        if features is None:
            raise ValueError(
                f"BatchNormalization layer {self.name!r} needs the size of axis {self.axis}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._expected_shape = (rank, int(features))
        # The axes the statistics are taken over: all but the feature axis.
        self._reduction_axes = tuple(a for a in range(rank) if a != self._feature_axis)
        shape = (int(features),)
        self.gamma = self.beta = None
        if self.scale:
            self.gamma = self.add_weight(shape, self.gamma_initializer, name="gamma",
                                         regularizer=self.gamma_regularizer,
                                         constraint=self.gamma_constraint)
        if self.center:
            self.beta = self.add_weight(shape, self.beta_initializer, name="beta",
                                        regularizer=self.beta_regularizer,
                                        constraint=self.beta_constraint)
        self.moving_mean = self.add_weight(shape, self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight(shape, self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        self.built = True

    def compute_output_shape(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        return tuple(input_shape)

    def _broadcast(self, v, ndim):
        """A (features,) vector shaped to broadcast along the feature axis of a rank-ndim x."""
        shape = [1] * ndim
        shape[self._feature_axis] = v.shape[0]
        return v.reshape(shape)

    # ------------------------------------------------------------------ maths

    def forward(self, x, training=False, mask=None):
        """x: (batch, ...), features on `axis`; mask: None or x's shape without the last axis
        (masked positions take no part in the batch statistics). Returns (out, cache)."""
        self._check_input(x, mask)
        ndim = x.ndim
        weights = None
        if mask is not None:
            weights = np.expand_dims(np.asarray(mask, dtype=x.dtype), -1)    # (..., 1)
        if training and self.trainable:
            mean, var = _moments(x, self._reduction_axes, weights)     # keepdims shapes
            keep = 1.0 - self.momentum
            self.moving_mean.assign(self.moving_mean.value * self.momentum
                                    + mean.reshape(-1) * keep)
            self.moving_variance.assign(self.moving_variance.value * self.momentum
                                        + var.reshape(-1) * keep)
            batch_stats = True
        else:
            mean = self._broadcast(self.moving_mean.value, ndim)
            var = self._broadcast(self.moving_variance.value, ndim)
            batch_stats = False
        rstd = 1.0 / np.sqrt(var + self.epsilon)                    # 1 / sqrt(var + eps)
        x_hat = (x - mean) * rstd
        out = x_hat
        if self.scale:
            out = out * self._broadcast(self.gamma.value, ndim)
        if self.center:
            out = out + self._broadcast(self.beta.value, ndim)
        return out.astype(x.dtype, copy=False), (x_hat, rstd, weights, batch_stats)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """With the batch's statistics, x_hat depends on every x through mean and var:

            dx = rstd * (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat))

        (means over the reduction axes; with a mask, sums divided by the unmasked count, and
        only unmasked entries get the two mean terms). With the
        moving statistics, mean and var are constants: dx = rstd * dx_hat.
        dgamma = sum(dout * x_hat), dbeta = sum(dout) over the reduction axes.
        """
        x_hat, rstd, weights, batch_stats = cache
        axes = self._reduction_axes
        dx_hat = dout
        if self.scale:
            dx_hat = dout * self._broadcast(self.gamma.value, dout.ndim)
        dx = None
        if need_input_gradient:
            if not batch_stats:
                dx = dx_hat * rstd
            elif weights is None:
                dx = rstd * (dx_hat - dx_hat.mean(axis=axes, keepdims=True)
                             - x_hat * (dx_hat * x_hat).mean(axis=axes, keepdims=True))
            else:
                count = (weights * np.ones_like(x_hat)).sum(axis=axes, keepdims=True) \
                    + _KERAS_EPSILON
                # Only unmasked entries (weight 1) shape the statistics, but every output,
                # masked or not, depends on them: the sums run over all entries.
                mean_dx_hat = dx_hat.sum(axis=axes, keepdims=True) / count
                mean_dx_hat_x_hat = (dx_hat * x_hat).sum(axis=axes, keepdims=True) / count
                dx = rstd * (dx_hat - weights * mean_dx_hat
                             - weights * x_hat * mean_dx_hat_x_hat)
            dx = dx.astype(dout.dtype, copy=False)
        grads = []
        if self.trainable:
            if self.scale:
                grads.append((dout * x_hat).sum(axis=axes))        # dgamma (features,)
            if self.center:
                grads.append(dout.sum(axis=axes))                  # dbeta (features,)
        return dx, grads

    def compute_mask(self, inputs, mask=None):
        return mask

    def _check_input(self, x, mask):
        rank, features = self._expected_shape
        if x.ndim != rank or x.shape[self._feature_axis] != features:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={rank} and axis {self.axis} of size {features}. Received: input with "
                f"shape {x.shape}"
            )
        if mask is not None and np.ndim(mask) != x.ndim - 1:
            raise ValueError(
                "The mask provided should be one dimension less than the inputs. Received: "
                f"mask.shape={np.shape(mask)}, inputs.shape={x.shape}"
            )

    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "center": self.center,
            "scale": self.scale,
            "beta_initializer": initializers.serialize(self.beta_initializer),
            "gamma_initializer": initializers.serialize(self.gamma_initializer),
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "beta_regularizer": maybe_serialize(regularizers.serialize, self.beta_regularizer),
            "gamma_regularizer": maybe_serialize(regularizers.serialize,
                                                 self.gamma_regularizer),
            "beta_constraint": maybe_serialize(constraints.serialize, self.beta_constraint),
            "gamma_constraint": maybe_serialize(constraints.serialize, self.gamma_constraint),
            "synchronized": False,
            "renorm": False,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        })
        return config


# Keras adds its backend epsilon to the count of unmasked entries.
_KERAS_EPSILON = 1e-7


def _moments(x, axes, weights=None):
    """Mean and (biased) variance over `axes`, kept as broadcastable shapes; with weights
    (1 = counted, 0 = masked), the weighted versions Keras uses for masked inputs."""
    if weights is None:
        mean = x.mean(axis=axes, keepdims=True)
        var = np.square(x - mean).mean(axis=axes, keepdims=True)
        return mean, var
    count = (weights * np.ones_like(x)).sum(axis=axes, keepdims=True) + _KERAS_EPSILON
    mean = (weights * x).sum(axis=axes, keepdims=True) / count
    var = (weights * np.square(x - mean)).sum(axis=axes, keepdims=True) / count
    return mean, var
