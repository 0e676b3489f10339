"""Conv2DTranspose, DepthwiseConv2D and SeparableConv2D against Keras: outputs over the
argument combinations, a transposed-convolution autoencoder and a separable/depthwise convnet
trained on both engines, and `.keras` archives both ways."""

import itertools

import keras
import numpy as np
import pytest

import minikeras
from minikeras.saving import saving_api

from .compare import assert_histories_close, build_pair, fit_both

TRANSPOSE_CASES = [
    {"kernel_size": k, "strides": s, "padding": p, "output_padding": op, "dilation_rate": d}
    for k, s, p, op, d in itertools.product(((3, 3), (2, 4), (1, 1)), (1, 2, (3, 2)),
                                            ("valid", "same"), (None, 0, 1), (1, 2))
    if not (s != 1 and d != 1) and not (op is not None and op >= min(np.atleast_1d(s)))
    # Keras/TF fail on an even kernel with "same" and output_padding=0 (the output does not
    # convolve back to the input size); minikeras raises a ValueError there (tests/).
    and not (p == "same" and op is not None and k == (2, 4))
]


def _copy_weights(reference, ours, shape, our_shape=None, seed=0):
    """Random weights (biases non-zero) into both layers."""
    ours.build(our_shape or shape)
    rng = np.random.default_rng(seed)
    weights = [rng.normal(size=w.shape).astype("float32") for w in ours.get_weights()]
    ours.set_weights(weights)
    reference.build(shape)
    reference.set_weights(weights)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("case", TRANSPOSE_CASES, ids=str)
def test_conv2d_transpose_matches_keras(case, data_format):
    shape = (2, 4, 5, 3) if data_format == "channels_last" else (2, 3, 4, 5)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    reference = keras.layers.Conv2DTranspose(2, data_format=data_format, **case)
    ours = minikeras.layers.Conv2DTranspose(2, data_format=data_format, **case)
    _copy_weights(reference, ours, shape)
    expected = np.asarray(reference(x))
    assert ours.compute_output_shape(shape) == expected.shape
    np.testing.assert_allclose(ours(x), expected, rtol=1e-5, atol=1e-5)


DEPTHWISE_CASES = [
    {"kernel_size": k, "strides": s, "padding": p, "depth_multiplier": m, "dilation_rate": d}
    for k, s, p, m, d in itertools.product(((3, 3), (1, 2)), (1, 2), ("valid", "same"), (1, 2),
                                           (1, 2))
    if not (s != 1 and d != 1)
]


@pytest.mark.parametrize("layer", ["DepthwiseConv2D", "SeparableConv2D"])
@pytest.mark.parametrize("case", DEPTHWISE_CASES, ids=str)
def test_depthwise_and_separable_match_keras(layer, case):
    shape = (2, 6, 5, 3)
    x = np.random.default_rng(1).normal(size=shape).astype("float32")
    extra = {"filters": 4} if layer == "SeparableConv2D" else {}
    reference = getattr(keras.layers, layer)(activation="tanh", **extra, **case)
    ours = getattr(minikeras.layers, layer)(activation="tanh", **extra, **case)
    _copy_weights(reference, ours, shape)
    assert [w.path.split("/")[-1] for w in ours.weights] == [
        w.path.split("/")[-1] for w in reference.weights]
    expected = np.asarray(reference(x))
    assert ours.compute_output_shape(shape) == expected.shape
    np.testing.assert_allclose(ours(x), expected, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layer", ["DepthwiseConv2D", "SeparableConv2D"])
def test_channels_first_matches_keras_channels_last(layer):
    """TensorFlow 2.21 on CPU adds a channels_first depthwise/separable layer's bias along the
    wrong axis when the width equals the channel count (Keras's channels_first output then
    differs from its own channels_last one); the channels_last result is the reference."""
    x = np.random.default_rng(1).normal(size=(2, 3, 6, 5)).astype("float32")
    extra = {"filters": 4} if layer == "SeparableConv2D" else {}
    case = {"kernel_size": (3, 2), "strides": 2, "padding": "same", "depth_multiplier": 2}
    reference = getattr(keras.layers, layer)(**extra, **case)
    ours = getattr(minikeras.layers, layer)(data_format="channels_first", **extra, **case)
    _copy_weights(reference, ours, (2, 6, 5, 3), our_shape=x.shape)
    expected = np.asarray(reference(x.transpose(0, 2, 3, 1))).transpose(0, 3, 1, 2)
    np.testing.assert_allclose(ours(x), expected, rtol=1e-5, atol=1e-5)


def _autoencoder(k):
    return k.Sequential([
        k.Input((8, 8, 1)),
        k.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
        k.layers.Conv2D(6, 3, strides=2, padding="same", activation="relu"),
        k.layers.Conv2DTranspose(6, 3, strides=2, padding="same", activation="relu"),
        k.layers.Conv2DTranspose(4, 2, strides=2, output_padding=0, activation="relu"),
        k.layers.Conv2DTranspose(1, 3, padding="same", activation="sigmoid"),
    ])


def _separable_convnet(k):
    return k.Sequential([
        k.Input((9, 9, 3)),
        k.layers.SeparableConv2D(6, 3, depth_multiplier=2, activation="relu"),
        k.layers.DepthwiseConv2D(3, strides=2, padding="same", activation="relu"),
        k.layers.SeparableConv2D(4, 2, dilation_rate=2, padding="same"),
        k.layers.GlobalAveragePooling2D(),
        k.layers.Dense(3, activation="softmax"),
    ])


def test_conv2d_transpose_autoencoder_trains_like_keras():
    x = np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32")
    reference, ours = build_pair(_autoencoder)
    ref, mine = fit_both(reference, ours, x, x, {"optimizer": "adam", "loss": "mse"},
                         epochs=3, batch_size=8)
    assert_histories_close(ref, mine)


def test_separable_depthwise_convnet_trains_like_keras():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(48, 9, 9, 3)).astype("float32")
    y = rng.integers(0, 3, size=48)
    reference, ours = build_pair(_separable_convnet)
    ref, mine = fit_both(reference, ours, x, y,
                         {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                          "metrics": ["accuracy"]}, epochs=3, batch_size=16,
                         validation_split=0.25)
    assert_histories_close(ref, mine)


@pytest.mark.parametrize("build", [_autoencoder, _separable_convnet], ids=["ae", "sep"])
def test_archives_cross_both_ways(tmp_path, build):
    shape = (4, 8, 8, 1) if build is _autoencoder else (4, 9, 9, 3)
    x = np.random.default_rng(2).normal(size=shape).astype("float32")
    keras.utils.set_random_seed(0)
    reference = build(keras)
    reference.save(tmp_path / "keras.keras")
    ours = saving_api.load_model(tmp_path / "keras.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in reference.layers]
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    saving_api.save_model(ours, tmp_path / "ours.keras")
    back = keras.models.load_model(tmp_path / "ours.keras")
    assert [layer.get_config() for layer in back.layers] == [
        layer.get_config() for layer in reference.layers]
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
