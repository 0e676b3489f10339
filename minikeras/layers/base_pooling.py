"""Shared parts of the pooling layers: windowed (Max/AveragePooling2D) and global ones."""

from minikeras.kernels.pooling import pool2d_backward, pool2d_forward
from minikeras.layers import base_conv
from minikeras.layers.layer import Layer


class BasePooling2D(Layer):
    """Pools each (pool_size) window of every channel; `_mode` is "max" or "average".

    Args:
        pool_size: int or (ph, pw).
        strides: int, (sh, sw) or None (then equal to pool_size).
        padding: "valid" or "same" (TensorFlow's split: extra row/column at bottom/right).
        data_format: "channels_last", "channels_first" or None (the backend default).

    Shapes: (batch, h, w, c) -> (batch, h', w', c) (or the channels_first equivalents).
    No weights.
    """

    splits_batches = True  # its big batches run in parallel parts (ops/parallel.py)

    _mode = None

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"layer {self.name!r}"
        self.pool_size = base_conv.standardize_pair("pool_size", pool_size, owner)
        strides = self.pool_size if strides is None else strides
        self.strides = base_conv.standardize_pair("strides", strides, owner)
        self.padding = base_conv.standardize_padding(padding)
        self.data_format = base_conv.standardize_data_format(data_format)

    def _check_input_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        base_conv.check_window_fits(self, input_shape, self.pool_size, self.strides,
                                    self.padding, self.data_format, window_name="pool_size")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        _, _, channels = base_conv.spatial_dims(input_shape, self.data_format)
        spatial = base_conv.output_spatial_shape(input_shape, self.pool_size, self.strides,
                                                 self.padding, self.data_format)
        return base_conv.assemble_shape(input_shape[0], spatial, channels, self.data_format)

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or (batch, c, h, w). Returns (out, cache)."""
        self._check_input_shape(x.shape)
        x_nhwc = base_conv.to_channels_last(x, self.data_format)
        out, pool_cache = pool2d_forward(x_nhwc, self.pool_size, self.strides, self.padding,
                                         self._mode)
        return base_conv.from_channels_last(out, self.data_format), pool_cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(out), shaped like the output. Returns (dx, [])."""
        dout = base_conv.to_channels_last(dout, self.data_format)
        dx = pool2d_backward(dout, cache)
        return base_conv.from_channels_last(dx, self.data_format), []

    def get_config(self):
        config = super().get_config()
        config.update({
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        })
        return config


class BaseGlobalPooling2D(Layer):
    """Reduces the height and width axes of (batch, h, w, c) inputs to one value per channel.

    Args:
        data_format: "channels_last", "channels_first" or None (the backend default).
        keepdims: keep the reduced axes with length 1.

    Shapes: (batch, h, w, c) -> (batch, c), or (batch, 1, 1, c) with keepdims. No weights.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = base_conv.standardize_data_format(data_format)
        self.keepdims = bool(keepdims)

    @property
    def _spatial_axes(self):
        return (2, 3) if self.data_format == "channels_first" else (1, 2)

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        _, _, channels = base_conv.spatial_dims(input_shape, self.data_format)
        if self.keepdims:
            return base_conv.assemble_shape(input_shape[0], (1, 1), channels, self.data_format)
        return (input_shape[0], channels)

    def _restore_dims(self, dout):
        """dL/d(out) as (batch, c) or keepdims shape -> broadcastable against the input."""
        if self.keepdims:
            return dout
        if self.data_format == "channels_first":
            return dout[:, :, None, None]
        return dout[:, None, None, :]

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config
