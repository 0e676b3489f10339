"""`CategoryEncoding`: integer ids in [0, num_tokens) to one-hot, multi-hot or count vectors.

    CategoryEncoding(4, output_mode="count")(np.array([[0, 2, 2]]))   # -> [[1, 0, 2, 0]]
"""

import numpy as np

from minikeras.layers.base_preprocessing import PreprocessingLayer, encode_categorical


class CategoryEncoding(PreprocessingLayer):
    """Args: num_tokens (required), output_mode "one_hot" / "multi_hot" (default) / "count".

    Shapes: one_hot: x (...) -> (..., num_tokens), a trailing axis of 1 replaced;
    multi_hot / count: x (batch, n) -> (batch, num_tokens), x (n,) -> (num_tokens,).
    Ids >= num_tokens are dropped (a zero row for one_hot); negative ids are refused in
    multi_hot / count, as TensorFlow's bincount refuses them.
    """

    def __init__(self, num_tokens=None, output_mode="multi_hot", sparse=False, **kwargs):
        super().__init__(**kwargs)
        if output_mode == "binary":
            output_mode = "multi_hot"
        if output_mode not in ("count", "one_hot", "multi_hot"):
            raise ValueError(f"Unknown arg for output_mode: {output_mode}")
        if num_tokens is None:
            raise ValueError(
                "num_tokens must be set to use this layer. If the number of tokens is not "
                "known beforehand, use the IntegerLookup layer instead."
            )
        if num_tokens < 1:
            raise ValueError(f"`num_tokens` must be >= 1. Received: num_tokens={num_tokens}.")
        if sparse:
            raise ValueError(
                "`sparse=True` needs TensorFlow's sparse tensors, which minikeras does not "
                f"have. Received: sparse={sparse}"
            )
        self.num_tokens = int(num_tokens)
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_tokens,)
        if self.output_mode == "one_hot" and (input_shape[-1] != 1 or len(input_shape) == 1):
            return input_shape + (self.num_tokens,)
        return input_shape[:-1] + (self.num_tokens,)

    def __call__(self, x, training=False, count_weights=None):
        if count_weights is None:
            return super().__call__(x, training=training)
        x = np.asarray(x)
        return self.forward(x, count_weights=count_weights)[0]

    def forward(self, x, training=False, count_weights=None):
        """x: (...) integer ids. Returns (out, cache), out float32 (see class docstring)."""
        x = np.asarray(x)
        if x.dtype.kind not in "iufb":
            raise ValueError(
                f"CategoryEncoding expects integer ids. Received: inputs with dtype {x.dtype}"
            )
        if count_weights is not None and self.output_mode != "count":
            raise ValueError(
                "`count_weights` is not used when `output_mode` is not `'count'`. Received "
                f"`count_weights={count_weights}`."
            )
        if count_weights is not None and np.shape(count_weights) != x.shape:
            raise ValueError(
                f"`count_weights` must have the shape of the inputs {x.shape}. Received: "
                f"count_weights with shape {np.shape(count_weights)}"
            )
        if x.dtype.kind == "f" and not np.isfinite(x).all():
            raise ValueError("CategoryEncoding expects integer ids. Received: non-finite values")
        ids = x.astype(np.int64)
        out = encode_categorical(ids, self.output_mode, self.num_tokens, self.dtype,
                                 count_weights=count_weights)
        return out, x.shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_tokens": self.num_tokens, "output_mode": self.output_mode})
        return config
