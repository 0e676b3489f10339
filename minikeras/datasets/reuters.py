"""`keras.datasets.reuters`: 11,228 newswires in 46 topics, as word-id sequences.

Reads `reuters.npz` (and `reuters_word_index.json`) from Keras's cache folder (see
minikeras/datasets/_files.py); nothing is downloaded. The object arrays inside are read by
minikeras's restricted reader, never with `pickle`.
"""

import os

import numpy as np

from minikeras.datasets import _files, _word_sequences

_KERAS_CALL = "keras.datasets.reuters.load_data()"

_LABEL_NAMES = (
    "cocoa", "grain", "veg-oil", "earn", "acq", "wheat", "copper", "housing", "money-supply",
    "coffee", "sugar", "trade", "reserves", "ship", "cotton", "carcass", "crude", "nat-gas",
    "cpi", "money-fx", "interest", "gnp", "meal-feed", "alum", "oilseed", "gold", "tin",
    "strategic-metal", "livestock", "retail", "ipi", "iron-steel", "rubber", "heat", "jobs",
    "lei", "bop", "zinc", "orange", "pet-chem", "dlr", "gas", "silver", "wpi", "hog", "lead",
)


def load_data(path="reuters.npz", num_words=None, skip_top=0, maxlen=None, test_split=0.2,
              seed=113, start_char=1, oov_char=2, index_from=3):
    """Loads the Reuters topics data, shuffled, re-indexed and split as Keras does.

    Args: as imdb.load_data, plus
        test_split: the fraction of the (shuffled, filtered) newswires put in the test set.

    Returns:
        ((x_train, y_train), (x_test, y_test)): x are object arrays of lists of ints, y the
        topic ids (0..45).
    """
    location = os.path.join(_files.datasets_dir(), _files.check_file_name(path, "reuters.npz"))
    _files.require_file(location, "Reuters file", _KERAS_CALL)
    arrays = _files.load_npz(location, ("x", "y"))
    xs, labels = _files.shuffled(seed, arrays["x"], arrays["y"])
    if start_char is not None or index_from:
        xs = _word_sequences.shift_and_mark(xs, start_char, index_from)
    if maxlen:
        xs, labels = _word_sequences.drop_long(maxlen, xs, labels)
    xs = _word_sequences.limit_vocabulary(xs, num_words, skip_top, oov_char)
    split = int(len(xs) * (1 - test_split))
    return ((_word_sequences.as_object_array(xs[:split]), np.array(labels[:split])),
            (_word_sequences.as_object_array(xs[split:]), np.array(labels[split:])))


def get_word_index(path="reuters_word_index.json"):
    """The word -> id dictionary (ids before `index_from` is added)."""
    return _word_sequences.word_index(path, "reuters_word_index.json",
                                      "keras.datasets.reuters.get_word_index()")


def get_label_names():
    """The 46 topic names, indexed by label."""
    return _LABEL_NAMES


__all__ = ["get_label_names", "get_word_index", "load_data"]
