"""`Permute`: reorders the non-batch axes."""

import numpy as np

from minikeras.layers.layer import Layer


class Permute(Layer):
    """out = x.transpose(0, *dims): dims numbers the non-batch axes from 1, as Keras does.

    Args:
        dims: a permutation of 1..rank-1, e.g. (2, 1) swaps time and features.

    Shapes: x (batch, d1, ..., dk) -> out (batch, d_dims[0], ..., d_dims[k-1]).
    """

    def __init__(self, dims, **kwargs):
        super().__init__(**kwargs)
        dims = tuple(dims) if isinstance(dims, (list, tuple)) else dims
        if not isinstance(dims, tuple) or sorted(dims) != list(range(1, len(dims) + 1)):
            raise ValueError(
                "Invalid permutation argument `dims` for Permute Layer. The set of indices "
                f"in `dims` must be consecutive and start from 1. Received dims={dims}"
            )
        self.dims = tuple(int(d) for d in dims)

    def compute_output_shape(self, input_shape):
        return (input_shape[0],) + tuple(input_shape[d] for d in self.dims)

    def forward(self, x, training=False):
        """x: (batch, ...) of rank len(dims) + 1. Returns (out, None)."""
        if x.ndim != len(self.dims) + 1:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim={len(self.dims) + 1}, found ndim={x.ndim}. Full shape received: "
                f"{x.shape}"
            )
        return x.transpose((0,) + self.dims), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: the permuted shape -> dx: the inverse permutation of dout."""
        inverse = np.argsort((0,) + self.dims)
        return dout.transpose(inverse), []

    def get_config(self):
        config = super().get_config()
        config["dims"] = self.dims
        return config
