"""`ZeroPadding2D`: adds rows and columns of zeros around an image."""

import numpy as np

from minikeras.layers import base_conv
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple


class ZeroPadding2D(Layer):
    """Pads height and width with zeros.

    Args:
        padding: int p (p on every side), (ph, pw) (symmetric per axis), or
            ((top, bottom), (left, right)).
        data_format: "channels_last", "channels_first" or None (the backend default).

    Shapes: (batch, h, w, c) -> (batch, top + h + bottom, left + w + right, c). No weights.
    """

    def __init__(self, padding=(1, 1), data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = base_conv.standardize_data_format(data_format)
        owner = f"layer {self.name!r}"
        if isinstance(padding, (int, np.integer)) and not isinstance(padding, bool):
            padding = int_tuple("padding", padding, 2, owner=owner, allow_zero=True)
            self.padding = ((padding[0],) * 2, (padding[1],) * 2)
        elif isinstance(padding, (tuple, list)) and len(padding) == 2:
            self.padding = (
                int_tuple("1st entry of padding", padding[0], 2, owner=owner, allow_zero=True),
                int_tuple("2nd entry of padding", padding[1], 2, owner=owner, allow_zero=True),
            )
        else:
            raise ValueError(
                "`padding` should be an int, a tuple of 2 ints (symmetric height and width "
                "padding) or a tuple of 2 tuples of 2 ints ((top, bottom), (left, right)) "
                f"({owner}). Received: padding={padding!r}"
            )

    def _pad_widths(self):
        if self.data_format == "channels_first":
            return ((0, 0), (0, 0), *self.padding)
        return ((0, 0), *self.padding, (0, 0))

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        return tuple(
            None if dim is None else dim + before + after
            for dim, (before, after) in zip(input_shape, self._pad_widths(), strict=True)
        )

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or (batch, c, h, w). Returns (padded, cache)."""
        base_conv.check_rank(self, x.shape)
        return np.pad(x, self._pad_widths()), x.shape

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """The gradient of zero padding is the centre crop of dout. Returns (dx, [])."""
        x_shape = cache
        crop = tuple(slice(before, before + dim)
                     for dim, (before, _) in zip(x_shape, self._pad_widths(), strict=True))
        return np.ascontiguousarray(dout[crop]), []

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config
