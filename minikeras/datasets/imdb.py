"""`keras.datasets.imdb`: 50,000 movie reviews as word-id sequences, from Keras's cache.

Reads `imdb.npz` (and `imdb_word_index.json`) from Keras's cache folder (see
minikeras/datasets/_files.py); nothing is downloaded. The reviews are ragged sequences, which
the file stores as NumPy object arrays (a pickle): minikeras reads them with its own
restricted reader, never with `pickle`.
"""

import os

import numpy as np

from minikeras.datasets import _files, _word_sequences

_KERAS_CALL = "keras.datasets.imdb.load_data()"


def load_data(path="imdb.npz", num_words=None, skip_top=0, maxlen=None, seed=113,
              start_char=1, oov_char=2, index_from=3, **kwargs):
    """Loads the IMDB sentiment data, shuffled and re-indexed as Keras does.

    Args:
        path: file name inside `<keras home>/datasets/`.
        num_words: keep the `num_words` most frequent words (ids below num_words); rarer
            words become `oov_char`. None keeps them all.
        skip_top: also turn the `skip_top` most frequent words into `oov_char`.
        maxlen: drop reviews of `maxlen` words or more (None keeps all).
        seed: the shuffle seed (NumPy's legacy RandomState, so the order is Keras's).
        start_char: id put at the start of every review (None for none).
        oov_char: id of the words cut out by num_words / skip_top (None drops them).
        index_from: added to every stored word id (ids below it are reserved).
        **kwargs: accepted and ignored, as in Keras 3.

    Returns:
        ((x_train, y_train), (x_test, y_test)): x are object arrays of lists of ints, y the
        0/1 labels.
    """
    location = os.path.join(_files.datasets_dir(), _files.check_file_name(path, "imdb.npz"))
    _files.require_file(location, "IMDB file", _KERAS_CALL)
    arrays = _files.load_npz(location, ("x_train", "y_train", "x_test", "y_test"))
    rng = np.random.RandomState(seed)      # one generator for both shuffles, as Keras
    x_train, labels_train = _shuffle(rng, arrays["x_train"], arrays["y_train"])
    x_test, labels_test = _shuffle(rng, arrays["x_test"], arrays["y_test"])

    x_train = _word_sequences.shift_and_mark(x_train, start_char, index_from)
    x_test = _word_sequences.shift_and_mark(x_test, start_char, index_from)
    if maxlen:
        x_train, labels_train = _word_sequences.drop_long(maxlen, x_train, labels_train)
        x_test, labels_test = _word_sequences.drop_long(maxlen, x_test, labels_test)
        if not x_train or not x_test:
            raise ValueError(
                f"After filtering for sequences shorter than maxlen={maxlen}, no sequence "
                "was kept. Increase maxlen."
            )
    xs = _word_sequences.limit_vocabulary(x_train + x_test, num_words, skip_top, oov_char)
    labels = np.concatenate([labels_train, labels_test])
    split = len(x_train)
    return ((_word_sequences.as_object_array(xs[:split]), labels[:split]),
            (_word_sequences.as_object_array(xs[split:]), labels[split:]))


def _shuffle(rng, x, y):
    indices = np.arange(len(x))
    rng.shuffle(indices)
    return x[indices], y[indices]


def get_word_index(path="imdb_word_index.json"):
    """The word -> id dictionary (ids before `index_from` is added)."""
    return _word_sequences.word_index(path, "imdb_word_index.json",
                                      "keras.datasets.imdb.get_word_index()")


__all__ = ["get_word_index", "load_data"]
