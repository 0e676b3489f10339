"""`Cropping1D`: removes steps from the start and the end of a sequence."""

import numpy as np

from minikeras.layers import base_conv1d
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple


class Cropping1D(Layer):
    """out = x[:, start : steps - end, :].

    Args:
        cropping: int n (n steps off each end) or (start, end).

    Shapes: (batch, steps, c) -> (batch, steps - start - end, c). No weights.
    """

    def __init__(self, cropping=(1, 1), **kwargs):
        super().__init__(**kwargs)
        self.cropping = int_tuple("cropping", cropping, 2, owner=f"layer {self.name!r}",
                                  allow_zero=True)

    def _check_input_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        if input_shape[1] is not None and sum(self.cropping) >= input_shape[1]:
            raise ValueError(
                f"`cropping` parameter of `Cropping1D` layer must be smaller than the input "
                f"length (layer {self.name!r}). Received: input_shape={tuple(input_shape)}, "
                f"cropping={self.cropping}"
            )

    def build(self, input_shape):
        self._check_input_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        steps = None if input_shape[1] is None else input_shape[1] - sum(self.cropping)
        return (input_shape[0], steps, input_shape[2])

    def forward(self, x, training=False):
        """x: (batch, steps, c). Returns (cropped, steps)."""
        self._check_input_shape(x.shape)
        start, end = self.cropping
        return x[:, start : x.shape[1] - end], x.shape[1]

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dx is dout put back in place, with zeros for the cropped steps. Returns (dx, [])."""
        start, end = self.cropping
        return np.pad(dout, ((0, 0), (start, end), (0, 0))), []

    def get_config(self):
        config = super().get_config()
        config["cropping"] = self.cropping
        return config
