"""`RandomZoom`: zooms each image in or out about its centre by a random factor."""

import numpy as np

from minikeras.layers.base_random_image import RandomAffineLayer, factor_pair

_MESSAGE = ("The `height_factor` and `width_factor` arguments should be a number (or a list "
            "of two numbers) in the range (-1.0, 1.0].")


def zoom_transforms(height_zoom, width_zoom, height, width):
    """(batch, 8) transforms: input = zoom * (output - centre) + centre along each axis (a
    zoom above 1 reads a larger window, so the image shrinks: Keras's convention)."""
    zh = np.asarray(height_zoom, dtype=np.float32)
    zw = np.asarray(width_zoom, dtype=np.float32)
    zeros = np.zeros_like(zh)
    return np.stack([zw, zeros, np.float32((width - 1) / 2) * (1 - zw),
                     zeros, zh, np.float32((height - 1) / 2) * (1 - zh), zeros, zeros], axis=1)


class RandomZoom(RandomAffineLayer):
    """While training, each image is resampled with zoom factors 1 + u, u drawn uniformly in
    the factor range (positive u zooms out, negative u zooms in).

    Args:
        height_factor: f means [-f, f]; or a pair (lower, upper), each in (-1, 1].
        width_factor: the same for the width, or None to keep the aspect ratio (the height's
            draw is used for both).
        fill_mode, interpolation, seed, fill_value, data_format: as RandomRotation.
    """

    def __init__(self, height_factor, width_factor=None, fill_mode="reflect",
                 interpolation="bilinear", seed=None, fill_value=0.0, data_format=None,
                 **kwargs):
        super().__init__(fill_mode=fill_mode, interpolation=interpolation, seed=seed,
                         fill_value=fill_value, data_format=data_format, **kwargs)
        self.height_factor = height_factor
        self.height_lower, self.height_upper = factor_pair(
            "height_factor", height_factor, -1.0, 1.0, _MESSAGE, low_open=True)
        self.width_factor = width_factor
        if width_factor is not None:
            self.width_lower, self.width_upper = factor_pair(
                "width_factor", width_factor, -1.0, 1.0, _MESSAGE, low_open=True)

    def _transforms(self, batch, height, width, rng):
        height_zoom = rng.uniform(1 + self.height_lower, 1 + self.height_upper, size=batch)
        width_zoom = height_zoom
        if self.width_factor is not None:
            width_zoom = rng.uniform(1 + self.width_lower, 1 + self.width_upper, size=batch)
        return zoom_transforms(height_zoom, width_zoom, height, width)

    def get_config(self):
        config = super().get_config()
        config.update({"height_factor": self.height_factor, "width_factor": self.width_factor})
        return config
