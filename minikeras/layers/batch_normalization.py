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
from minikeras.kernels import batch_norm_fast, kernels
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
        if mask is None and self._feature_axis == x.ndim - 1 \
                and x.size >= batch_norm_fast.FAST_MIN_ELEMENTS and kernels() == "fast":
            return self._forward_fast(x, training)
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
        if isinstance(cache[0], str):      # "fast": _forward_fast made it
            return self._backward_fast(dout, cache, need_input_gradient)
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

    # The same maths for the common case, features on the last axis and no mask, run by the
    # fast kernel (kernels/batch_norm_fast.py) on the (rows, features) view of x, unless
    # minikeras.config.set_kernels("reference") asks for the plain version above.
    # tests/test_batch_normalization_fast.py checks the two agree.

    def _forward_fast(self, x, training):
        """x: (..., features). Returns (out, cache) as forward does; the cache keeps x's rows
        and the statistics, not x_hat (the kernel's backward formulas use x itself)."""
        rows = x.reshape(-1, x.shape[-1])                       # (M, features)
        batch_statistics = bool(training) and self.trainable
        if batch_statistics:
            mean, var = batch_norm_fast.moments(rows, self._workspace)     # float64
            self._update_moving_statistics(mean.astype(x.dtype), var.astype(x.dtype))
        else:
            mean = self.moving_mean.value.astype(np.float64)
            var = self.moving_variance.value.astype(np.float64)
        rstd = 1.0 / np.sqrt(var + self.epsilon)                # (features,)
        scale = rstd * self.gamma.value if self.scale else rstd
        shift = -mean * scale
        if self.center:
            shift = shift + self.beta.value
        out = batch_norm_fast.scale_shift(rows, scale, shift, self._workspace)
        return out.reshape(x.shape), ("fast", rows, mean, rstd, batch_statistics)

    def _backward_fast(self, dout, cache, need_input_gradient):
        """dbeta = sum(dout), dgamma = rstd * sum(dout * (x - mean)) over the rows; with the
        batch's statistics dx = a * (dout + x * b + c), which is normalize_backward's
        formula multiplied out (see the kernel's docstring); with the moving ones
        dx = a * dout."""
        _, rows, mean, rstd, batch_statistics = cache
        drows = dout.reshape(rows.shape).astype(rows.dtype, copy=False)    # (M, features)
        m = rows.shape[0]
        a = rstd * self.gamma.value if self.scale else rstd                # (features,)
        grads = []
        if self.trainable or (need_input_gradient and batch_statistics):
            dbeta, centred_product = batch_norm_fast.gradient_sums(drows, rows, mean,
                                                                   self._workspace)
            dgamma = rstd * centred_product
            if self.trainable:
                if self.scale:
                    grads.append(dgamma.astype(self.gamma.value.dtype))
                if self.center:
                    grads.append(dbeta.astype(self.beta.value.dtype))
        dx = None
        if need_input_gradient:
            if batch_statistics:
                b = -rstd * dgamma / m
                c = -dbeta / m - b * mean
                dx = batch_norm_fast.input_gradient(drows, rows, a, b, c, self._workspace)
            else:
                dx = batch_norm_fast.input_gradient(drows, rows, a, ws=self._workspace)
            dx = dx.reshape(dout.shape).astype(dout.dtype, copy=False)
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
