"""pad_sequences and img_to_array: values, dtypes and errors (Keras's own results are compared
in compat_tests/test_preprocessing_compat.py)."""

import numpy as np
import pytest

import minikeras
from minikeras.preprocessing.sequence import pad_sequences


def test_pads_and_truncates_on_either_side():
    seqs = [[1], [2, 3], [4, 5, 6]]
    np.testing.assert_array_equal(pad_sequences(seqs), [[0, 0, 1], [0, 2, 3], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, padding="post", value=-1),
                                  [[1, -1, -1], [2, 3, -1], [4, 5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2), [[0, 1], [2, 3], [5, 6]])
    np.testing.assert_array_equal(pad_sequences(seqs, maxlen=2, truncating="post"),
                                  [[0, 1], [2, 3], [4, 5]])
    assert pad_sequences(seqs).dtype == np.int32


def test_steps_may_be_vectors_and_sequences_empty():
    out = pad_sequences([[], [[1.5, 2.0]], np.ones((3, 2))], dtype="float32", maxlen=2)
    assert out.shape == (3, 2, 2) and out.dtype == np.float32
    np.testing.assert_array_equal(out[0], 0)
    np.testing.assert_array_equal(out[1], [[0, 0], [1.5, 2.0]])


def test_the_same_function_under_both_keras_paths():
    assert minikeras.utils.pad_sequences is pad_sequences
    assert minikeras.preprocessing.sequence.pad_sequences is pad_sequences


@pytest.mark.parametrize("kwargs,match", [
    (dict(sequences=5), "must be iterable"),
    (dict(sequences=[[1], 2]), "Found non-iterable: 2"),
    (dict(sequences=[[1]], padding="middle"), "padding='middle'"),
    (dict(sequences=[[1]], truncating="both"), "truncating='both'"),
    (dict(sequences=[["a"]], value="x"), "dtype=object"),
    (dict(sequences=[[[1, 2]], [[1, 2, 3]]]), "position 1"),
])
def test_bad_input(kwargs, match):
    with pytest.raises(ValueError, match=match):
        pad_sequences(**kwargs)


def test_img_to_array():
    from minikeras.preprocessing.image import img_to_array

    grey = np.arange(6).reshape(2, 3)
    assert img_to_array(grey).shape == (2, 3, 1)
    assert img_to_array(grey, data_format="channels_first").shape == (1, 2, 3)
    rgb = np.zeros((2, 3, 3), dtype=np.uint8)
    out = img_to_array(rgb, data_format="channels_first", dtype="float64")
    assert out.shape == (3, 2, 3) and out.dtype == np.float64
    assert img_to_array(rgb).dtype == np.float32
    with pytest.raises(ValueError, match="Unsupported image shape"):
        img_to_array(np.zeros(4))
