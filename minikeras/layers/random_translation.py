"""`RandomTranslation`: shifts each image by a random fraction of its height and width."""

import numpy as np

from minikeras.layers.base_random_image import RandomAffineLayer, factor_pair

_MESSAGE = ("The `factor` argument should be a number (or a list of two numbers) in the range "
            "[-1.0, 1.0].")


def translation_transforms(dy, dx):
    """(batch, 8) transforms: output pixel (y, x) reads input (y - dy, x - dx), so the image
    moves down by dy and right by dx pixels."""
    dy = np.asarray(dy, dtype=np.float32)
    dx = np.asarray(dx, dtype=np.float32)
    ones, zeros = np.ones_like(dy), np.zeros_like(dy)
    return np.stack([ones, zeros, -dx, zeros, ones, -dy, zeros, zeros], axis=1)


class RandomTranslation(RandomAffineLayer):
    """While training, each image moves by (u * height, v * width) pixels, u and v drawn
    uniformly in the factor ranges (positive moves down / right).

    Args:
        height_factor, width_factor: f means [-f, f]; or a pair (lower, upper), in [-1, 1].
        fill_mode, interpolation, seed, fill_value, data_format: as RandomRotation.
    """

    def __init__(self, height_factor, width_factor, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.width_factor = width_factor
        self.height_lower, self.height_upper = factor_pair(
            "height_factor", height_factor, -1.0, 1.0, _MESSAGE)
        self.width_lower, self.width_upper = factor_pair(
            "width_factor", width_factor, -1.0, 1.0, _MESSAGE)

    def _transforms(self, batch, height, width, rng):
        dy = rng.uniform(self.height_lower, self.height_upper, size=batch) * height
        dx = rng.uniform(self.width_lower, self.width_upper, size=batch) * width
        return translation_transforms(dy, dx)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config
