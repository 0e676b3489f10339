"""`CenterCrop`: the centred (height, width) window of each image."""

import numpy as np

from minikeras.kernels.resize import resize_backward, resize_forward
from minikeras.layers import base_conv
from minikeras.layers.layer import Layer
from minikeras.layers.resizing import aspect_crop_box
from minikeras.utils.argument_validation import positive_int


class CenterCrop(Layer):
    """Crops the centre (height, width) of every image.

    When an image is smaller than the target along either axis, Keras does not pad: it crops
    the largest centred window with the target's aspect ratio and resizes it (bilinear) to
    (height, width) -- Resizing(height, width, crop_to_aspect_ratio=True). So does minikeras.

    Args:
        height, width: the output size.
        data_format: "channels_last" or "channels_first".

    Shapes: (batch, h, w, c) -> (batch, height, width, c). Output dtype: the layer's dtype.
    """

    def __init__(self, height, width, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"layer {self.name!r}"
        self.height = positive_int("height", height, owner=owner)
        self.width = positive_int("width", width, owner=owner)
        self.data_format = base_conv.standardize_data_format(data_format)

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        _, _, channels = base_conv.spatial_dims(input_shape, self.data_format)
        return base_conv.assemble_shape(input_shape[0], (self.height, self.width), channels,
                                        self.data_format)

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or channels first. Returns (cropped, cache)."""
        base_conv.check_rank(self, np.shape(x))
        x = np.asarray(x, dtype=self.dtype)
        height, width, _ = base_conv.spatial_dims(x.shape, self.data_format)
        if height < self.height or width < self.width:
            top, left, rows, cols = aspect_crop_box(height, width, self.height, self.width)
            x_nhwc = base_conv.to_channels_last(x, self.data_format)
            window = x_nhwc[:, top:top + rows, left:left + cols]
            out, resize_cache = resize_forward(window, (self.height, self.width), "bilinear")
            return (base_conv.from_channels_last(out, self.data_format),
                    ("resize", resize_cache, (top, left), x_nhwc.shape))
        top = (height - self.height) // 2
        left = (width - self.width) // 2
        rows, cols = slice(top, top + self.height), slice(left, left + self.width)
        index = (slice(None), slice(None), rows, cols) if self.data_format == "channels_first" \
            else (slice(None), rows, cols)
        return x[index], ("crop", index, x.shape)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """The window's gradient goes back in place; the cropped-away border gets zero."""
        kind, *rest = cache
        if kind == "resize":
            resize_cache, (top, left), x_shape = rest
            dwindow = resize_backward(base_conv.to_channels_last(dout, self.data_format),
                                      resize_cache)
            dx = np.zeros(x_shape, dtype=dout.dtype)
            dx[:, top:top + dwindow.shape[1], left:left + dwindow.shape[2]] = dwindow
            return base_conv.from_channels_last(dx, self.data_format), []
        index, x_shape = rest
        dx = np.zeros(x_shape, dtype=dout.dtype)
        dx[index] = dout
        return dx, []

    def get_config(self):
        config = super().get_config()
        config.update({"height": self.height, "width": self.width,
                       "data_format": self.data_format})
        return config
