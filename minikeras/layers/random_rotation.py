"""`RandomRotation`: rotates each image about its centre by a random angle."""

import numpy as np

from minikeras.layers.base_random_image import RandomAffineLayer, factor_pair


def rotation_transforms(degrees, height, width):
    """(batch, 8) output-to-input transforms rotating about the image centre, Keras's
    matrix: for angle t, input = R(t) @ (output - centre) + centre with
    R = [[cos t, -sin t], [sin t, cos t]] on (x, y) pixel coordinates."""
    angle = np.deg2rad(np.asarray(degrees, dtype=np.float32))
    cos, sin = np.cos(angle), np.sin(angle)
    cx, cy = np.float32(0.5 * (width - 1)), np.float32(0.5 * (height - 1))
    zeros = np.zeros_like(cos)
    return np.stack([cos, -sin, cx - cx * cos + cy * sin,
                     sin, cos, cy - cx * sin - cy * cos, zeros, zeros], axis=1)


class RandomRotation(RandomAffineLayer):
    """While training, rotates each image by an angle drawn uniformly in
    [lower * 360, upper * 360] degrees; the corners are filled by `fill_mode`.

    Args:
        factor: a fraction of a full turn: f means [-f, f]; a pair (lower, upper) is used as
            given (each in [-1, 1]). factor=(0.25, 0.25) rotates every image by 90 degrees.
        fill_mode: "reflect", "wrap", "constant" (fill_value) or "nearest".
        interpolation: "bilinear" or "nearest".
        seed, fill_value, data_format: as in Keras.

    Backward: the adjoint of the resampling (kernels/affine.py).
    """

    def __init__(self, factor, fill_mode="reflect", interpolation="bilinear", seed=None,
                 fill_value=0.0, data_format=None, **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.factor = factor_pair(
            "factor", factor, -1.0, 1.0,
            "The `factor` argument should be a number (or a list of two numbers) in the "
            "range [-1, 1].")

    def _transforms(self, batch, height, width, rng):
        degrees = rng.uniform(self.factor[0] * 360.0, self.factor[1] * 360.0, size=batch)
        return rotation_transforms(degrees, height, width)

    def get_config(self):
        config = super().get_config()
        config["factor"] = self.factor
        return config
