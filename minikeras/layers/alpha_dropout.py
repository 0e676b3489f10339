"""`AlphaDropout`: dropout that keeps the mean and variance of SELU activations."""

from minikeras.activations.activations import SELU
from minikeras.layers.base_noise import NoiseLayer, rate_in_unit_interval


class AlphaDropout(NoiseLayer):
    """While training, dropped entries are set to SELU's negative saturation value
    alpha' = -scale * alpha, then an affine map a * x + b restores the mean and variance:

        a = ((1 - rate) * (1 + rate * alpha'^2)) ^ -1/2        b = -a * alpha' * rate
        out = a * (x * keep + alpha' * (1 - keep)) + b       dL/dx = dL/dout * a * keep

    Args:
        rate: fraction dropped, in [0, 1].
        noise_shape: the keep-mask's shape (None entries taken from x), or None.
        seed: integer seed, or None for the global generator.
    """

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = rate_in_unit_interval("rate", rate)
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)

    def _active(self):
        return self.rate > 0

    def _noise(self, x, rng):
        shape = x.shape if self.noise_shape is None else tuple(
            x.shape[i] if d is None else d for i, d in enumerate(self.noise_shape))
        alpha_p = -SELU.alpha * SELU.scale
        keep = (rng.random(shape) >= self.rate).astype(x.dtype)
        a = ((1 - self.rate) * (1 + self.rate * alpha_p ** 2)) ** -0.5
        b = -a * alpha_p * self.rate
        # out = x * (a * keep) + (a * alpha' * (1 - keep) + b)
        return a * keep, a * alpha_p * (1 - keep) + b

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed, "noise_shape": self.noise_shape})
        return config
