"""`Cropping2D`: removes rows and columns at the edges of an image (ZeroPadding2D's inverse)."""

import numpy as np

from minikeras.layers import base_conv
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple


class Cropping2D(Layer):
    """Crops height and width.

    Args:
        cropping: int c (c on every side), (ch, cw) (symmetric per axis), or
            ((top, bottom), (left, right)).
        data_format: "channels_last", "channels_first" or None (the backend default).

    Shapes: (batch, h, w, c) -> (batch, h - top - bottom, w - left - right, c). No weights.
    """

    def __init__(self, cropping=((0, 0), (0, 0)), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = base_conv.standardize_data_format(data_format)
        if isinstance(cropping, (int, np.integer)) and not isinstance(cropping, bool):
            if cropping < 0:
                raise ValueError(
                    f"`cropping` cannot be negative. Received: cropping={cropping!r}.")
            self.cropping = ((int(cropping),) * 2, (int(cropping),) * 2)
        elif isinstance(cropping, (tuple, list)) and len(cropping) == 2:
            self.cropping = (
                int_tuple("1st entry of cropping", cropping[0], 2, allow_zero=True),
                int_tuple("2nd entry of cropping", cropping[1], 2, allow_zero=True),
            )
        else:
            raise ValueError(
                "`cropping` should be either an int, a tuple of 2 ints (symmetric_height_crop, "
                "symmetric_width_crop), or a tuple of 2 tuples of 2 ints ((top_crop, "
                f"bottom_crop), (left_crop, right_crop)). Received: cropping={cropping!r}."
            )

    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        shape = list(input_shape)
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            if shape[axis] is None:
                continue
            if before + after >= shape[axis]:
                raise ValueError(
                    "Values in `cropping` argument should be smaller than the corresponding "
                    f"spatial dimension of the input. Received: input_shape="
                    f"{tuple(input_shape)}, cropping={self.cropping}"
                )
            shape[axis] -= before + after
        return tuple(shape)

    def build(self, input_shape):
        self.compute_output_shape(input_shape)
        self.built = True

    def _window(self, shape):
        window = [slice(None)] * 4
        for axis, (before, after) in zip(self._spatial_axes(), self.cropping):
            window[axis] = slice(before, shape[axis] - after)
        return tuple(window)

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or (batch, c, h, w). Returns (cropped, cache)."""
        self.compute_output_shape(x.shape)
        return x[self._window(x.shape)], x.shape

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """The gradient of a crop: dout placed back in the middle of zeros of x's shape."""
        x_shape = cache
        dx = np.zeros(x_shape, dtype=dout.dtype)
        dx[self._window(x_shape)] = dout
        return dx, []

    def get_config(self):
        config = super().get_config()
        config.update({"cropping": self.cropping, "data_format": self.data_format})
        return config
