"""Shared parts of the preprocessing layers that map data to indices (lookups, hashing,
discretization, text): calling them on raw arrays, and Keras's categorical encodings.

These layers have no weights to train and no gradient with respect to their input (their
outputs are indices or counts): `backward` passes zeros back so a model can still hold one.
"""

import numpy as np

from minikeras.layers.layer import Layer

OUTPUT_MODES = ("int", "one_hot", "multi_hot", "count", "tf_idf")


def check_output_mode(output_mode, allowed, layer_name):
    """Keras's validate_string_arg for `output_mode` (with its old aliases translated)."""
    if output_mode == "binary":
        output_mode = "multi_hot"
    if output_mode == "tf-idf":
        output_mode = "tf_idf"
    if output_mode not in allowed:
        raise ValueError(
            f"Unknown value for `output_mode` argument of {layer_name}. Allowed values are: "
            f"{allowed}. Received: output_mode={output_mode}"
        )
    return output_mode


class PreprocessingLayer(Layer):
    """A layer called on data as it comes (strings, integer ids, raw floats): unlike the
    base Layer, integer and string arrays reach `forward` unconverted."""

    def __call__(self, x, training=False):
        if isinstance(x, (np.ndarray, list, tuple, str, bytes, int, float, np.generic)):
            x = np.asarray(x)
            self._maybe_build(x.shape)
            return self.forward(x, training=training)[0]
        return super().__call__(x, training=training)

    def build(self, input_shape):
        self.built = True

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """No gradient flows through an index lookup: dx is zeros shaped like x."""
        input_shape = cache
        return np.zeros(input_shape), []


def encode_categorical(indices, output_mode, depth, dtype, count_weights=None,
                       drop_negative=False):
    """Keras's encodings of integer indices (TensorFlow's paths).

    indices: int array (...,). one_hot: (..., depth), a trailing axis of 1 replaced;
    out-of-range indices give a row of zeros. multi_hot / count: counted along the last
    axis, (batch, n) -> (batch, depth) and (n,) -> (depth,); indices >= depth are dropped.
    count_weights: like indices, what each occurrence adds (count mode).
    drop_negative: negative indices are dropped (a lookup's mask token) instead of refused.
    """
    indices = np.asarray(indices)
    if indices.ndim == 0:
        indices = indices.reshape(1)
    if output_mode == "one_hot":
        if indices.ndim > 1 and indices.shape[-1] == 1:
            indices = indices[..., 0]
        return (indices[..., None] == np.arange(depth)).astype(dtype)
    if not drop_negative and indices.size and indices.min() < 0:
        raise ValueError(
            f"Input values must be non-negative for output_mode={output_mode!r}. Received: "
            f"a negative value {int(indices.min())}"
        )
    rows_shape = indices.shape[:-1]
    rows = int(np.prod(rows_shape, dtype=np.int64))
    flat = indices.reshape(rows, -1)
    keep = (flat >= 0) & (flat < depth)
    # One bincount over all rows: each row's indices shifted into its own block of `depth`.
    slots = (np.arange(rows)[:, None] * depth + flat)[keep]
    if output_mode == "count" and count_weights is not None:
        weights = np.broadcast_to(np.asarray(count_weights, dtype=np.float64),
                                  indices.shape).reshape(rows, -1)[keep]
        counts = np.bincount(slots, weights=weights, minlength=rows * depth)
    else:
        counts = np.bincount(slots, minlength=rows * depth)
        if output_mode == "multi_hot":
            counts = np.minimum(counts, 1)
    return counts.reshape(rows_shape + (depth,)).astype(dtype)
