"""`UpSampling1D`: repeats every step `size` times."""

import numpy as np

from minikeras.layers import base_conv1d
from minikeras.layers.layer import Layer


class UpSampling1D(Layer):
    """out[n, t * size + r, c] = x[n, t, c] for r < size.

    Args:
        size: positive int, how many times each step is repeated.

    Shapes: (batch, steps, c) -> (batch, steps * size, c). No weights.
    """

    def __init__(self, size=2, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(size, (int, np.integer)) or isinstance(size, bool):
            raise TypeError(
                f"Expected an integer value for `size` (layer {self.name!r}). "
                f"Received: size={size!r} of type {type(size).__name__}"
            )
        if size <= 0:
            raise ValueError(
                f"Argument `size` should be a positive integer (layer {self.name!r}). "
                f"Received: size={size}"
            )
        self.size = int(size)

    def build(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        steps = None if input_shape[1] is None else input_shape[1] * self.size
        return (input_shape[0], steps, input_shape[2])

    def forward(self, x, training=False):
        """x: (batch, steps, c). Returns (out, None)."""
        base_conv1d.check_rank(self, x.shape)
        return np.repeat(x, self.size, axis=1), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """Each input step receives the sum of its `size` copies' gradients. Returns (dx, [])."""
        batch, out_steps, channels = dout.shape
        copies = dout.reshape(batch, out_steps // self.size, self.size, channels)
        return copies.sum(axis=2), []

    def get_config(self):
        config = super().get_config()
        config["size"] = self.size
        return config
