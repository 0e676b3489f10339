"""`UpSampling2D`: enlarges an image by integer factors, repeating pixels ("nearest") or
interpolating between them ("bilinear", as tf.image.resize: kernels/resize.py)."""

import numpy as np

from minikeras.kernels.resize import resize_backward, resize_forward
from minikeras.layers import base_conv
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple


class UpSampling2D(Layer):
    """Each pixel becomes a size[0] x size[1] block (of copies, or interpolated).

    Args:
        size: int or (rows, cols) repetition factors.
        data_format: "channels_last", "channels_first" or None (the backend default).
        interpolation: "nearest" (copies) or "bilinear".

    Shapes: (batch, h, w, c) -> (batch, h * size[0], w * size[1], c). No weights.
    """

    def __init__(self, size=(2, 2), data_format=None, interpolation="nearest", **kwargs):
        super().__init__(**kwargs)
        self.data_format = base_conv.standardize_data_format(data_format)
        self.size = int_tuple("size", size, 2, owner=f"layer {self.name!r}")
        if interpolation not in ("nearest", "bilinear"):
            raise ValueError(
                "Expected interpolation to be one of 'nearest', 'bilinear' (minikeras has no "
                f"bicubic or lanczos resizing). Received: interpolation={interpolation!r}"
            )
        self.interpolation = interpolation

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        shape = list(input_shape)
        for axis, factor in zip(self._spatial_axes(), self.size):
            shape[axis] = None if shape[axis] is None else shape[axis] * factor
        return tuple(shape)

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or channels first. Returns (upsampled, cache)."""
        base_conv.check_rank(self, x.shape)
        rows, cols = self._spatial_axes()
        if self.interpolation == "bilinear":
            x = base_conv.to_channels_last(np.asarray(x, dtype=self.dtype), self.data_format)
            out_hw = (x.shape[1] * self.size[0], x.shape[2] * self.size[1])
            out, resize_cache = resize_forward(x, out_hw, "bilinear")
            return base_conv.from_channels_last(out, self.data_format), resize_cache
        return x.repeat(self.size[0], axis=rows).repeat(self.size[1], axis=cols), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """Nearest: each input pixel was copied into a block, its gradient is the block's sum.
        Bilinear: the adjoint of the interpolation (kernels/resize.py)."""
        if self.interpolation == "bilinear":
            dout = base_conv.to_channels_last(dout, self.data_format)
            return base_conv.from_channels_last(resize_backward(dout, cache),
                                                self.data_format), []
        rows, cols = self._spatial_axes()
        shape = list(dout.shape)
        # (..., h, size0, w, size1, ...) view of dout, then sum over the two block axes
        shape[rows:rows + 1] = [shape[rows] // self.size[0], self.size[0]]
        cols += 1
        shape[cols:cols + 1] = [shape[cols] // self.size[1], self.size[1]]
        return dout.reshape(shape).sum(axis=(rows + 1, cols + 1)), []

    def get_config(self):
        config = super().get_config()
        config.update({"size": self.size, "data_format": self.data_format,
                       "interpolation": self.interpolation})
        return config
