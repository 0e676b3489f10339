"""Shared part of the layers that perturb their input while training only (GaussianNoise,
GaussianDropout, AlphaDropout): out = x * scale + shift with random scale/shift, so
dL/dx = dL/dout * scale; at inference they pass x through."""

import numbers

from minikeras import random
from minikeras.layers.layer import Layer


class NoiseLayer(Layer):
    """Subclasses implement `_noise(x, rng) -> (scale, shift)`, each broadcastable to x
    (shift may be None)."""

    def __init__(self, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.seed = seed
        self._rng = random.generator(seed) if seed is not None else None
        self.supports_masking = True
        self.built = True

    def _active(self):
        raise NotImplementedError

    def forward(self, x, training=False):
        """x: any shape. Returns (out, cache); the cache is the scale (None when idle)."""
        if not training or not self._active():
            return x, None
        scale, shift = self._noise(x, self._rng or random.generator())
        out = x * scale if scale is not None else x
        if shift is not None:
            out = out + shift
        return out.astype(x.dtype, copy=False), scale

    def backward(self, dout, scale, from_logits=False, need_input_gradient=True):
        return (dout if scale is None else dout * scale), []



def rate_in_unit_interval(name, value):
    """Keras's check: a float in [0, 1]."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not 0 <= value <= 1:
        raise ValueError(
            f"Invalid value received for argument `{name}`. Expected a float value between "
            f"0 and 1. Received: {name}={value!r}"
        )
    return float(value)
