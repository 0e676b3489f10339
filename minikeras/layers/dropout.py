"""`Dropout`: zeroes a fraction `rate` of the inputs while training."""

import numpy as np

from minikeras import random
from minikeras.layers.layer import Layer


class Dropout(Layer):
    """Inverted dropout: kept entries are scaled by 1 / (1 - rate), so inference is identity.

    Args:
        rate: fraction of entries dropped, in [0, 1).
        noise_shape: shape of the keep mask (1 where it broadcasts), or None for x's shape.
        seed: integer seed for the mask, or None for the global generator.
    """

    supports_masking = True     # passes its input's mask on, as in Keras

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate < 1:
            raise ValueError(
                f"Invalid value received for argument `rate`. Expected a float value between "
                f"0 and 1. Received: rate={rate!r}"
            )
        self.rate = float(rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None

    def forward(self, x, training=False):
        """x: any shape. Returns (out, cache); cache is the scaled keep-mask (None if idle)."""
        if not training or self.rate == 0.0:
            return x, None
        shape = self._mask_shape(x)
        rng = self._rng or random.generator()
        # float32 uniforms are plenty to compare with `rate`, and half the cost of float64.
        keep = rng.random(shape, dtype=np.float32) >= self.rate
        # mask = keep / (1 - rate), built in x's dtype directly (no float64 temporary)
        mask = np.multiply(keep, 1.0 / (1.0 - self.rate), dtype=x.dtype)
        return x * mask, mask

    def _mask_shape(self, x):
        """The keep-mask's shape: noise_shape with None filled from x, or x's shape."""
        if self.noise_shape is None:
            return x.shape
        return tuple(x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))

    def backward(self, dout, mask, from_logits=False, need_input_gradient=True):
        if mask is None:
            return dout, []
        return dout * mask, []

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "noise_shape": self.noise_shape, "seed": self.seed})
        return config
