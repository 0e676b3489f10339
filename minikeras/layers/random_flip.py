"""`RandomFlip`: flips each image (left-right, up-down, or both) with probability 1/2."""

from minikeras.layers.base_random_image import RandomImageLayer

MODES = ("horizontal", "vertical", "horizontal_and_vertical")


class RandomFlip(RandomImageLayer):
    """While training, each image is flipped with probability 1/2 (one draw per image: in
    "horizontal_and_vertical" mode a drawn image is flipped both ways, as in Keras).

    Args:
        mode: "horizontal" (left-right), "vertical" (up-down) or "horizontal_and_vertical".
        seed: an int for a reproducible sequence of flips, or None.
        data_format: "channels_last" or "channels_first".

    Shapes: (batch, h, w, c) -> the same. Backward: a flip is its own inverse, so dL/dx is
    dL/dout flipped back in the same images.
    """

    def __init__(self, mode="horizontal_and_vertical", seed=None, data_format=None, **kwargs):
        super().__init__(seed=seed, data_format=data_format, **kwargs)
        if mode not in MODES:
            raise ValueError(f"Expected `mode` to be one of {MODES}. Received: mode={mode!r}")
        self.mode = mode

    def _flip(self, x, flips):
        """x: (batch, h, w, c); flips: (batch,) bools."""
        out = x.copy()
        if self.mode != "vertical":
            out[flips] = out[flips, :, ::-1]
        if self.mode != "horizontal":
            out[flips] = out[flips, ::-1]
        return out

    def _augment(self, x, rng):
        flips = rng.uniform(size=x.shape[0]) <= 0.5
        return self._flip(x, flips), flips

    def _augment_backward(self, dout, flips):
        return self._flip(dout, flips)

    def get_config(self):
        config = super().get_config()
        config["mode"] = self.mode
        return config
