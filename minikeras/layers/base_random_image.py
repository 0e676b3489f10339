"""Shared parts of the random image augmentation layers (RandomFlip, RandomRotation,
RandomZoom, RandomTranslation, RandomContrast).

They change images while training only; at inference (training=False: a model's predict and
evaluate) they pass the images through unchanged, as Keras does. Like Keras's, a layer called
directly on an array, `layer(images)`, augments. Draws come from the layer's own generator
when it has a `seed` (the same seed gives the same sequence of augmentations), else from the
global one (minikeras.utils.set_random_seed). The draws are minikeras's, not TensorFlow's: the same
seed does not give Keras's augmentations, only the same kind of them.
"""

import numbers

import numpy as np

from minikeras import random
from minikeras.kernels.affine import (
    FILL_MODES,
    INTERPOLATIONS,
    affine_backward,
    affine_forward,
)
from minikeras.layers import base_conv
from minikeras.layers.layer import Layer


def factor_pair(name, value, low, high, message, low_open=False):
    """A number f -> (-f, f) clipped at `low`; a pair -> sorted; each inside [low, high]
    ((low, high] when low_open). Anything else raises Keras's ValueError `message`."""
    def inside(v):
        return isinstance(v, numbers.Real) and not isinstance(v, bool) and (
            low < v <= high if low_open else low <= v <= high)

    if isinstance(value, (tuple, list)):
        if len(value) != 2 or not all(inside(v) for v in value):
            raise ValueError(f"{message} Received: {name}={value!r}")
        lower, upper = sorted(float(v) for v in value)
        return lower, upper
    if not inside(value):
        raise ValueError(f"{message} Received: {name}={value!r}")
    return max(-abs(float(value)), low), abs(float(value))


class RandomImageLayer(Layer):
    """Subclasses implement `_augment(x_nhwc, rng) -> (out_nhwc, cache)` and
    `_augment_backward(dout_nhwc, cache) -> dx_nhwc`."""

    def __init__(self, seed=None, data_format=None, **kwargs):
        super().__init__(**kwargs)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, numbers.Integral)):
            raise ValueError(f"Expected `seed` to be an integer or None. Received: seed={seed!r}")
        self.seed = seed
        self.data_format = base_conv.standardize_data_format(data_format)
        self._rng = random.generator(seed) if seed is not None else None

    def build(self, input_shape):
        base_conv.check_rank(self, input_shape)
        self.built = True

    def __call__(self, x, training=True):
        """Called directly on an array, Keras's augmentation layers augment (their `call`
        defaults to training=True); inside a model, predict/evaluate pass training=False."""
        return super().__call__(x, training=training)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or channels first. Returns (out, cache); identity unless
        training."""
        base_conv.check_rank(self, np.shape(x))
        x = np.asarray(x, dtype=self.dtype)
        if not training:
            return x, None
        out, cache = self._augment(base_conv.to_channels_last(x, self.data_format),
                                   self._rng or random.generator())
        return base_conv.from_channels_last(out, self.data_format), cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dL/dx: dout itself at inference, else the adjoint of the augmentation."""
        if cache is None:
            return dout, []
        if not need_input_gradient:
            return None, []
        dx = self._augment_backward(base_conv.to_channels_last(dout, self.data_format), cache)
        return base_conv.from_channels_last(dx, self.data_format), []

    def get_config(self):
        config = super().get_config()
        config.update({"data_format": self.data_format, "seed": self.seed})
        return config


class RandomAffineLayer(RandomImageLayer):
    """The affine ones: subclasses implement `_transforms(batch, height, width, rng)`, the
    (batch, 8) output-to-input transforms of kernels/affine.py."""

    def __init__(self, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if fill_mode not in FILL_MODES:
            raise ValueError(
                f"Unknown `fill_mode`. Expected one of {FILL_MODES}. Received: "
                f"fill_mode={fill_mode!r}"
            )
        if interpolation not in INTERPOLATIONS:
            raise ValueError(
                f"Unknown `interpolation`. Expected one of {INTERPOLATIONS}. Received: "
                f"interpolation={interpolation!r}"
            )
        if isinstance(fill_value, bool) or not isinstance(fill_value, numbers.Real):
            raise ValueError(f"Expected a number for `fill_value`. Received: "
                             f"fill_value={fill_value!r}")
        self.fill_mode = fill_mode
        self.interpolation = interpolation
        self.fill_value = float(fill_value)

    def _augment(self, x, rng):
        batch, height, width, _ = x.shape
        transforms = self._transforms(batch, height, width, rng)
        return affine_forward(x, transforms, self.interpolation, self.fill_mode,
                              self.fill_value)

    def _augment_backward(self, dout, cache):
        return affine_backward(dout, cache)

    def get_config(self):
        config = super().get_config()
        config.update({"fill_mode": self.fill_mode, "interpolation": self.interpolation,
                       "fill_value": self.fill_value})
        return config
