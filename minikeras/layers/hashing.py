"""`Hashing`: values (strings or integers) to `num_bins` buckets by a fixed hash.

    bucket = fingerprint64(text) mod num_bins               (salt: SipHash-2-4 keyed by it)

TensorFlow's hashes, written in utils/string_hash.py; integers hash their decimal text and
floats are first truncated to integers, as Keras does. With `mask_value`, that value gets
bucket 0 and the others are hashed into buckets 1 .. num_bins - 1.
"""

import numpy as np

from minikeras.layers.base_preprocessing import PreprocessingLayer, encode_categorical
from minikeras.utils.string_hash import hash_buckets


class Hashing(PreprocessingLayer):
    """Args: num_bins, mask_value=None, salt=None (an int or a pair of ints),
    output_mode "int" / "one_hot" / "multi_hot" / "count".

    Shapes: x (...) -> int: (...) int64; one_hot (..., num_bins), a trailing axis of 1
    replaced; multi_hot / count: (batch, n) -> (batch, num_bins) float32.
    """

    def __init__(self, num_bins, mask_value=None, salt=None, output_mode="int", sparse=False,
                 **kwargs):
        if kwargs.get("dtype") is None:
            kwargs["dtype"] = "int64" if output_mode == "int" else "float32"
        super().__init__(**kwargs)
        if num_bins is None or num_bins <= 0:
            raise ValueError(
                "The `num_bins` for `Hashing` cannot be `None` or non-positive values. "
                f"Received: num_bins={num_bins}."
            )
        if output_mode == "int" and self.dtype not in ("int32", "int64"):
            raise ValueError(
                "When `output_mode=\"int\"`, `dtype` should be an integer type, 'int32' or "
                f"'in64'. Received: dtype={kwargs['dtype']}"
            )
        accepted = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in accepted:
            raise ValueError(
                "Invalid value for argument `output_mode`. Expected one of "
                f"{accepted}. Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(
                "`sparse=True` needs TensorFlow's sparse tensors, which minikeras does not "
                f"have. Received: sparse={sparse}"
            )
        if salt is not None:
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, int) and not isinstance(salt, bool):
                salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `Hashing` can only be a tuple of size 2 "
                    f"integers, or a single integer. Received: salt={salt}."
                )
        self.num_bins = int(num_bins)
        self.mask_value = mask_value
        self.salt = salt
        self.output_mode = output_mode
        self.sparse = sparse

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        if len(input_shape) == 0:
            return (self.num_bins,)
        return tuple(input_shape[:-1]) + (self.num_bins,)

    def forward(self, x, training=False):
        """x: (...) strings or numbers. Returns (out, cache)."""
        x = np.asarray(x)
        if x.dtype.kind == "O":
            x = np.array([v.decode("utf-8") if isinstance(v, bytes) else v
                          for v in x.ravel().tolist()], dtype=object).reshape(x.shape)
        elif x.dtype.kind not in "USiubf":
            raise ValueError(
                f"Hashing expects strings or numbers. Received: inputs with dtype {x.dtype}"
            )
        bins = self.num_bins
        mask = None
        if self.mask_value is not None and bins > 1:
            bins -= 1
            mask = x == self.mask_value
        values = x
        if x.dtype.kind == "f":
            if not np.isfinite(x).all():
                raise ValueError("Hashing expects finite numbers. Received: non-finite values")
            values = x.astype(np.int64)
        indices = hash_buckets(values, bins, key=self.salt)
        if mask is not None:
            indices = np.where(mask, 0, indices + 1)
        if self.output_mode == "int":
            return indices.astype(self.dtype), x.shape
        if self.output_mode == "one_hot" and indices.ndim and indices.shape[-1] == 1:
            indices = indices[..., 0]
        out = encode_categorical(indices, self.output_mode, self.num_bins, self.dtype)
        return out, x.shape

    def get_config(self):
        config = super().get_config()
        config.update({"num_bins": self.num_bins, "salt": self.salt,
                       "mask_value": self.mask_value, "output_mode": self.output_mode,
                       "sparse": self.sparse})
        return config
