"""`GaussianDropout`: multiplies by Gaussian noise of mean 1 while training."""

import math

from minikeras.layers.base_noise import NoiseLayer, rate_in_unit_interval


class GaussianDropout(NoiseLayer):
    """out = x * N(1, rate / (1 - rate)) noise while training (the same variance as dropout
    at that rate); x at inference. dL/dx = dL/dout * noise.

    Args:
        rate: the equivalent drop rate, in [0, 1].
        seed: integer seed, or None for the global generator.
    """

    def __init__(self, rate, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.rate = rate_in_unit_interval("rate", rate)

    def _active(self):
        return self.rate > 0

    def _noise(self, x, rng):
        stddev = math.sqrt(self.rate / (1.0 - self.rate))
        return rng.normal(1.0, stddev, x.shape).astype(x.dtype), None

    def get_config(self):
        config = super().get_config()
        config.update({"rate": self.rate, "seed": self.seed})
        return config
