"""`Rescaling`: out = x * scale + offset, e.g. Rescaling(1 / 255) for pixel values."""

import numbers

import numpy as np

from minikeras import backend
from minikeras.layers.layer import Layer


class Rescaling(Layer):
    """out = x * scale + offset, in the layer's float type (integer pixels become floats).

    Args:
        scale: a number, or a per-channel list (on the last axis; on axis 1 when the image
            data format is channels_first, as Keras).
        offset: a number or a per-channel list.

    Shapes: x any shape -> out of the same shape. No weights.
    """

    def __init__(self, scale, offset=0.0, **kwargs):
        super().__init__(**kwargs)
        for name, value in (("scale", scale), ("offset", offset)):
            if isinstance(value, bool) or not (
                    isinstance(value, numbers.Real) or (
                        isinstance(value, (list, tuple, np.ndarray))
                        and np.issubdtype(np.asarray(value).dtype, np.number))):
                raise ValueError(
                    f"`{name}` of Rescaling must be a number or a list of numbers. "
                    f"Received: {name}={value!r}"
                )
        self.scale = scale
        self.offset = offset
        self.supports_masking = True
        self.built = True

    def _as_array(self, value):
        value = np.asarray(value, dtype=self.dtype)
        if value.ndim and backend.image_data_format() == "channels_first":
            value = value.reshape(value.shape + (1,) * (3 - value.ndim))
        return value

    def forward(self, x, training=False):
        """x: any shape. Returns (out, None)."""
        scale = self._as_array(self.scale)
        out = np.asarray(x, dtype=self.dtype) * scale + self._as_array(self.offset)
        return out.astype(self.dtype, copy=False), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout * self._as_array(self.scale), []


    def get_config(self):
        config = super().get_config()
        config.update({"scale": _plain(self.scale), "offset": _plain(self.offset)})
        return config


def _plain(value):
    return value.tolist() if isinstance(value, np.ndarray) else value
