"""`TextVectorization`: strings to token indices or token vectors, in four steps:

    standardize   "lower_and_strip_punctuation": ASCII lower case, then Keras's punctuation
                  characters removed (the regex below); "lower"; "strip_punctuation"; None;
                  or a callable on the array of strings
    split         "whitespace" (ASCII whitespace, as tf.strings.split), "character"
                  (Unicode code points), None, or a callable
    ngrams        n-grams joined by one space, all widths 1..n (or the given tuple), width
                  by width
    lookup        a StringLookup with mask token "" (index 0 pads) and one OOV index

output_mode "int" gives (batch, length) indices padded with 0 (to the longest text, or
cut/padded to output_sequence_length); the other modes give (batch, vocabulary) vectors.
"""

import re

import numpy as np

from minikeras.layers.base_preprocessing import (
    OUTPUT_MODES,
    PreprocessingLayer,
    check_output_mode,
)
from minikeras.layers.string_lookup import StringLookup, as_text_array

# Keras's punctuation class: ! " # $ % & ( ) * + , - . / : ; < = > ? @ [ \ ] ^ _ ` { | } ~ '
PUNCTUATION = re.compile(r'[!"#$%&()\*\+,\-\./:;<=>?@\[\\\]^_`{|}~\']')
# The class matches single ASCII characters, so removing its matches is deleting those
# characters: one str.translate per text does it (with the ASCII lower-casing, which is all
# tf.strings.lower changes).
_PUNCTUATION_CHARS = "".join(chr(c) for c in range(128) if PUNCTUATION.match(chr(c)))
_LOWER = {ord(c): ord(c.lower()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"}
_STRIP = dict.fromkeys(map(ord, _PUNCTUATION_CHARS))
STANDARDIZE_TABLES = {
    "lower": _LOWER,
    "strip_punctuation": _STRIP,
    "lower_and_strip_punctuation": {**_LOWER, **_STRIP},
}
# tf.strings.split's whitespace: the six ASCII ones. Python's str.split() also splits on
# \x1c-\x1f and non-ASCII spaces, so it is used only for texts free of those.
_ASCII_WHITESPACE = re.compile(r"[ \t\n\r\x0b\x0c]+")
_PYTHON_ONLY_SPACES = re.compile(r"[\x1c-\x1f]")


def split_whitespace(text):
    """text's tokens between runs of ASCII whitespace (tf.strings.split's rule)."""
    if text.isascii() and not _PYTHON_ONLY_SPACES.search(text):
        return text.split()
    return [word for word in _ASCII_WHITESPACE.split(text) if word]


class TextVectorization(PreprocessingLayer):
    """Args (Keras's): max_tokens, standardize, split, ngrams, output_mode ("int",
    "multi_hot", "count", "tf_idf", "one_hot"), output_sequence_length,
    pad_to_max_tokens, vocabulary, idf_weights, encoding.

    Shapes: x (batch,) or (batch, 1) strings -> int: (batch, length) int64;
    multi_hot / count / tf_idf: (batch, vocabulary_size) (or max_tokens when padded).
    """

    def __init__(self, max_tokens=None, standardize="lower_and_strip_punctuation",
                 split="whitespace", ngrams=None, output_mode="int",
                 output_sequence_length=None, pad_to_max_tokens=False, vocabulary=None,
                 idf_weights=None, sparse=False, ragged=False, encoding="utf-8", name=None,
                 vocabulary_size=None, has_input_vocabulary=None, **kwargs):
        for arg, value, allowed in (
                ("standardize", standardize,
                 ("lower_and_strip_punctuation", "lower", "strip_punctuation")),
                ("split", split, ("whitespace", "character"))):
            if value is not None and not callable(value) and value not in allowed:
                raise ValueError(
                    f"Unknown value for `{arg}` argument of TextVectorization. Allowed values "
                    f"are: {allowed}. Received: {arg}={value}"
                )
        output_mode = check_output_mode(output_mode, OUTPUT_MODES, "TextVectorization")
        if not (ngrams is None or isinstance(ngrams, int) or isinstance(ngrams, tuple)
                and all(isinstance(n, int) for n in ngrams)):
            raise ValueError(
                f"`ngrams` must be None, an integer, or a tuple of integers. Received: "
                f"ngrams={ngrams}"
            )
        if output_mode == "int" and not (output_sequence_length is None
                                         or isinstance(output_sequence_length, int)):
            raise ValueError(
                "`output_sequence_length` must be either None or an integer when "
                f"`output_mode` is 'int'. Received: output_sequence_length="
                f"{output_sequence_length}"
            )
        if output_mode != "int" and output_sequence_length is not None:
            raise ValueError(
                "`output_sequence_length` must not be set if `output_mode` is not 'int'. "
                f"Received output_sequence_length={output_sequence_length}."
            )
        if ragged:
            raise ValueError(
                "`ragged=True` needs TensorFlow's ragged tensors, which minikeras does not "
                f"have. Received: ragged={ragged}"
            )
        if has_input_vocabulary is None:      # Keras's config-only arguments
            has_input_vocabulary = vocabulary is not None
        super().__init__(name=name, **kwargs)
        self._max_tokens = max_tokens
        self._standardize = standardize
        self._split = split
        self._ngrams_arg = ngrams
        self._ngrams = tuple(range(1, ngrams + 1)) if isinstance(ngrams, int) else ngrams
        self._output_mode = output_mode
        self._output_sequence_length = output_sequence_length
        self._encoding = encoding
        self._ragged = ragged
        self._lookup_layer = StringLookup(
            max_tokens=max_tokens, vocabulary=vocabulary, idf_weights=idf_weights,
            pad_to_max_tokens=pad_to_max_tokens, mask_token="", output_mode=output_mode,
            sparse=sparse, has_input_vocabulary=has_input_vocabulary, encoding=encoding,
            vocabulary_size=vocabulary_size)

    # ------------------------------------------------------------ the steps

    def _standardize_texts(self, texts):
        """texts: str array. Returns the standardized texts."""
        table = STANDARDIZE_TABLES.get(self._standardize) if isinstance(
            self._standardize, str) else None
        if table is not None:
            texts = np.array([t.translate(table) for t in texts.ravel().tolist()],
                             dtype=str).reshape(texts.shape)
        if callable(self._standardize):
            texts = as_text_array(self._standardize(texts), "the standardize result",
                                  "TextVectorization", self._encoding)
        return texts

    def _tokenize(self, texts):
        """texts: (batch,) str. Returns a list (one per text) of token lists, or the
        texts themselves (batch, ...) when split is None."""
        if self._split is None:
            return texts
        if texts.ndim > 1:
            if texts.shape[-1] != 1:
                raise ValueError(
                    "When using `TextVectorization` to tokenize strings, the input rank must "
                    "be 1 or the last shape dimension must be 1. Received: "
                    f"inputs.shape={texts.shape} with rank={texts.ndim}"
                )
            texts = texts[..., 0]
        if self._split == "whitespace":
            rows = [split_whitespace(t) for t in texts.tolist()]
        elif self._split == "character":
            rows = [list(t) for t in texts.tolist()]
        else:
            rows = [list(as_text_array(r, "the split result", "TextVectorization"))
                    for r in self._split(texts)]
        if self._ngrams is not None:
            rows = [self._ngram_row(r) for r in rows]
        return rows

    def _ngram_row(self, tokens):
        out = []
        for width in self._ngrams:
            out.extend(" ".join(tokens[i:i + width]) for i in range(len(tokens) - width + 1))
        return out

    def _preprocess(self, x):
        texts = self._standardize_texts(as_text_array(x, "inputs", "TextVectorization",
                                                      self._encoding))
        return self._tokenize(texts)

    @staticmethod
    def _pad(rows, length=None):
        """rows: list of token lists -> (batch, length) str array, padded with "" (the
        mask token, index 0) and cut to `length` when given."""
        width = max((len(r) for r in rows), default=0) if length is None else length
        padded = [row[:width] + [""] * (width - len(row[:width])) for row in rows]
        return np.array(padded, dtype=str).reshape(len(rows), width)

    # ----------------------------------------------------------------- adapt

    def adapt(self, data, batch_size=None, steps=None):
        """Learns the vocabulary from texts: an array or list (one batch) or an iterable of
        batches, each standardized and split as in a call."""
        if isinstance(data, (list, tuple, np.ndarray)):
            batches = [data]
        elif hasattr(data, "__iter__"):
            batches = (b for i, b in enumerate(data) if steps is None or i < steps)
        else:
            raise TypeError(
                "`adapt` takes an array, a list or an iterable of batches. Received: data "
                f"of type {type(data).__name__}"
            )
        token_batches = []
        for batch in batches:
            texts = np.asarray(batch[0] if isinstance(batch, tuple) else batch)
            rows = self._preprocess(texts)
            token_batches.append(rows if isinstance(rows, np.ndarray) else self._pad(rows))
        if not token_batches:
            token_batches = [np.zeros((0, 1), dtype=str)]
        # Padding "" is the mask token: the lookup's adapt drops it from the counts.
        self._lookup_layer.adapt(iter(token_batches))

    def get_vocabulary(self, include_special_tokens=True):
        """The vocabulary in index order ("" then "[UNK]" first in int mode)."""
        return self._lookup_layer.get_vocabulary(include_special_tokens)

    def vocabulary_size(self):
        return self._lookup_layer.vocabulary_size()

    def set_vocabulary(self, vocabulary, idf_weights=None):
        self._lookup_layer.set_vocabulary(vocabulary, idf_weights=idf_weights)

    # ------------------------------------------------------------------ maths

    def compute_output_shape(self, input_shape):
        if self._output_mode == "int":
            return (input_shape[0], self._output_sequence_length)
        if self._split is None:
            if len(input_shape) <= 1:
                input_shape = tuple(input_shape) + (1,)
        else:
            input_shape = tuple(input_shape) + (None,)
        return self._lookup_layer.compute_output_shape(input_shape)

    def _output_dtype(self, index):
        return "int64" if self._output_mode == "int" else "float32"

    def forward(self, x, training=False):
        """x: (batch,) or (batch, 1) strings. Returns (out, cache)."""
        x = np.asarray(x)
        rows = self._preprocess(x)
        if isinstance(rows, np.ndarray):      # split=None: one token per text
            tokens = rows
            if self._output_sequence_length is not None and self._output_mode == "int":
                tokens = self._pad([list(r) for r in tokens.reshape(len(tokens), -1)],
                                   self._output_sequence_length)
        else:
            length = self._output_sequence_length if self._output_mode == "int" else None
            tokens = self._pad(rows, length)
        return self._lookup_layer.forward(tokens)[0], x.shape

    # ------------------------------------------------------------ saving
    # Keras writes the vocabulary twice: for this layer and for its inner lookup layer.

    def asset_names(self):
        return ["vocabulary.txt"] if self._lookup_layer.asset_names() else []

    def asset_files(self):
        files = self._lookup_layer.asset_files()
        return {**files, **{f"_lookup_layer/{k}": v for k, v in files.items()}}

    def load_asset_files(self, files, source):
        self._lookup_layer.load_asset_files(files, source)

    # --------------------------------------------------------- configuration

    def get_config(self):
        config = super().get_config()
        lookup = self._lookup_layer
        config.update({
            "max_tokens": lookup.max_tokens,
            "standardize": self._standardize,
            "split": self._split,
            "ngrams": self._ngrams_arg,
            "output_mode": self._output_mode,
            "output_sequence_length": self._output_sequence_length,
            "pad_to_max_tokens": lookup.pad_to_max_tokens,
            "sparse": lookup.sparse,
            "ragged": self._ragged,
            "vocabulary": lookup.get_config()["vocabulary"],
            "idf_weights": lookup.get_config()["idf_weights"],
            "encoding": self._encoding,
            "vocabulary_size": self.vocabulary_size(),
        })
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        for key in ("standardize", "split"):
            if config.get(key) is not None and not isinstance(config[key], str):
                raise ValueError(
                    f"A saved TextVectorization's `{key}` must be None or one of Keras's "
                    f"names; a saved function is not loaded. Received: {key}={config[key]!r}"
                )
        if isinstance(config.get("ngrams"), list):
            config["ngrams"] = tuple(config["ngrams"])
        return cls(**config)
