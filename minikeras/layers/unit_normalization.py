"""`UnitNormalization`: scale each sample to unit L2 norm along `axis`."""

import numpy as np

from minikeras.layers.base_normalization import axis_list, check_axes_in_range
from minikeras.layers.layer import Layer

# Keras's lower bound on the norm: out = x / max(||x||, 1e-12).
_EPSILON = 1e-12


class UnitNormalization(Layer):
    """out = x / max(||x||, 1e-12), the norm taken along `axis` (an int or a list).

    Shapes: x (batch, ...) -> out of the same shape; no weights.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        self._axes = tuple(axis_list("UnitNormalization", axis))
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self.supports_masking = True
        self.built = True

    def compute_output_shape(self, input_shape):
        check_axes_in_range(self._axes, input_shape, self.axis)
        return tuple(input_shape)

    def forward(self, x, training=False):
        """x: any shape. Returns (out, cache)."""
        # 1 / ||x||, capped at 1 / epsilon (Keras: min(rsqrt(sum of squares), 1 / eps))
        inverse_norm = np.minimum(1.0 / np.sqrt(np.square(x).sum(axis=self._axes,
                                                                 keepdims=True)),
                                  1.0 / _EPSILON)
        out = (x * inverse_norm).astype(x.dtype, copy=False)
        return out, (out, inverse_norm)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """Where the norm exceeds epsilon: dx = (dout - out * sum(dout * out)) / ||x||;
        below it the scale is a constant: dx = dout / epsilon."""
        out, inverse_norm = cache
        projected = dout - out * (dout * out).sum(axis=self._axes, keepdims=True)
        capped = inverse_norm >= 1.0 / _EPSILON
        dx = np.where(capped, dout, projected) * inverse_norm
        return dx.astype(dout.dtype, copy=False), []


    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config
