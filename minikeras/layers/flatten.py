"""`Flatten`: (batch, d1, d2, ...) -> (batch, d1 * d2 * ...)."""

import math

from minikeras import backend
from minikeras.layers.layer import Layer


class Flatten(Layer):
    """Flattens everything but the batch axis.

    Args:
        data_format: "channels_last" or "channels_first". With channels_first, the channels
            axis is moved last before flattening, so the order matches channels_last, as Keras
            does.
    """

    def __init__(self, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = backend.standardize_data_format(data_format)

    def compute_output_shape(self, input_shape):
        rest = input_shape[1:]
        flat = None if any(d is None for d in rest) else math.prod(rest)
        return (input_shape[0], flat)

    def forward(self, x, training=False):
        """x: (batch, ...). Returns (out, cache), out: (batch, prod(...))."""
        if self.data_format == "channels_first" and x.ndim > 2:
            x = x.transpose((0,) + tuple(range(2, x.ndim)) + (1,))
        return x.reshape(x.shape[0], -1), x.shape

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        dx = dout.reshape(cache)
        if self.data_format == "channels_first" and dx.ndim > 2:
            dx = dx.transpose((0, dx.ndim - 1) + tuple(range(1, dx.ndim - 1)))
        return dx, []

    def get_config(self):
        config = super().get_config()
        config["data_format"] = self.data_format
        return config
