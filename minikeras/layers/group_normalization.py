"""`GroupNormalization`: normalise each sample over groups of channels.

The channels (on `axis`) are split into `groups` groups; each sample's mean and variance are
taken per group, over the group's channels and every other non-batch axis. groups=1 is layer
normalization over all axes; groups=channels (or -1) is instance normalization.
"""

import numpy as np

from minikeras.layers.base_normalization import ScaleShiftLayer, moments, normalize_backward


class GroupNormalization(ScaleShiftLayer):
    """Group normalization (Wu and He, 2018).

    Args:
        groups: number of groups (a divisor of the channels), or -1 for one per channel.
        axis: the channel axis.
        epsilon, center, scale, beta_initializer, gamma_initializer, beta_regularizer,
        gamma_regularizer, beta_constraint, gamma_constraint: as in Keras.

    Shapes: x (batch, ...) -> out of the same shape. Weights gamma, beta: (channels,).
    """

    def __init__(self, groups=32, axis=-1, epsilon=1e-3, center=True, scale=True,
                 beta_initializer="zeros", gamma_initializer="ones", beta_regularizer=None,
                 gamma_regularizer=None, beta_constraint=None, gamma_constraint=None,
                 **kwargs):
        if isinstance(groups, bool) or not isinstance(groups, (int, np.integer)) or (
                groups <= 0 and groups != -1):
            raise ValueError(
                "Received an invalid value for argument `groups`, expected a positive "
                f"integer (or `-1` for instance normalization). Received: groups={groups!r}"
            )
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(
                f"`axis` of GroupNormalization must be an int. Received: axis={axis!r}")
        self.groups = int(groups)
        self.axis = int(axis)
        self._init_scale_shift(epsilon, center, scale, beta_initializer, gamma_initializer,
                               beta_regularizer, gamma_regularizer, beta_constraint,
                               gamma_constraint)

    def build(self, input_shape):
        rank = len(input_shape)
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"Axis {self.axis} is out of bounds for input shape {tuple(input_shape)}. "
                f"Received: axis={self.axis}"
            )
        channel_axis = self.axis % rank
        channels = input_shape[channel_axis]
        if channels is None:
            raise ValueError(
                f"Axis {self.axis} of input tensor should have a defined dimension but the "
                f"layer received an input with shape {tuple(input_shape)}."
            )
        if self.groups == -1:
            self.groups = int(channels)
        if channels < self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) cannot be more than the number of "
                f"channels ({channels})."
            )
        if channels % self.groups:
            raise ValueError(
                f"Number of groups ({self.groups}) must be a multiple of the number of "
                f"channels ({channels})."
            )
        self._channel_axis = channel_axis
        # In the grouped view the channel axis becomes (groups, channels per group): the
        # statistics run over every axis but the batch and the group axis.
        self._grouped_reduction = tuple(a for a in range(1, rank + 1) if a != channel_axis)
        self._channel_shape = tuple(channels if a == channel_axis else 1
                                    for a in range(rank))
        self._other_axes = tuple(a for a in range(rank) if a != channel_axis)
        self._add_scale_shift((int(channels),))
        self.built = True

    def _grouped(self, x):
        """x with its channel axis split into (groups, channels // groups)."""
        shape = list(x.shape)
        channels = shape[self._channel_axis]
        shape[self._channel_axis:self._channel_axis + 1] = [self.groups,
                                                             channels // self.groups]
        return x.reshape(shape)

    def forward(self, x, training=False):
        """x: (batch, ...), channels on `axis`. Returns (out, cache), out of x's shape."""
        grouped = self._grouped(x)
        mean, var = moments(grouped, self._grouped_reduction)
        rstd = 1.0 / np.sqrt(var + self.epsilon)
        x_hat = ((grouped - mean) * rstd).reshape(x.shape)
        out = self._scale_shift(x_hat, self._channel_shape)
        return out.astype(x.dtype, copy=False), (x_hat, rstd)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """normalize_backward in the grouped view; dgamma, dbeta summed per channel."""
        x_hat, rstd = cache
        dx_hat, grads = self._scale_shift_backward(dout, x_hat, self._channel_shape,
                                                   self._other_axes)
        dx = None
        if need_input_gradient:
            dx = normalize_backward(self._grouped(dx_hat), self._grouped(x_hat), rstd,
                                    self._grouped_reduction)
            dx = dx.reshape(dout.shape).astype(dout.dtype, copy=False)
        return dx, grads

    def get_config(self):
        config = super().get_config()
        config.update({"groups": self.groups, "axis": self.axis})
        config.update(self._scale_shift_config())
        return config
