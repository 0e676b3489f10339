"""Cropping2D, UpSampling2D, Rescaling, Resizing and CenterCrop against Keras: outputs,
configs, and a small convolutional autoencoder trained on both engines."""

import itertools

import keras
import numpy as np
import pytest

import minikeras

from .compare import assert_histories_close, build_pair, fit_both

RNG = np.random.default_rng(0)


@pytest.mark.parametrize("make, shape", [
    (lambda k: k.layers.Cropping2D(((1, 0), (2, 1))), (2, 5, 6, 3)),
    (lambda k: k.layers.Cropping2D(1, data_format="channels_first"), (2, 3, 5, 6)),
    (lambda k: k.layers.UpSampling2D((2, 3)), (2, 3, 4, 2)),
    (lambda k: k.layers.UpSampling2D(data_format="channels_first"), (2, 2, 3, 4)),
    (lambda k: k.layers.Rescaling(1 / 127.5, offset=-1), (2, 4, 4, 3)),
    (lambda k: k.layers.Rescaling([1.0, 0.5, 2.0]), (2, 4, 4, 3)),
    (lambda k: k.layers.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 4, 2)),
    (lambda k: k.layers.UpSampling2D(interpolation="bilinear", data_format="channels_first"),
     (2, 2, 3, 4)),
], ids=["crop", "crop_cf", "up", "up_cf", "rescale", "rescale_channels", "up_bilinear",
        "up_bilinear_cf"])
def test_outputs_and_configs_match_keras(make, shape):
    x = (RNG.normal(size=shape) * 50).astype("float32")
    reference, ours = make(keras), make(minikeras)
    # atol: the inputs are ~50, float32 interpolation rounds at a few 1e-6
    np.testing.assert_allclose(ours(x), np.asarray(reference(x)), rtol=1e-6, atol=5e-5)
    assert ours.compute_output_shape(shape) == tuple(reference.compute_output_shape(shape))
    assert set(reference.get_config()) <= set(ours.get_config()) | {"dtype"}


def test_upsampling_autoencoder_trains_like_keras():
    x = RNG.uniform(0, 255, size=(32, 8, 8, 1)).astype("float32")

    def build(k):
        return k.Sequential([
            k.Input((8, 8, 1)),
            k.layers.Rescaling(1 / 255),
            k.layers.Conv2D(4, 3, padding="same", activation="relu"),
            k.layers.MaxPooling2D(),
            k.layers.UpSampling2D(),
            k.layers.ZeroPadding2D(1),
            k.layers.Cropping2D(1),
            k.layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ])

    reference, ours = build_pair(build)
    ref, mine = fit_both(reference, ours, x, x / 255, {"optimizer": "adam", "loss": "mse"},
                         epochs=3, batch_size=8)
    assert_histories_close(ref, mine)


RESIZE_CASES = [
    {"size": size, "target": target, "interpolation": interpolation, "aspect": aspect,
     "data_format": data_format}
    for size, target, interpolation, aspect, data_format in itertools.product(
        ((6, 9), (9, 6), (3, 4)), ((4, 4), (8, 3), (7, 12)),
        ("bilinear", "nearest", "bicubic", "area"), ("plain", "crop", "pad"),
        ("channels_last", "channels_first"))
]


@pytest.mark.parametrize("case", RESIZE_CASES, ids=str)
def test_resizing_and_center_crop_match_keras(case):
    (h, w), (th, tw), data_format = case["size"], case["target"], case["data_format"]
    shape = (2, h, w, 3) if data_format == "channels_last" else (2, 3, h, w)
    x = (RNG.normal(size=shape) * 50).astype("float32")
    resize = {"height": th, "width": tw, "interpolation": case["interpolation"],
              "crop_to_aspect_ratio": case["aspect"] == "crop",
              "pad_to_aspect_ratio": case["aspect"] == "pad", "fill_value": 0.5,
              "data_format": data_format}
    reference, ours = keras.layers.Resizing(**resize), minikeras.layers.Resizing(**resize)
    # bit for bit: the same float32 operations in the same order as TensorFlow's kernel
    np.testing.assert_array_equal(ours(x), np.asarray(reference(x)))
    assert ours.compute_output_shape(shape) == tuple(reference.compute_output_shape(shape))
    # names count layers made so far in each engine's session: compare the rest
    ignored = {"dtype": None, "name": None}
    assert ours.get_config() | ignored == reference.get_config() | ignored
    crop = {"height": th, "width": tw, "data_format": data_format}
    reference, ours = keras.layers.CenterCrop(**crop), minikeras.layers.CenterCrop(**crop)
    np.testing.assert_array_equal(ours(x), np.asarray(reference(x)))
    assert ours.compute_output_shape(shape) == tuple(reference.compute_output_shape(shape))


UINT8_CASES = [
    {"size": size, "target": target, "interpolation": interpolation, "aspect": aspect}
    for size, target, interpolation, aspect in itertools.product(
        ((24, 37), (37, 24)), ((11, 16), (53, 29)), ("bilinear", "nearest", "bicubic", "area"),
        ("plain", "crop", "pad"))
]


@pytest.mark.parametrize("case", UINT8_CASES, ids=str)
def test_resizing_uint8_images_exactly_as_keras(case):
    """Random uint8 images come back as uint8, every pixel equal to Keras's: TensorFlow
    interpolates in float32, Keras rounds half to even and saturates. (Summing the same
    weights in another order put about 1% of pixels one level off.)"""
    (h, w), (th, tw) = case["size"], case["target"]
    x = RNG.integers(0, 256, size=(2, h, w, 3)).astype("uint8")
    # Keras pads a uint8 image in uint8, so its fill_value must be an integer there.
    resize = {"height": th, "width": tw, "interpolation": case["interpolation"],
              "crop_to_aspect_ratio": case["aspect"] == "crop",
              "pad_to_aspect_ratio": case["aspect"] == "pad", "fill_value": 7}
    expected = np.asarray(keras.layers.Resizing(**resize)(x))
    got = minikeras.layers.Resizing(**resize)(x)
    assert got.dtype == expected.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)


@pytest.mark.parametrize("dtype", ["float64", "float16", "int32", "int8", "uint16"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest", "bicubic", "area"])
def test_resizing_other_dtypes_exactly_as_keras(dtype, interpolation):
    """Floats are resized as float32 (the layer's dtype); integers come back in their dtype,
    nearest selecting their values exactly (int32 beyond 2**24 included)."""
    if np.issubdtype(dtype, np.integer):
        limits = np.iinfo(dtype)
        x = RNG.integers(limits.min, limits.max, size=(2, 9, 13, 2), endpoint=True)
    else:
        x = RNG.normal(size=(2, 9, 13, 2)) * 1000
    x = x.astype(dtype)
    expected = np.asarray(keras.layers.Resizing(6, 20, interpolation=interpolation)(x))
    got = minikeras.layers.Resizing(6, 20, interpolation=interpolation)(x)
    assert got.dtype == expected.dtype
    np.testing.assert_array_equal(got, expected)


def test_resizing_pads_uint8_with_a_float_fill_value_where_keras_fails():
    """The one documented difference: Keras pads a uint8 image in uint8 and cannot convert
    the default fill_value=0.0 to it; minikeras pads as float32, giving what Keras gives for
    the same image as float32, rounded back to uint8."""
    x = RNG.integers(0, 256, size=(2, 9, 20, 3)).astype("uint8")
    resize = {"height": 10, "width": 10, "pad_to_aspect_ratio": True, "fill_value": 0.5}
    with pytest.raises(TypeError):
        keras.layers.Resizing(**resize)(x)
    expected = np.asarray(keras.layers.Resizing(**resize)(x.astype("float32")))
    expected = np.clip(np.round(expected), 0, 255).astype("uint8")
    got = minikeras.layers.Resizing(**resize)(x)
    assert got.dtype == np.uint8
    np.testing.assert_array_equal(got, expected)
