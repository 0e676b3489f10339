"""`RepeatVector`: repeats a vector n times along a new time axis."""

import numpy as np

from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import positive_int


class RepeatVector(Layer):
    """out[:, t, :] = x for t in 0..n-1.

    Args:
        n: how many times to repeat.

    Shapes: x (batch, features) -> out (batch, n, features).
    """

    def __init__(self, n, **kwargs):
        super().__init__(**kwargs)
        if isinstance(n, bool) or not isinstance(n, (int, np.integer)):
            raise TypeError(f"Expected an integer value for `n`, got {type(n)}.")
        self.n = positive_int("n", n, owner=f"layer {self.name!r}")

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.n, input_shape[1])

    def forward(self, x, training=False):
        """x: (batch, features). Returns (out, None)."""
        if x.ndim != 2:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim=2, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        return np.repeat(x[:, None, :], self.n, axis=1), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, n, features) -> dx (batch, features): the copies' gradients summed."""
        return dout.sum(axis=1), []

    def get_config(self):
        config = super().get_config()
        config["n"] = self.n
        return config
