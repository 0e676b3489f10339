"""`IntegerLookup`: integer ids to contiguous indices through a vocabulary (or back).

    lookup = IntegerLookup(vocabulary=[12, 36])       # index 0: OOV (-1), 1: 12, 2: 36
    lookup(np.array([[12, 1000]]))                    # -> [[1, 0]]
"""

import numpy as np

from minikeras.layers.base_index_lookup import IndexLookup


class IntegerLookup(IndexLookup):
    """Maps integers to indices (see base_index_lookup.py for the index layout).

    Args (Keras's): max_tokens, num_oov_indices=1, mask_token=None, oov_token=-1,
        vocabulary (list or file path), vocabulary_dtype="int64", idf_weights, invert,
        output_mode, pad_to_max_tokens, oov_method ("floormod": an unknown id v goes to
        OOV bucket v mod num_oov_indices; "farmhash": its decimal text hashed), salt.

    Shapes: x (...) integers -> as StringLookup; invert=True gives (...) int64 ids.
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token=-1,
                 vocabulary=None, vocabulary_dtype="int64", idf_weights=None, invert=False,
                 output_mode="int", sparse=False, pad_to_max_tokens=False,
                 oov_method="floormod", salt=None, name=None, **kwargs):
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                "If `max_tokens` is set for `IntegerLookup`, it must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "The value of `num_oov_indices` argument for `IntegerLookup` must >= 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if vocabulary_dtype != "int64":
            raise ValueError(
                "Only `vocabulary_dtype='int64'` is supported at this time. Received: "
                f"vocabulary_dtype={vocabulary_dtype}"
            )
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         vocabulary_dtype=vocabulary_dtype, idf_weights=idf_weights,
                         invert=invert, output_mode=output_mode, sparse=sparse,
                         pad_to_max_tokens=pad_to_max_tokens, oov_method=oov_method,
                         salt=salt, name=name, **kwargs)

    def _tokens_array(self, x, what="inputs"):
        x = np.asarray(x)
        if x.dtype.kind in "iub":
            return x.astype(np.int64)
        if x.dtype.kind == "f":
            # Keras casts floats to int64 (1.5 -> 1), after refusing non-finite values.
            if not np.isfinite(x).all():
                raise ValueError(
                    f"IntegerLookup expects integers. Received: {what} with non-finite values"
                )
            return x.astype(np.int64)
        if x.size == 0:
            return x.astype(np.int64)
        raise ValueError(
            f"IntegerLookup expects integers. Received: {what} with dtype {x.dtype}"
        )

    def _invert_output(self, out):
        return out.astype(np.int64)

    def _parse_vocabulary_lines(self, lines, source):
        try:
            return [int(line) for line in lines]
        except ValueError:
            raise ValueError(
                f"IntegerLookup expects one integer per line in the vocabulary file "
                f"{source}. Received a line that is not one."
            ) from None

    def get_config(self):
        config = super().get_config()
        for key in ("oov_token", "mask_token"):
            if config[key] is not None:
                config[key] = int(config[key])
        if config["vocabulary"] is not None:
            config["vocabulary"] = [int(v) for v in config["vocabulary"]]
        return config
