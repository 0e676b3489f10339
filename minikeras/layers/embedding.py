"""`Embedding`: integer ids -> rows of a trainable table."""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer, maybe_serialize
from minikeras.sparse_rows import SparseRows
from minikeras.utils.argument_validation import positive_int


class Embedding(Layer):
    """Looks up one row of `embeddings` per id: out[..., :] = embeddings[ids[...]].

    Args:
        input_dim: vocabulary size (ids run from 0 to input_dim - 1).
        output_dim: length of each row.
        embeddings_initializer ("uniform"), embeddings_regularizer, embeddings_constraint,
        activity_regularizer: as in Keras.
        mask_zero: id 0 is padding: the layer gives a mask (ids != 0) to the layers after it.
        input_length, sparse, lora_rank, lora_alpha, quantization_config: accepted for Keras
            compatibility (sparse, LoRA and quantization must be off).

    Shapes: ids (batch, ...) -> out (batch, ..., output_dim). Weight: embeddings
    (input_dim, output_dim). Ids may arrive as integers or as floats holding whole numbers
    (Sequential feeds floats); other values are refused.
    """

    supports_masking = True

    def __init__(self, input_dim, output_dim, embeddings_initializer="uniform",
                 embeddings_regularizer=None, embeddings_constraint=None, mask_zero=False,
                 weights=None, lora_rank=None, lora_alpha=None, quantization_config=None,
                 input_length=None, sparse=False, activity_regularizer=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.input_dim = positive_int("input_dim", input_dim, owner=f"layer {self.name!r}")
        self.output_dim = positive_int("output_dim", output_dim, owner=f"layer {self.name!r}")
        for arg_name, value in (("sparse", sparse or None), ("lora_rank", lora_rank),
                                ("lora_alpha", lora_alpha),
                                ("quantization_config", quantization_config)):
            if value is not None:
                raise ValueError(
                    f"minikeras's Embedding does not support `{arg_name}`. "
                    f"Received: {arg_name}={value!r}"
                )
        self.embeddings_initializer = initializers.get(embeddings_initializer)
        self.embeddings_regularizer = regularizers.get(embeddings_regularizer)
        self.embeddings_constraint = constraints.get(embeddings_constraint)
        self.mask_zero = bool(mask_zero)
        self.input_length = input_length
        self._initial_weights = weights

    def build(self, input_shape=None):
        self.embeddings = self.add_weight(
            (self.input_dim, self.output_dim), self.embeddings_initializer, name="embeddings",
            regularizer=self.embeddings_regularizer, constraint=self.embeddings_constraint)
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape) + (self.output_dim,)

    def compute_mask(self, inputs, mask=None):
        """(batch, ...) booleans: True where the id is not 0 (None unless mask_zero)."""
        if not self.mask_zero:
            return None
        return np.asarray(inputs) != 0

    def __call__(self, x, training=False):
        if isinstance(x, KerasTensor):
            return self._call_symbolic(x)
        self._maybe_build(np.shape(x))
        return self.forward(x, training=training)[0]

    def _ids(self, x):
        """The ids as an int array, after checking they are whole numbers in range."""
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.floating):
            ids = x.astype(np.int64)
            if not np.array_equal(ids, x):
                bad = x[ids != x].flat[0]
                raise ValueError(
                    f"Layer {self.name!r} expects integer token ids. Received: inputs of "
                    f"dtype {x.dtype} holding {float(bad)!r}, which is not a whole number"
                )
        elif np.issubdtype(x.dtype, np.integer) or x.dtype == np.bool_:
            ids = x.astype(np.intp, copy=False)
        else:
            raise ValueError(
                f"Layer {self.name!r} expects integer token ids. Received inputs of dtype "
                f"{x.dtype}"
            )
        if ids.size and (ids.min() < 0 or ids.max() >= self.input_dim):
            bad = ids.min() if ids.min() < 0 else ids.max()
            raise ValueError(
                f"Layer {self.name!r} expects ids in [0, {self.input_dim}) "
                f"(input_dim={self.input_dim}). Received: an id of {int(bad)}"
            )
        return ids

    def forward(self, x, training=False):
        """x: (batch, ...) ids. Returns (out, cache), out: (batch, ..., output_dim)."""
        ids = self._ids(x)
        out = self.embeddings.value[ids]                        # (batch, ..., output_dim)
        return out, ids

    def backward(self, dout, ids, from_logits=False, need_input_gradient=True):
        """dout: (batch, ..., output_dim). Returns (None, [dembeddings]): ids have no
        gradient. dembeddings is a SparseRows, one row of dout per id in the batch: the
        gradient of row r is the sum of dout over the positions holding id r, and the
        optimizer sees the occurrences (as Keras's does on TensorFlow; see
        minikeras/sparse_rows.py)."""
        if not self.trainable:
            return None, []
        rows = dout.reshape(-1, self.output_dim)                # (batch * ..., output_dim)
        return None, [SparseRows(ids.reshape(-1), rows, (self.input_dim, self.output_dim))]

    def get_config(self):
        config = super().get_config()
        config.update({
            "input_dim": self.input_dim,
            "output_dim": self.output_dim,
            "embeddings_initializer": initializers.serialize(self.embeddings_initializer),
            "embeddings_regularizer": maybe_serialize(regularizers.serialize,
                                                      self.embeddings_regularizer),
            "embeddings_constraint": maybe_serialize(constraints.serialize,
                                                     self.embeddings_constraint),
            "mask_zero": self.mask_zero,
            "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                    self.activity_regularizer),
        })
        return config
