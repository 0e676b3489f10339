"""`GaussianNoise`: adds zero-mean Gaussian noise while training."""


from minikeras.layers.base_noise import NoiseLayer, rate_in_unit_interval


class GaussianNoise(NoiseLayer):
    """out = x + N(0, stddev^2) noise while training; x at inference. dL/dx = dL/dout.

    Args:
        stddev: the noise's standard deviation, in [0, 1] (Keras's range).
        seed: integer seed, or None for the global generator.
    """

    def __init__(self, stddev, seed=None, **kwargs):
        super().__init__(seed=seed, **kwargs)
        self.stddev = rate_in_unit_interval("stddev", stddev)

    def _active(self):
        return self.stddev > 0

    def _noise(self, x, rng):
        return None, rng.normal(0.0, self.stddev, x.shape).astype(x.dtype)

    def get_config(self):
        config = super().get_config()
        config.update({"stddev": self.stddev, "seed": self.seed})
        return config
