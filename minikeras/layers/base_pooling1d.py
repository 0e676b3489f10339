"""Shared parts of the 1-D pooling layers: windowed (Max/AveragePooling1D) and global ones."""

import numpy as np

from minikeras.backend import standardize_data_format
from minikeras.kernels.pooling import pool2d_backward, pool2d_forward
from minikeras.layers import base_conv1d
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple, one_of


class BasePooling1D(Layer):
    """Pools each window of `pool_size` steps of every channel; `_mode` is "max" or "average".

    Args:
        pool_size: int or (p,).
        strides: int, (s,) or None (then equal to pool_size).
        padding: "valid" or "same" (TensorFlow's split: the odd padded step goes at the end).
        data_format: "channels_last", "channels_first" or None (the backend default).

    Shapes: (batch, steps, c) -> (batch, out_steps, c) (or the channels_first equivalents).
    No weights. The maths is minikeras.kernels.pooling's 2-D pooling with a (1, p) window on
    the sequence seen as an image one pixel high.
    """

    splits_batches = True  # its big batches run in parallel parts (kernels/parallel.py)

    _mode = None

    def __init__(self, pool_size=2, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"layer {self.name!r}"
        self.pool_size = int_tuple("pool_size", pool_size, 1, owner=owner)
        strides = self.pool_size if strides is None else strides
        self.strides = int_tuple("strides", strides, 1, owner=owner)
        self.padding = one_of("padding", padding, base_conv1d.PADDINGS)
        self.data_format = standardize_data_format(data_format)

    def _check_input_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        base_conv1d.check_window_fits(self, input_shape, self.pool_size[0], self.strides[0],
                                      self.padding, self.data_format, window_name="pool_size")

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        steps, channels = base_conv1d.steps_and_channels(input_shape, self.data_format)
        out_steps = base_conv1d.output_steps(steps, self.pool_size[0], self.strides[0],
                                             self.padding)
        return base_conv1d.assemble_shape(input_shape[0], out_steps, channels,
                                          self.data_format)

    def forward(self, x, training=False):
        """x: (batch, steps, c) or (batch, c, steps). Returns (out, cache)."""
        self._check_input_shape(x.shape)
        x = base_conv1d.to_steps_last_channels(x, self.data_format)
        # (batch, 1, steps, c) pooled by (1, p) windows -> (batch, 1, out_steps, c)
        out, pool_cache = pool2d_forward(base_conv1d.as_image(x), (1, self.pool_size[0]),
                                         (1, self.strides[0]), self.padding, self._mode)
        return base_conv1d.from_steps_last_channels(out[:, 0], self.data_format), pool_cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(out), shaped like the output. Returns (dx, [])."""
        dout = base_conv1d.to_steps_last_channels(dout, self.data_format)
        dx = pool2d_backward(np.ascontiguousarray(base_conv1d.as_image(dout)), cache)[:, 0]
        return base_conv1d.from_steps_last_channels(dx, self.data_format), []

    def get_config(self):
        config = super().get_config()
        config.update({
            "pool_size": self.pool_size,
            "padding": self.padding,
            "strides": self.strides,
            "data_format": self.data_format,
        })
        return config


class BaseGlobalPooling1D(Layer):
    """Reduces the steps axis of (batch, steps, c) inputs to one value per channel.

    Args:
        data_format: "channels_last", "channels_first" or None (the backend default).
        keepdims: keep the steps axis with length 1.

    Shapes: (batch, steps, c) -> (batch, c), or (batch, 1, c) with keepdims. No weights.
    """

    def __init__(self, data_format=None, keepdims=False, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.keepdims = bool(keepdims)

    @property
    def _steps_axis(self):
        return 2 if self.data_format == "channels_first" else 1

    def build(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        _, channels = base_conv1d.steps_and_channels(input_shape, self.data_format)
        if self.keepdims:
            return base_conv1d.assemble_shape(input_shape[0], 1, channels, self.data_format)
        return (input_shape[0], channels)

    def compute_mask(self, inputs, mask=None):
        """The steps are reduced away, and with them any mask."""
        return None

    def _restore_dims(self, dout):
        """dL/d(out) as (batch, c) or keepdims shape -> broadcastable against the input."""
        if self.keepdims:
            return dout
        return np.expand_dims(dout, self._steps_axis)

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "keepdims": self.keepdims})
        return config
