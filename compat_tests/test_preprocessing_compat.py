"""keras.utils.pad_sequences / keras.preprocessing against Keras's own, on the same input."""

import itertools

import keras
import numpy as np
import pytest

import minikeras

SEQUENCES = [[5, 1, 7], [], [2], [9, 8, 7, 6, 5, 4], [3, 3]]


@pytest.mark.parametrize("maxlen,padding,truncating,value,dtype", list(itertools.product(
    [None, 1, 4, 8], ["pre", "post"], ["pre", "post"], [0.0, -1], ["int32", "float32"])))
def test_pad_sequences_matches_keras(maxlen, padding, truncating, value, dtype):
    kwargs = dict(maxlen=maxlen, padding=padding, truncating=truncating, value=value,
                  dtype=dtype)
    expected = keras.utils.pad_sequences(SEQUENCES, **kwargs)
    for ours in (minikeras.utils.pad_sequences, minikeras.preprocessing.sequence.pad_sequences):
        got = ours(SEQUENCES, **kwargs)
        assert got.dtype == expected.dtype
        np.testing.assert_array_equal(got, expected)


def test_pad_sequences_of_vectors_and_strings_match_keras():
    vectors = [np.arange(6.0).reshape(3, 2), [], [[1.0, 2.0]]]
    np.testing.assert_array_equal(minikeras.utils.pad_sequences(vectors, dtype="float32"),
                                  keras.utils.pad_sequences(vectors, dtype="float32"))
    words = [["a", "bb"], ["ccc"]]
    np.testing.assert_array_equal(
        minikeras.utils.pad_sequences(words, dtype=object, value="<pad>"),
        keras.utils.pad_sequences(words, dtype=object, value="<pad>"))


@pytest.mark.parametrize("bad", [dict(sequences=3), dict(sequences=[[1], 4]),
                                 dict(sequences=[["a"]], value="x"),
                                 dict(sequences=[[[1, 2]], [[1, 2, 3]]])])
def test_pad_sequences_errors_like_keras(bad):
    with pytest.raises(ValueError) as theirs:
        keras.utils.pad_sequences(**bad)
    with pytest.raises(ValueError) as ours:
        minikeras.utils.pad_sequences(**bad)
    # Keras's message leads ours (ours may add the value received)
    assert str(ours.value).split(" Received")[0].split(":")[0] == str(
        theirs.value).split(":")[0]


@pytest.mark.parametrize("shape", [(4, 5), (4, 5, 3), (4, 5, 1)])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_img_to_array_matches_keras(shape, data_format):
    image = np.random.default_rng(0).integers(0, 256, shape).astype(np.uint8)
    expected = keras.preprocessing.image.img_to_array(image, data_format=data_format)
    got = minikeras.preprocessing.image.img_to_array(image, data_format=data_format)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)
