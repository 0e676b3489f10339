"""The word-id processing IMDB and Reuters share (Keras's `num_words`, `skip_top`, ...)."""

import json
import os

import numpy as np

from minikeras.datasets import _files


def shift_and_mark(sequences, start_char, index_from):
    """Adds `index_from` to every word id and puts `start_char` first (when not None)."""
    if start_char is not None:
        return [[start_char] + [w + index_from for w in x] for x in sequences]
    return [[w + index_from for w in x] for x in sequences]


def drop_long(maxlen, sequences, labels):
    """Keeps the sequences strictly shorter than maxlen, with their labels."""
    kept = [(x, y) for x, y in zip(sequences, labels, strict=True) if len(x) < maxlen]
    return [x for x, _ in kept], [y for _, y in kept]


def limit_vocabulary(sequences, num_words, skip_top, oov_char):
    """Keeps ids in [skip_top, num_words); others become oov_char, or go when it is None.

    When num_words is None (or 0) it is the largest id present, which is then itself out of
    range: Keras's loaders do exactly this, so minikeras does too.
    """
    if not num_words:
        num_words = max(max(x) for x in sequences)
    if oov_char is not None:
        return [[w if skip_top <= w < num_words else oov_char for w in x] for x in sequences]
    return [[w for w in x if skip_top <= w < num_words] for x in sequences]


def as_object_array(sequences):
    """np.array(list of lists, dtype=object), as Keras returns them."""
    return np.array(sequences, dtype="object")


def word_index(path, example, keras_call):
    """The JSON word -> id dictionary from the cache."""
    location = os.path.join(_files.datasets_dir(), _files.check_file_name(path, example))
    _files.require_file(location, "Word index file", keras_call)
    with open(location, encoding="utf-8") as f:
        index = json.load(f)
    if not isinstance(index, dict):
        raise ValueError(f"{location!r} is not a word index: it holds a "
                         f"{type(index).__name__}, not a JSON object")
    return index


