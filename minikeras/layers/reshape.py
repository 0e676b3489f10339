"""`Reshape`: (batch, ...) -> (batch, *target_shape)."""

import math

from minikeras.layers.layer import Layer


class Reshape(Layer):
    """Reshapes everything but the batch axis.

    Args:
        target_shape: the new shape without the batch axis; one entry may be -1.
    """

    def __init__(self, target_shape, **kwargs):
        super().__init__(**kwargs)
        try:
            target_shape = tuple(int(d) for d in target_shape)
        except TypeError:
            raise ValueError(
                f"`target_shape` must be a tuple of integers. Received: "
                f"target_shape={target_shape!r}"
            ) from None
        if sum(d == -1 for d in target_shape) > 1 or any(d == 0 or d < -1 for d in target_shape):
            raise ValueError(
                "`target_shape` must hold positive integers and at most one -1. "
                f"Received: target_shape={target_shape}"
            )
        self.target_shape = target_shape

    def _resolve(self, input_shape):
        size = math.prod(input_shape[1:])
        known = math.prod(d for d in self.target_shape if d != -1)
        shape = tuple(size // known if d == -1 else d for d in self.target_shape)
        if math.prod(shape) != size or (-1 in self.target_shape and size % known):
            raise ValueError(
                f"Layer {self.name!r} cannot reshape an input of shape {tuple(input_shape)} "
                f"to target_shape={self.target_shape}: the sizes differ."
            )
        return shape

    def build(self, input_shape):
        if all(d is not None for d in input_shape[1:]):
            self._resolve(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        if any(d is None for d in input_shape[1:]):
            return (input_shape[0],) + tuple(None if d == -1 else d for d in self.target_shape)
        return (input_shape[0],) + self._resolve(input_shape)

    def forward(self, x, training=False):
        """x: (batch, ...). Returns (out, cache), out: (batch, *target_shape)."""
        return x.reshape((x.shape[0],) + self._resolve(x.shape)), x.shape

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout.reshape(cache), []

    def get_config(self):
        config = super().get_config()
        config["target_shape"] = self.target_shape
        return config
