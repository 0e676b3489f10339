"""`LayerNormalization`: normalise each sample over its feature axes.

    mean, var over `axis` of each sample       x_hat = (x - mean) / sqrt(var + epsilon)
    out = gamma * x_hat + beta                 (gamma, beta shaped like the `axis` axes)

Unlike BatchNormalization there are no moving statistics: training and inference agree.
"""

from minikeras.layers.base_normalization import (
    ScaleShiftLayer,
    axis_list,
    check_axes_in_range,
    moments,
    normalize_backward,
)


class LayerNormalization(ScaleShiftLayer):
    """Layer normalization (Ba et al., 2016).

    Args:
        axis: the axis, or list of axes, normalised over (default the last).
        epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: as in Keras.

    Shapes: x (batch, ...) -> out of the same shape. Weights gamma, beta: the sizes of the
    `axis` axes, in order.
    """

    def __init__(self, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if kwargs.pop("rms_scaling", False):
            raise ValueError(
                "`rms_scaling=True` is deprecated in Keras (it scales by the variance, not "
                "the root mean square) and minikeras does not support it. Received: "
                "rms_scaling=True"
            )
        super().__init__(**kwargs)
        self._axes = axis_list("LayerNormalization", axis)
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self._init_scale_shift(epsilon, center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint,
                               gamma_constraint)

    def build(self, input_shape):
        check_axes_in_range(self._axes, input_shape, self.axis)
        rank = len(input_shape)
        self._norm_axes = tuple(sorted(a % rank for a in self._axes))
        sizes = tuple(input_shape[a] for a in self._norm_axes)
        if any(size is None for size in sizes):
            raise ValueError(
                f"LayerNormalization layer {self.name!r} needs the sizes of axes "
                f"{list(self._norm_axes)}. Received: input_shape={tuple(input_shape)}"
            )
        self._weight_shape = tuple(input_shape[a] if a in self._norm_axes else 1
                                   for a in range(rank))
        self._other_axes = tuple(a for a in range(rank) if a not in self._norm_axes)
        self._add_scale_shift(sizes)
        self.built = True

    def compute_output_shape(self, input_shape):
        check_axes_in_range(self._axes, input_shape, self.axis)
        return tuple(input_shape)

    def forward(self, x, training=False):
        """x: (batch, ...). Returns (out, cache), out of x's shape."""
        mean, var = moments(x, self._norm_axes)
        rstd = 1.0 / (var + self.epsilon) ** 0.5
        x_hat = (x - mean) * rstd
        out = self._scale_shift(x_hat, self._weight_shape)
        return out.astype(x.dtype, copy=False), (x_hat, rstd)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dx from normalize_backward over the normalised axes; dgamma = sum(dout * x_hat),
        dbeta = sum(dout) over the other axes (the batch among them)."""
        x_hat, rstd = cache
        dx_hat, grads = self._scale_shift_backward(dout, x_hat, self._weight_shape,
                                                   self._other_axes)
        dx = None
        if need_input_gradient:
            dx = normalize_backward(dx_hat, x_hat, rstd, self._norm_axes).astype(
                dout.dtype, copy=False)
        return dx, grads

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        config.update(self._scale_shift_config())
        config["rms_scaling"] = False
        return config
