"""`RandomContrast`: scales each image's deviations from its mean by a random factor."""

import numbers

import numpy as np

from minikeras.layers.base_random_image import RandomImageLayer, factor_pair


class RandomContrast(RandomImageLayer):
    """While training, per image and channel:

        mean = x averaged over height and width
        out  = clip((x - mean) * f + mean, value_range)

    with one f per image drawn uniformly in [1 - lower, 1 + upper].

    Args:
        factor: f means (lower, upper) = (0, f) -- Keras's reading, so contrast only grows;
            a pair (lower, upper) is used as given (each in [0, 1]).
        value_range: (low, high) the outputs are clipped to.
        seed, data_format: as in Keras.

    Backward (dz = dout where the output was not clipped, else 0):
        dx = f * dz + (1 - f) * mean of dz over height and width.
    """

    def __init__(self, factor, value_range=(0, 255), seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        self.factor = factor_pair(
            "factor", factor, 0.0, 1.0,
            "The `factor` argument should be a number (or a list of two numbers) in the "
            "range [0, 1].")
        if (not isinstance(value_range, (tuple, list)) or len(value_range) != 2
                or not all(isinstance(v, numbers.Real) for v in value_range)
                or value_range[0] > value_range[1]):
            raise ValueError(
                "Expected `value_range` to be a pair (low, high) of numbers with low <= high. "
                f"Received: value_range={value_range!r}"
            )
        self.value_range = tuple(value_range)

    def _augment(self, x, rng):
        batch = x.shape[0]
        f = rng.uniform(1 - self.factor[0], 1 + self.factor[1], size=(batch, 1, 1, 1))
        f = f.astype(x.dtype)
        mean = x.mean(axis=(1, 2), keepdims=True)                   # (batch, 1, 1, c)
        z = (x - mean) * f + mean
        out = np.clip(z, *self.value_range).astype(x.dtype, copy=False)
        inside = (z >= self.value_range[0]) & (z <= self.value_range[1])
        return out, (f, inside)

    def _augment_backward(self, dout, cache):
        f, inside = cache
        dz = np.where(inside, dout, 0)
        return f * dz + (1 - f) * dz.mean(axis=(1, 2), keepdims=True)

    def get_config(self):
        config = super().get_config()
        config.update({"factor": self.factor, "value_range": self.value_range})
        return config
