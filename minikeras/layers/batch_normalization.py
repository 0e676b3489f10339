"""`BatchNormalization`: normalise each feature by its mean and variance over the batch.

Training (training=True on a trainable layer), for each feature c along `axis`:

    mean_c = mean of x over every other axis          var_c = mean of (x - mean_c)^2
    x_hat = (x - mean_c) / sqrt(var_c + epsilon)       out = gamma_c * x_hat + beta_c

and the moving statistics follow the batch ones: moving = moving * momentum + batch *
(1 - momentum). Inference (training=False, or a frozen layer, as in Keras 3) uses the moving
statistics instead, so the output no longer depends on the rest of the batch.
"""

import numpy as np

from minikeras import initializers
from minikeras.kernels.workspace import Workspace
from minikeras.layers.base_normalization import (
    ScaleShiftLayer,
    check_axes_in_range,
    check_number,
    moments,
    normalize_backward,
)


class BatchNormalization(ScaleShiftLayer):
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

    Call: forward(x, training, mask); mask: x's shape without the last axis, masked
    positions take no part in the batch statistics.
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
        if synchronized or renorm:
            raise ValueError(
                "minikeras's BatchNormalization has no synchronized or renorm mode. "
                f"Received: synchronized={synchronized!r}, renorm={renorm!r}"
            )
        self.axis = int(axis)
        self.momentum = check_number("BatchNormalization", "momentum", momentum)
        self._init_scale_shift(epsilon, center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint,
                               gamma_constraint)
        self.moving_mean_initializer = initializers.get(moving_mean_initializer)
        self.moving_variance_initializer = initializers.get(moving_variance_initializer)
        self.renorm_clipping = renorm_clipping
        self.renorm_momentum = renorm_momentum
        self._workspace = Workspace()   # big arrays reused from step to step

    def build(self, input_shape):
        check_axes_in_range([self.axis], input_shape, self.axis)
        rank = len(input_shape)
        self._feature_axis = self.axis % rank
        features = input_shape[self._feature_axis]
        if features is None:
            raise ValueError(
                f"BatchNormalization layer {self.name!r} needs the size of axis {self.axis}. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._expected = (rank, int(features))
        # The statistics are taken over every axis but the feature axis.
        self._reduction_axes = tuple(a for a in range(rank) if a != self._feature_axis)
        self._feature_shape = tuple(int(features) if a == self._feature_axis else 1
                                    for a in range(rank))
        self._add_scale_shift((int(features),))
        self.moving_mean = self.add_weight((int(features),), self.moving_mean_initializer,
                                           name="moving_mean", trainable=False)
        self.moving_variance = self.add_weight((int(features),),
                                               self.moving_variance_initializer,
                                               name="moving_variance", trainable=False)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_axes_in_range([self.axis], input_shape, self.axis)
        return tuple(input_shape)

    # ------------------------------------------------------------------ maths

    def forward(self, x, training=False, mask=None):
        """x: (batch, ...), features on `axis`; mask: None or x.shape[:-1].
        Returns (out, cache), out of x's shape."""
        self._check_input(x, mask)
        if mask is None and self._feature_axis == x.ndim - 1:
            return self._forward_rows(x, training)
        weights = None if mask is None else np.asarray(mask, dtype=x.dtype)[..., None]
        batch_statistics = bool(training) and self.trainable
        if batch_statistics:
            mean, var = moments(x, self._reduction_axes, weights)
            self._update_moving_statistics(mean.reshape(-1), var.reshape(-1))
        else:
            mean = self.moving_mean.value.reshape(self._feature_shape)
            var = self.moving_variance.value.reshape(self._feature_shape)
        rstd = 1.0 / np.sqrt(var + self.epsilon)                # (1, ..., features, ...)
        x_hat = (x - mean) * rstd
        out = self._scale_shift(x_hat, self._feature_shape)
        return out.astype(x.dtype, copy=False), (x_hat, rstd, weights, batch_statistics)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """With the batch's statistics x_hat depends on the whole batch (normalize_backward);
        with the moving ones, mean and var are constants: dx = rstd * dx_hat.
        dgamma = sum(dout * x_hat), dbeta = sum(dout), over every axis but the features."""
        if isinstance(cache[0], str):      # "rows": the fast path below made it
            return self._backward_rows(dout, cache, need_input_gradient)
        x_hat, rstd, weights, batch_statistics = cache
        dx_hat, grads = self._scale_shift_backward(dout, x_hat, self._feature_shape,
                                                   self._reduction_axes)
        dx = None
        if need_input_gradient:
            if batch_statistics:
                dx = normalize_backward(dx_hat, x_hat, rstd, self._reduction_axes, weights)
            else:
                dx = dx_hat * rstd
            dx = dx.astype(dout.dtype, copy=False)
        return dx, grads

    def _update_moving_statistics(self, mean, var):
        """moving = moving * momentum + batch * (1 - momentum), for mean and variance."""
        keep = 1.0 - self.momentum
        self.moving_mean.assign(self.moving_mean.value * self.momentum + mean * keep)
        self.moving_variance.assign(self.moving_variance.value * self.momentum + var * keep)

    # The same maths for the common case, features on the last axis and no mask, on the
    # (rows, features) view of x: NumPy is several times faster there than broadcasting
    # (1, 1, 1, features) vectors over a 4-D array, and the two sums that the backward pass
    # needs are dbeta and dgamma themselves (see _backward_rows). tests/test_norm_activation_
    # layers.py checks this path against the general one above.

    def _forward_rows(self, x, training):
        """x: (..., features). Returns (out, cache) as forward does. The big arrays come from
        the layer's workspace (kernels/workspace.py), reused from step to step."""
        rows = x.reshape(-1, x.shape[-1])                       # (M, features)
        ws = self._workspace
        x_hat = ws.empty("x_hat", rows.shape, x.dtype)
        if bool(training) and self.trainable:
            mean = rows.mean(axis=0)                            # (features,)
            np.subtract(rows, mean, out=x_hat)                  # x - mean
            var = np.einsum("ij,ij->j", x_hat, x_hat) / rows.shape[0]
            self._update_moving_statistics(mean, var)
            rstd = (1.0 / np.sqrt(var + self.epsilon)).astype(x.dtype)
            batch_statistics = True
        else:
            np.subtract(rows, self.moving_mean.value, out=x_hat)
            rstd = (1.0 / np.sqrt(self.moving_variance.value + self.epsilon)).astype(x.dtype)
            batch_statistics = False
        np.multiply(x_hat, rstd, out=x_hat)                     # x_hat = (x - mean) * rstd
        out = ws.empty("out", rows.shape, x.dtype)
        if self.scale:
            np.multiply(x_hat, self.gamma.value, out=out)
        else:
            np.copyto(out, x_hat)
        if self.center:
            out += self.beta.value
        return out.reshape(x.shape), ("rows", x_hat, rstd, batch_statistics)

    def _backward_rows(self, dout, cache, need_input_gradient):
        """With M rows, dbeta = sum(dout), dgamma = sum(dout * x_hat) (over the rows), and
        since dx_hat = gamma * dout, the two means in normalize_backward are
        mean(dx_hat) = gamma * dbeta / M and mean(dx_hat * x_hat) = gamma * dgamma / M:

            dx = gamma * rstd * (dout - dbeta / M - x_hat * dgamma / M)
        """
        _, x_hat, rstd, batch_statistics = cache
        rows = dout.reshape(-1, dout.shape[-1])                 # (M, features)
        dbeta = rows.sum(axis=0)
        dgamma = np.einsum("ij,ij->j", rows, x_hat)
        grads = []
        if self.trainable:
            if self.scale:
                grads.append(dgamma)
            if self.center:
                grads.append(dbeta)
        dx = None
        if need_input_gradient:
            a = rstd * self.gamma.value if self.scale else rstd         # (features,)
            dx = self._workspace.empty("dx", rows.shape, dout.dtype)
            np.multiply(rows, a, out=dx)
            if batch_statistics:
                m = rows.shape[0]
                term = self._workspace.empty("term", rows.shape, dout.dtype)
                np.multiply(x_hat, (a * dgamma / m).astype(dout.dtype), out=term)
                dx -= term
                dx -= (a * dbeta / m).astype(dout.dtype)
            dx = dx.reshape(dout.shape)
        return dx, grads

    def _check_input(self, x, mask):
        rank, features = self._expected
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
        config.update({"axis": self.axis, "momentum": self.momentum})
        config.update(self._scale_shift_config())
        config.update({
            "moving_mean_initializer": initializers.serialize(self.moving_mean_initializer),
            "moving_variance_initializer": initializers.serialize(
                self.moving_variance_initializer),
            "synchronized": False,
            "renorm": False,
            "renorm_clipping": self.renorm_clipping,
            "renorm_momentum": self.renorm_momentum,
        })
        return config
