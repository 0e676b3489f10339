"""`StringLookup`: strings to integer indices through a vocabulary (or back, invert=True).

    lookup = StringLookup(vocabulary=["a", "b"])      # index 0: OOV "[UNK]", 1: "a", 2: "b"
    lookup(np.array([["a", "z"]]))                    # -> [[1, 0]]
"""

import numpy as np

from minikeras.layers.base_index_lookup import IndexLookup


def as_text_array(x, what, layer_name, encoding="utf-8"):
    """x (any shape) as a NumPy unicode array (dtype "<U..."); bytes are decoded. Unicode
    arrays sort and compare in C, which np.unique in the lookups relies on for speed.
    Numbers are refused: a string layer given numbers is a mistake in the script."""
    x = np.asarray(x)
    if x.dtype.kind == "U":
        return x
    if x.dtype.kind == "S":
        return np.char.decode(x, encoding)
    if x.size == 0:
        return x.astype(str)
    if x.dtype.kind == "O":
        flat = x.ravel().tolist()
        if all(isinstance(v, str) for v in flat):
            return np.array(flat, dtype=str).reshape(x.shape)
        if all(isinstance(v, (str, bytes)) for v in flat):
            return np.array([v.decode(encoding) if isinstance(v, bytes) else v for v in flat],
                            dtype=str).reshape(x.shape)
    raise ValueError(
        f"{layer_name} expects strings. Received: {what} with dtype {x.dtype}"
    )


class StringLookup(IndexLookup):
    """Maps strings to indices (see base_index_lookup.py for the index layout).

    Args (Keras's): max_tokens, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
        vocabulary (list or file path), idf_weights, invert, output_mode ("int",
        "one_hot", "multi_hot", "count", "tf_idf"), pad_to_max_tokens, encoding, salt.

    Shapes: x (...) strings -> int: (...) int64; one_hot (..., vocabulary_size);
    multi_hot / count / tf_idf (batch, n) -> (batch, vocabulary_size).
    With invert=True: x (...) int indices -> (...) strings (object array of str).
    """

    def __init__(self, max_tokens=None, num_oov_indices=1, mask_token=None, oov_token="[UNK]",
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 pad_to_max_tokens=False, sparse=False, encoding="utf-8", name=None,
                 salt=None, **kwargs):
        self.encoding = encoding
        super().__init__(max_tokens=max_tokens, num_oov_indices=num_oov_indices,
                         mask_token=mask_token, oov_token=oov_token, vocabulary=vocabulary,
                         idf_weights=idf_weights, invert=invert, output_mode=output_mode,
                         pad_to_max_tokens=pad_to_max_tokens, sparse=sparse, name=name,
                         salt=salt, vocabulary_dtype="string", **kwargs)

    def _tokens_array(self, x, what="inputs"):
        return as_text_array(x, what, type(self).__name__, self.encoding)

    def get_config(self):
        config = super().get_config()
        del config["vocabulary_dtype"]
        config["encoding"] = self.encoding
        return config
