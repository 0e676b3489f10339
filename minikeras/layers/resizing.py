"""`Resizing`: resizes images to (height, width), optionally cropping or padding them to the
target aspect ratio first, as keras.layers.Resizing on TensorFlow does."""

import numpy as np

from minikeras.kernels.resize import INTERPOLATIONS, resize_backward, resize_forward
from minikeras.layers import base_conv
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import one_of, positive_int


def aspect_crop_box(height, width, target_height, target_width):
    """(top, left, crop_height, crop_width) of the centred crop with the target's aspect
    ratio, as Keras computes it (float32 division, then truncation)."""
    crop_height = int(np.float32(width * target_height) / np.float32(target_width))
    crop_height = max(min(height, crop_height), 1)
    crop_width = int(np.float32(height * target_width) / np.float32(target_height))
    crop_width = max(min(width, crop_width), 1)
    return ((height - crop_height) // 2, (width - crop_width) // 2, crop_height, crop_width)


def aspect_pad_amounts(height, width, target_height, target_width):
    """(rows, cols) added on *each* side to reach the target's aspect ratio, as Keras pads."""
    pad_height = max(height, int(np.float32(width * target_height) / np.float32(target_width)))
    pad_width = max(width, int(np.float32(height * target_width) / np.float32(target_height)))
    return (pad_height - height) // 2, (pad_width - width) // 2


class Resizing(Layer):
    """Resizes a batch of images to (height, width).

    Args:
        height, width: the output size.
        interpolation: "bilinear" (default), "nearest", "bicubic" (Keys' cubic) or "area"
            (box average), as tf.image.resize computes them (kernels/resize.py).
        crop_to_aspect_ratio: crop the largest centred window with the target's aspect ratio
            first (no distortion, the edges are lost).
        pad_to_aspect_ratio: pad the image evenly on both sides with `fill_value` to the
            target's aspect ratio first (no distortion, nothing is lost).
        fill_mode: "constant" (the only mode Keras's TensorFlow backend has).
        fill_value: the padding value.
        antialias: False (minikeras does not antialias downsampling).
        data_format: "channels_last" or "channels_first".

    Shapes: (batch, h, w, c) -> (batch, height, width, c). Output dtype: the layer's dtype;
    called directly on integer images, their dtype (rounded half to even and saturated, as
    Keras). The values are Keras's bit for bit: the interpolations repeat TensorFlow's float32
    arithmetic step by step (kernels/resize.py), and nearest selects integer pixels without
    converting them. (One difference: Keras pads an integer image in its own dtype and fails
    on a float `fill_value` such as the default 0.0; here it is padded as float32.)
    Differentiable: backward is the adjoint of the interpolation, then of the crop or pad.
    """

    def __init__(self, height, width, interpolation="bilinear", crop_to_aspect_ratio=False,
                 pad_to_aspect_ratio=False, fill_mode="constant", fill_value=0.0,
                 antialias=False, data_format=None, **kwargs):
        super().__init__(**kwargs)
        owner = f"layer {self.name!r}"
        self.height = positive_int("height", height, owner=owner)
        self.width = positive_int("width", width, owner=owner)
        self.interpolation = one_of("interpolation", interpolation, INTERPOLATIONS)
        self.crop_to_aspect_ratio = bool(crop_to_aspect_ratio)
        self.pad_to_aspect_ratio = bool(pad_to_aspect_ratio)
        if self.crop_to_aspect_ratio and self.pad_to_aspect_ratio:
            raise ValueError(
                "Only one of `pad_to_aspect_ratio` & `crop_to_aspect_ratio` can be `True`. "
                f"Received: crop_to_aspect_ratio={crop_to_aspect_ratio!r}, "
                f"pad_to_aspect_ratio={pad_to_aspect_ratio!r}"
            )
        if fill_mode != "constant":
            raise ValueError(
                "Invalid value for argument `fill_mode`. Only `'constant'` is supported. "
                f"Received: fill_mode={fill_mode!r}"
            )
        self.fill_mode = fill_mode
        self.fill_value = float(fill_value)
        if antialias:
            raise ValueError(
                "minikeras's Resizing does not antialias. Expected antialias=False. "
                f"Received: antialias={antialias!r}"
            )
        self.antialias = False
        self.data_format = base_conv.standardize_data_format(data_format)

    def compute_output_shape(self, input_shape):
        base_conv.check_rank(self, input_shape)
        _, _, channels = base_conv.spatial_dims(input_shape, self.data_format)
        return base_conv.assemble_shape(input_shape[0], (self.height, self.width), channels,
                                        self.data_format)

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def __call__(self, x, training=False):
        """Integer images come back in their own dtype, rounded and saturated, as Keras's."""
        dtype = getattr(x, "dtype", None) if isinstance(x, np.ndarray) else None
        out = super().__call__(x, training=training)
        if dtype is not None and np.issubdtype(dtype, np.integer):
            limits = np.iinfo(dtype)
            out = np.clip(np.round(out), limits.min, limits.max).astype(dtype)
        return out

    def _as_input_array(self, x):
        x = np.asarray(x)
        if self.interpolation == "nearest" and np.issubdtype(x.dtype, np.integer):
            return x        # selected, not interpolated: see forward
        return super()._as_input_array(x)

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or channels first. Returns (resized, cache)."""
        base_conv.check_rank(self, np.shape(x))
        x = np.asarray(x)
        # Nearest only selects pixels: integer images keep their values exactly (as
        # TensorFlow's nearest resize keeps their dtype); everything else is interpolated in
        # the layer's float dtype, which rounds int32 values beyond 2**24.
        if not (self.interpolation == "nearest" and np.issubdtype(x.dtype, np.integer)):
            x = x.astype(self.dtype, copy=False)
        x = base_conv.to_channels_last(x, self.data_format)
        _, height, width, _ = x.shape
        window = None          # what crop or pad the backward pass must undo
        if self.crop_to_aspect_ratio:
            top, left, rows, cols = aspect_crop_box(height, width, self.height, self.width)
            x = x[:, top:top + rows, left:left + cols]
            window = ("crop", top, left, height, width)
        elif self.pad_to_aspect_ratio:
            rows, cols = aspect_pad_amounts(height, width, self.height, self.width)
            x = np.pad(x, ((0, 0), (rows, rows), (cols, cols), (0, 0)),
                       constant_values=self.fill_value)
            window = ("pad", rows, cols, height, width)
        out, resize_cache = resize_forward(x, (self.height, self.width), self.interpolation)
        return base_conv.from_channels_last(out, self.data_format), (resize_cache, window)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: shaped like the output. Returns (dx, [])."""
        resize_cache, window = cache
        dout = base_conv.to_channels_last(np.asarray(dout, dtype=self.dtype), self.data_format)
        dx = resize_backward(dout, resize_cache)
        if window is not None:
            kind, top, left, height, width = window
            if kind == "crop":          # the cropped-away border had no effect
                full = np.zeros((dx.shape[0], height, width, dx.shape[3]), dtype=dx.dtype)
                full[:, top:top + dx.shape[1], left:left + dx.shape[2]] = dx
                dx = full
            else:                       # the padding was constant
                dx = dx[:, top:top + height, left:left + width]
        return base_conv.from_channels_last(np.ascontiguousarray(dx), self.data_format), []

    def get_config(self):
        config = super().get_config()
        config.update({
            "height": self.height,
            "width": self.width,
            "interpolation": self.interpolation,
            "crop_to_aspect_ratio": self.crop_to_aspect_ratio,
            "pad_to_aspect_ratio": self.pad_to_aspect_ratio,
            "fill_mode": self.fill_mode,
            "fill_value": self.fill_value,
            "antialias": self.antialias,
            "data_format": self.data_format,
        })
        return config
