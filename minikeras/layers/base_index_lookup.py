"""`IndexLookup`: what StringLookup and IntegerLookup share, a vocabulary mapped to indices.

Index layout (Keras's), for output_mode="int":

    0                      the mask token (only when `mask_token` is set)
    then num_oov_indices   OOV buckets: an unknown token goes to one of them (hashed)
    then the vocabulary    most frequent first when learned by `adapt`

Other output modes drop the mask slot (the mask token is simply not counted) and encode the
indices (one_hot, multi_hot, count, tf_idf) to vectors of length `vocabulary_size()`, or
`max_tokens` with pad_to_max_tokens=True.

Lookups run once per distinct value: `np.unique` of the input, a dict lookup per unique
value, and the answers scattered back with the inverse indices.
"""

import collections
import os

import numpy as np

from minikeras.layers.base_preprocessing import (
    OUTPUT_MODES,
    PreprocessingLayer,
    check_output_mode,
    encode_categorical,
)
from minikeras.utils.string_hash import hash_buckets

# A vocabulary file is read only up to this size: a vocabulary is data, never a way to make
# the process read an unbounded file.
MAX_VOCABULARY_FILE_BYTES = 512 * 1024 * 1024


class IndexLookup(PreprocessingLayer):
    """Maps tokens to indices through a vocabulary (see the module docstring).

    Shapes: x (...) of tokens -> int: (...) int64; one_hot: (..., depth) (a trailing axis
    of 1 replaced); multi_hot / count / tf_idf: (batch, n) -> (batch, depth).
    """

    def __init__(self, max_tokens, num_oov_indices, mask_token, oov_token, vocabulary_dtype,
                 vocabulary=None, idf_weights=None, invert=False, output_mode="int",
                 sparse=False, pad_to_max_tokens=False, oov_method="floormod", name=None,
                 salt=None, vocabulary_size=None, has_input_vocabulary=None, **kwargs):
        # vocabulary_size, has_input_vocabulary: Keras's config-only arguments (the size
        # recorded when the vocabulary was set; whether it was given rather than adapted).
        if max_tokens is not None and max_tokens <= 1:
            raise ValueError(
                "If set, `max_tokens` must be greater than 1. "
                f"Received: max_tokens={max_tokens}"
            )
        if pad_to_max_tokens and max_tokens is None:
            raise ValueError(
                "If pad_to_max_tokens is True, must set `max_tokens`. "
                f"Received: max_tokens={max_tokens}"
            )
        if num_oov_indices < 0:
            raise ValueError(
                "`num_oov_indices` must be greater than or equal to 0. "
                f"Received: num_oov_indices={num_oov_indices}"
            )
        if oov_method not in ("floormod", "farmhash"):
            raise ValueError(
                f"Unknown value for `oov_method` argument of {type(self).__name__}. Allowed "
                f"values are: ('floormod', 'farmhash'). Received: oov_method={oov_method}"
            )
        if salt is not None:
            if vocabulary_dtype != "string" and oov_method != "farmhash":
                raise ValueError(
                    "`salt` can only be used when `oov_method='farmhash'`. "
                    f"Received: oov_method={oov_method}"
                )
            if isinstance(salt, (tuple, list)) and len(salt) == 2:
                salt = [int(s) for s in salt]
            elif isinstance(salt, int) and not isinstance(salt, bool):
                salt = [salt, salt]
            else:
                raise ValueError(
                    "The `salt` argument for `IndexLookup` can only be a tuple of 2 "
                    f"integers, or a single integer. Received: salt={salt}."
                )
        output_mode = check_output_mode(output_mode, OUTPUT_MODES, type(self).__name__)
        if invert and output_mode != "int":
            raise ValueError(
                "`output_mode` must be `'int'` when `invert` is true. "
                f"Received: output_mode={output_mode}"
            )
        if sparse:
            raise ValueError(
                "`sparse=True` needs TensorFlow's sparse tensors, which minikeras does not "
                f"have. Received: sparse={sparse}"
            )
        if idf_weights is not None and output_mode != "tf_idf":
            raise ValueError(
                "`idf_weights` should only be set if `output_mode` is `'tf_idf'`. "
                f"Received: idf_weights={idf_weights} and output_mode={output_mode}"
            )
        frozen_size = vocabulary_size
        if has_input_vocabulary is None:
            has_input_vocabulary = vocabulary is not None
        kwargs.pop("vocabulary_dtype", None)
        super().__init__(name=name, **kwargs)
        self.invert = bool(invert)
        self.max_tokens = max_tokens
        self.num_oov_indices = int(num_oov_indices)
        self.mask_token = mask_token
        self.oov_token = oov_token
        self.output_mode = output_mode
        self.sparse = sparse
        self.pad_to_max_tokens = bool(pad_to_max_tokens)
        self.vocabulary_dtype = vocabulary_dtype
        self.oov_method = oov_method
        self.salt = salt
        self._frozen_vocab_size = frozen_size
        # What get_config reports: a vocabulary given as a list; a file's contents are
        # saved as an asset instead (as Keras does), never the path.
        self.input_vocabulary = None if isinstance(vocabulary, str) else vocabulary
        self.input_idf_weights = idf_weights
        self._has_input_vocabulary = has_input_vocabulary
        self._tokens = []              # the vocabulary without its special tokens
        self._index = {}               # token -> index
        self.idf_weights = None        # (depth,) float32, tf_idf only
        self._reset_counts()
        if output_mode == "tf_idf" and has_input_vocabulary and idf_weights is None:
            raise ValueError(
                "When specifying the `vocabulary` argument, in TF-IDF output mode, the "
                "`idf_weights` argument must also be provided."
            )
        if vocabulary is not None:
            self.set_vocabulary(vocabulary, idf_weights)

    # ------------------------------------------------------------ token kinds

    def _tokens_array(self, x, what="inputs"):
        """x as an array of this layer's tokens (str objects, or int64)."""
        raise NotImplementedError

    # --------------------------------------------------------- the vocabulary

    def _oov_start_index(self):
        return 1 if self.mask_token is not None and self.output_mode == "int" else 0

    def _token_start_index(self):
        return self._oov_start_index() + self.num_oov_indices

    def vocabulary_size(self):
        """The number of indices, special ones (mask, OOV) included."""
        return self._token_start_index() + len(self._tokens)

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order; with include_special_tokens, index i of the list
        is the token that maps to i."""
        specials = ([self.mask_token] * self._oov_start_index()
                    + [self.oov_token] * self.num_oov_indices)
        vocabulary = specials + list(self._tokens)
        if not include_special_tokens:
            vocabulary = vocabulary[self._token_start_index():]
        return vocabulary

    def set_vocabulary(self, vocabulary, idf_weights=None):
        """Replaces the vocabulary: a list/tuple/1-D array of tokens, or the path of a text
        file with one token per line. idf_weights: one per token (tf_idf only)."""
        if self.output_mode == "tf_idf":
            if idf_weights is None:
                raise ValueError("`idf_weights` must be set if output_mode is 'tf_idf'.")
        elif idf_weights is not None:
            raise ValueError(
                "`idf_weights` should only be set if output_mode is `'tf_idf'`. Received: "
                f"output_mode={self.output_mode} and idf_weights={idf_weights}"
            )
        if isinstance(vocabulary, str):
            if self.output_mode == "tf_idf":
                raise ValueError(
                    "output_mode `'tf_idf'` does not support loading a vocabulary from file."
                )
            vocabulary = self._read_vocabulary_file(vocabulary)
        vocabulary = list(self._tokens_array(np.asarray(vocabulary).reshape(-1)
                                             if len(vocabulary) else
                                             np.asarray(vocabulary), "vocabulary"))
        if not vocabulary:
            raise ValueError(f"Cannot set an empty vocabulary. Received: vocabulary={vocabulary}")
        token_start = self._token_start_index()
        specials = ([self.mask_token] * self._oov_start_index()
                    + [self.oov_token] * self.num_oov_indices)
        found_specials = vocabulary[:token_start] == specials
        tokens = vocabulary[token_start:] if found_specials else vocabulary
        repeated = [t for t, c in collections.Counter(tokens).items() if c > 1]
        if repeated:
            raise ValueError(
                "The passed vocabulary has at least one repeated term. Please uniquify your "
                f"dataset. The repeated terms are: {repeated}"
            )
        for token, word in ((self.mask_token, "mask"), (self.oov_token, "OOV")):
            if token is None or token not in tokens or (word == "OOV" and not self.invert):
                continue
            raise ValueError(
                f"Found reserved {word} token at unexpected location in `vocabulary`. Note "
                "that passed `vocabulary` does not need to include the OOV and mask tokens. "
                "Either remove all mask and OOV tokens, or include them only at the start "
                f"of the vocabulary in precisely this order: {specials}. Received: "
                f"{word.lower() if word == 'mask' else 'oov'}_token={token} at vocabulary "
                f"index {vocabulary.index(token)}"
            )
        new_size = token_start + len(tokens)
        if self.max_tokens is not None and new_size > self.max_tokens:
            raise ValueError(
                "Attempted to set a vocabulary larger than the maximum vocab size. Received "
                f"vocabulary size is {new_size}; `max_tokens` is {self.max_tokens}."
            )
        weights = None
        if self.output_mode == "tf_idf":
            idf = np.asarray(idf_weights, dtype=np.float64)
            if idf.ndim != 1:
                raise ValueError(
                    f"TF-IDF data must be a 1-index array. Received: type(idf_weights)="
                    f"{type(idf_weights)}"
                )
            if len(vocabulary) != len(idf):
                raise ValueError(
                    "`idf_weights` must be the same length as vocabulary. len(idf_weights) "
                    f"is {len(idf)}; len(vocabulary) is {len(vocabulary)}"
                )
            # Special tokens have no document frequency: they get the mean weight.
            front = 0 if found_specials else token_start
            front_value = float(np.average(idf)) if front else 0.0
            back = (self.max_tokens - front - len(idf)) if self.pad_to_max_tokens else 0
            weights = np.pad(idf, (front, back), constant_values=(front_value, 0.0))
        self._set_tokens(tokens)
        if weights is not None:
            self.idf_weights = weights.astype(np.float32)

    def _set_tokens(self, tokens):
        start = self._token_start_index()
        self._tokens = list(tokens)
        self._index = {token: start + i for i, token in enumerate(self._tokens)}
        self._frozen_vocab_size = self.vocabulary_size()

    def _read_vocabulary_file(self, path):
        """A vocabulary file the user named: one token per line, read as text only."""
        if not os.path.isfile(path):
            raise ValueError(f"Vocabulary file {path} does not exist.")
        size = os.path.getsize(path)
        if size > MAX_VOCABULARY_FILE_BYTES:
            raise ValueError(
                f"Vocabulary file {path} is {size} bytes; vocabularies larger than "
                f"{MAX_VOCABULARY_FILE_BYTES} bytes are refused."
            )
        with open(path, encoding="utf-8") as f:
            text = f.read(MAX_VOCABULARY_FILE_BYTES + 1)
        lines = text.split("\n")
        if lines and lines[-1] == "":
            lines.pop()
        return self._parse_vocabulary_lines(lines, path)

    def _parse_vocabulary_lines(self, lines, source):
        return lines

    # ----------------------------------------------------------------- adapt

    def _reset_counts(self):
        self._token_counts = collections.Counter()
        self._document_counts = collections.Counter()
        self._num_documents = 0

    def adapt(self, data, steps=None):
        """Learns the vocabulary from `data`: an array or list of tokens (one batch), or an
        iterable of batches. Tokens are ordered by count, ties by the token, both from high
        to low; the first `max_tokens` (minus the special indices) are kept."""
        if self._has_input_vocabulary:
            raise ValueError(
                f"Cannot adapt layer '{self.name}' after setting a static vocabulary via "
                "`vocabulary` argument or `set_vocabulary()` method."
            )
        if isinstance(data, (list, tuple, np.ndarray)):
            batches = [self._as_adapt_batch(data, single=True)]
        elif hasattr(data, "__iter__"):
            batches = (self._as_adapt_batch(batch) for i, batch in enumerate(data)
                       if steps is None or i < steps)
        else:
            raise TypeError(
                "`adapt` takes an array, a list or an iterable of batches. Received: data "
                f"of type {type(data).__name__}"
            )
        counts = collections.Counter()
        documents = collections.Counter()
        num_documents = 0
        for batch in batches:
            tokens, token_counts = np.unique(batch.ravel(), return_counts=True)
            counts.update(dict(zip(tokens.tolist(), token_counts.tolist())))
            if self.output_mode == "tf_idf":
                num_documents += self._count_documents(batch, documents)
        self._token_counts, self._document_counts = counts, documents
        self._num_documents = num_documents
        self._finalize()

    def _as_adapt_batch(self, batch, single=False):
        if isinstance(batch, tuple) and not single:
            batch = batch[0]
        batch = self._tokens_array(np.asarray(batch), "data")
        if single and batch.ndim == 1:
            batch = batch[:, None]
        if batch.ndim <= 1:                     # one document
            batch = batch.reshape(1, -1)
        return batch

    @staticmethod
    def _count_documents(batch, documents):
        """Adds to `documents` how many rows of batch (docs, ...) hold each token."""
        rows = batch.reshape(batch.shape[0], -1)
        tokens, codes = np.unique(rows.ravel(), return_inverse=True)
        pairs = np.unique(np.arange(rows.shape[0]).repeat(rows.shape[1]) * len(tokens)
                          + codes.ravel())
        per_token = np.bincount(pairs % max(len(tokens), 1), minlength=len(tokens))
        documents.update(dict(zip(tokens.tolist(), per_token.tolist())))
        return rows.shape[0]

    def _finalize(self):
        counts = self._token_counts
        if not counts:
            self._frozen_vocab_size = self.vocabulary_size()
            return
        counts.pop(self.mask_token, None)
        counts.pop(self.oov_token, None)
        tokens = np.array(list(counts.keys()), dtype=object if self.vocabulary_dtype ==
                          "string" else np.int64)
        frequencies = np.array(list(counts.values()), dtype=np.int64)
        # Keras's deterministic order: by count, ties by the token itself, both descending.
        order = np.lexsort((tokens, frequencies))[::-1]
        if self.max_tokens:
            order = order[:self.max_tokens - self._token_start_index()]
        kept = tokens[order].tolist()
        self._set_tokens(kept)
        if self.output_mode == "tf_idf":
            document_counts = np.array([self._document_counts[t] for t in kept], np.float64)
            idf = np.log(1 + self._num_documents / (1 + document_counts)).astype(np.float32)
            mean = np.float32(idf.mean()) if len(idf) else np.float32(0)
            back = (self.max_tokens - len(idf) - self._token_start_index()
                    if self.pad_to_max_tokens else 0)
            self.idf_weights = np.concatenate([
                np.full(self._token_start_index(), mean, np.float32), idf,
                np.zeros(max(back, 0), np.float32)])
        self._reset_counts()

    # ------------------------------------------------------------------ maths

    def compute_output_shape(self, input_shape):
        if self.output_mode == "int":
            return tuple(input_shape)
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        input_shape = tuple(input_shape)
        if self.output_mode == "one_hot":
            if len(input_shape) > 1 and input_shape[-1] == 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def _output_dtype(self, index):
        """The dtype of a symbolic output (Keras's compute_output_spec)."""
        if self.invert:
            return "string" if self.vocabulary_dtype == "string" else "int64"
        return "int64" if self.output_mode == "int" else "float32"

    def forward(self, x, training=False):
        """x: (...) tokens (indices with invert=True). Returns (out, cache); see the class
        docstring for the output shapes."""
        if self.output_mode != "int" and not self.pad_to_max_tokens and \
                self._frozen_vocab_size is None:
            raise RuntimeError(
                f"When using `output_mode={self.output_mode}` and `pad_to_max_tokens=False`, "
                "you must set the layer's vocabulary before calling it. Either pass a "
                "`vocabulary` argument to the layer, or call `adapt` with some sample data."
            )
        x = np.asarray(x)
        if self.invert:
            return self._invert_lookup(x), x.shape
        indices = self._lookup(self._tokens_array(x))
        if self.output_mode == "int":
            return indices, x.shape
        depth = self.max_tokens if self.pad_to_max_tokens else self._frozen_vocab_size
        mode = "count" if self.output_mode == "tf_idf" else self.output_mode
        dtype = np.float32 if self.output_mode == "tf_idf" else np.int64
        out = encode_categorical(indices, mode, depth, dtype, drop_negative=True)
        if self.output_mode == "tf_idf":
            out = out * self.idf_weights
        return out, x.shape

    def _lookup(self, tokens):
        """tokens: (...) array of tokens. Returns int64 indices of the same shape; a mask
        token gives 0 in int mode and -1 (dropped by the encodings) otherwise."""
        if tokens.size == 0:
            return np.zeros(tokens.shape, np.int64)
        uniques, inverse = np.unique(tokens.ravel(), return_inverse=True)
        found = np.array([self._index.get(t, -1) for t in uniques.tolist()], np.int64)
        unknown = found < 0
        if self.mask_token is not None:
            is_mask = uniques == self.mask_token
            unknown &= ~is_mask
            found[is_mask] = 0 if self.output_mode == "int" else -1
        if unknown.any():
            if self.num_oov_indices == 0:
                raise ValueError(
                    "When `num_oov_indices=0` all inputs should be in vocabulary, found OOV "
                    f"values {uniques[unknown].tolist()}, consider setting "
                    "`num_oov_indices=1`."
                )
            found[unknown] = self._oov_start_index() + self._oov_bucket(uniques[unknown])
        return found[inverse.ravel()].reshape(tokens.shape)

    def _oov_bucket(self, unknown):
        """OOV bucket in [0, num_oov_indices) of each unknown token, as Keras picks it."""
        n = self.num_oov_indices
        if n == 1:
            return np.zeros(len(unknown), np.int64)
        if self.vocabulary_dtype != "string" and self.oov_method != "farmhash":
            return np.mod(unknown.astype(np.int64), n)
        return hash_buckets(unknown, n, key=self.salt)

    def _invert_lookup(self, x):
        """x: (...) int indices. Returns the tokens, the OOV token for unknown indices."""
        if x.dtype.kind not in "iu":
            raise ValueError(
                f"An inverted {type(self).__name__} expects integer indices. Received: "
                f"inputs with dtype {x.dtype}"
            )
        table = np.array(self.get_vocabulary(), dtype=object)
        start = self._token_start_index()
        known = (x >= start) & (x < len(table))
        out = np.full(x.shape, self.oov_token, dtype=object)
        out[known] = table[x[known]]
        if self.mask_token is not None:
            out[x == 0] = self.mask_token
        return self._invert_output(out)

    def _invert_output(self, out):
        return out

    # ------------------------------------------------------------ saving
    # A vocabulary given as a list is in the config; a learned one (or one read from a
    # file) is saved as Keras saves it: assets/<layer path>/vocabulary.txt, one token a
    # line, special tokens first. Loading reads that file as data.

    def asset_names(self):
        return ["vocabulary.txt"] if self.input_vocabulary is None else []

    def asset_files(self):
        if self.output_mode == "tf_idf":
            # Keras stores the idf weights as a named array (vars/idf_weights) that the
            # minikeras weights file does not write yet: refuse rather than save a file
            # neither engine could load.
            raise ValueError(
                f"Saving {type(self).__name__} {self.name!r} with output_mode='tf_idf' (its "
                "idf weights) is not supported by minikeras yet."
            )
        if self.input_vocabulary is not None:
            return {}
        return {"vocabulary.txt": "\n".join(str(t) for t in self.get_vocabulary())}

    def load_asset_files(self, files, source):
        if self.output_mode == "tf_idf":
            raise ValueError(
                f"{source}: loading an adapted {type(self).__name__} with "
                "output_mode='tf_idf' (its idf weights) is not supported by minikeras yet."
            )
        lines = files["vocabulary.txt"].splitlines()
        while lines and lines[-1] == "":
            lines.pop()
        self.set_vocabulary(self._parse_vocabulary_lines(lines, source))

    # --------------------------------------------------------- configuration

    def get_config(self):
        config = super().get_config()
        config.update({
            "invert": self.invert,
            "max_tokens": self.max_tokens,
            "num_oov_indices": self.num_oov_indices,
            "oov_token": self.oov_token,
            "mask_token": self.mask_token,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "pad_to_max_tokens": self.pad_to_max_tokens,
            "vocabulary_dtype": self.vocabulary_dtype,
            "idf_weights": _listify(self.input_idf_weights),
            "vocabulary": _listify(self.input_vocabulary),
            "vocabulary_size": self._frozen_vocab_size,
            "oov_method": self.oov_method,
            "salt": self.salt,
        })
        return config


def _listify(value):
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, tuple):
        return list(value)
    return value

