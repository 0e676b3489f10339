"""Cropping2D, UpSampling2D, Rescaling, Resizing and CenterCrop: shapes, maths, gradients,
arguments, configs."""

import numpy as np
import pytest
from gradcheck import check_layer

import minikeras as keras
from minikeras import layers


@pytest.fixture
def float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


@pytest.mark.parametrize("make, shape, out_shape", [
    (lambda: layers.Cropping2D(1), (2, 5, 6, 3), (2, 3, 4, 3)),
    (lambda: layers.Cropping2D(((1, 0), (2, 1))), (2, 5, 6, 3), (2, 4, 3, 3)),
    (lambda: layers.Cropping2D((1, 2), data_format="channels_first"), (2, 3, 5, 6),
     (2, 3, 3, 2)),
    (lambda: layers.UpSampling2D(), (2, 3, 4, 2), (2, 6, 8, 2)),
    (lambda: layers.UpSampling2D((3, 1), data_format="channels_first"), (2, 2, 3, 4),
     (2, 2, 9, 4)),
    (lambda: layers.UpSampling2D((2, 3), interpolation="bilinear"), (2, 3, 4, 2),
     (2, 6, 12, 2)),
    (lambda: layers.UpSampling2D(interpolation="bilinear", data_format="channels_first"),
     (2, 2, 3, 4), (2, 2, 6, 8)),
    (lambda: layers.Rescaling(0.5, offset=-1.0), (2, 3), (2, 3)),
    (lambda: layers.Rescaling([1.0, 2.0, 3.0]), (2, 4, 3), (2, 4, 3)),
    (lambda: layers.Resizing(5, 7), (2, 4, 3, 2), (2, 5, 7, 2)),
    (lambda: layers.Resizing(3, 2, interpolation="nearest"), (2, 5, 6, 2), (2, 3, 2, 2)),
    (lambda: layers.Resizing(7, 3, interpolation="bicubic"), (2, 4, 6, 2), (2, 7, 3, 2)),
    (lambda: layers.Resizing(3, 7, interpolation="area"), (2, 7, 4, 2), (2, 3, 7, 2)),
    (lambda: layers.Resizing(4, 4, crop_to_aspect_ratio=True), (2, 5, 8, 2), (2, 4, 4, 2)),
    (lambda: layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=2.0,
                             data_format="channels_first"), (2, 2, 5, 8), (2, 2, 4, 4)),
    (lambda: layers.CenterCrop(3, 2), (2, 6, 5, 2), (2, 3, 2, 2)),
    (lambda: layers.CenterCrop(3, 4, data_format="channels_first"), (2, 2, 6, 3),
     (2, 2, 3, 4)),
], ids=["crop_int", "crop_pairs", "crop_cf", "up", "up_cf", "up_bilinear", "up_bilinear_cf",
        "rescale", "rescale_channels", "resize", "resize_nearest", "resize_bicubic",
        "resize_area", "resize_crop",
        "resize_pad_cf", "center_crop", "center_crop_smaller_cf"])
def test_shapes_and_gradients(float64, make, shape, out_shape):
    layer = make()
    x = np.random.default_rng(0).normal(size=shape)
    assert layer.compute_output_shape(shape) == out_shape
    assert layer.forward(x)[0].shape == out_shape
    assert check_layer(layer, x) < 1e-6


def test_maths():
    x = np.arange(2 * 3 * 3 * 1, dtype="float32").reshape(2, 3, 3, 1)
    np.testing.assert_array_equal(layers.Cropping2D(1)(x), x[:, 1:2, 1:2])
    up = layers.UpSampling2D((2, 3))(x)
    np.testing.assert_array_equal(up[0, :2, :3, 0], np.full((2, 3), x[0, 0, 0, 0]))
    np.testing.assert_array_equal(up[:, ::2, ::3], x)
    pixels = np.array([[0, 255]], dtype="uint8")
    out = layers.Rescaling(1 / 255)(pixels)
    assert out.dtype == np.float32
    np.testing.assert_allclose(out, [[0.0, 1.0]])


def test_resize_maths():
    x = np.arange(4, dtype="float32").reshape(1, 1, 4, 1)            # one row: 0 1 2 3
    # doubling: output pixel centres fall a quarter pixel either side of the input centres
    doubled = layers.UpSampling2D((1, 2), interpolation="bilinear")(x)[0, 0, :, 0]
    np.testing.assert_allclose(doubled, [0, 0.25, 0.75, 1.25, 1.75, 2.25, 2.75, 3])
    halved = layers.Resizing(1, 2)(x)[0, 0, :, 0]                     # centres at 0.5, 2.5
    np.testing.assert_allclose(halved, [0.5, 2.5])
    np.testing.assert_array_equal(layers.Resizing(1, 2, interpolation="nearest")(x)[0, 0, :, 0],
                                  [1, 3])
    # area: 4 -> 3 pixels, boxes of 4/3: [0, 1/3 of 1], [2/3 of 1, 2/3 of 2], [1/3 of 2, 3]
    area = layers.Resizing(1, 3, interpolation="area")(x)[0, 0, :, 0]
    np.testing.assert_allclose(area, [0.25, 1.5, 2.75], rtol=1e-6)
    np.testing.assert_allclose(layers.Resizing(1, 2, interpolation="area")(x)[0, 0, :, 0],
                               [0.5, 2.5])
    # bicubic (Keys, a = -0.5) reproduces a straight line away from the borders, where the
    # taps outside the image are dropped and the rest renormalised
    ramp = np.arange(8, dtype="float64").reshape(1, 1, 8, 1)
    cubic = layers.Resizing(1, 16, interpolation="bicubic", dtype="float64")(ramp)[0, 0, :, 0]
    centres = (np.arange(16) + 0.5) / 2 - 0.5
    np.testing.assert_allclose(cubic[3:-3], centres[3:-3], atol=2e-3)   # 1/1024 fractions
    assert not np.allclose(cubic[:2], centres[:2], atol=2e-3)
    constant = layers.Resizing(5, 9, interpolation="bicubic")(np.full((1, 3, 4, 1), 7.0))
    np.testing.assert_allclose(constant, 7.0, rtol=1e-6)
    image = np.arange(5 * 6, dtype="float32").reshape(1, 5, 6, 1)
    np.testing.assert_array_equal(layers.CenterCrop(3, 2)(image), image[:, 1:4, 2:4])
    # 5 x 6 to the aspect ratio of 5 x 10: two columns of fill_value each side, then a resize
    # to the same size (an identity)
    padded = layers.Resizing(5, 10, pad_to_aspect_ratio=True, fill_value=-1)(image)
    np.testing.assert_array_equal(padded[:, :, [0, 1, 8, 9]], -1)
    np.testing.assert_array_equal(padded[:, :, 2:8], image)
    cropped = layers.Resizing(5, 2, crop_to_aspect_ratio=True)(image)
    np.testing.assert_array_equal(cropped, image[:, :, 2:4])


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Cropping2D(-1), "cropping=-1"),
    (lambda: layers.Cropping2D((1, 2, 3)), r"cropping=\(1, 2, 3\)"),
    (lambda: layers.Cropping2D(3).compute_output_shape((None, 5, 9, 1)), "smaller than"),
    (lambda: layers.UpSampling2D(0), "size=0"),
    (lambda: layers.UpSampling2D(interpolation="bicubic"), "interpolation='bicubic'"),
    (lambda: layers.Rescaling("big"), "scale='big'"),
    (lambda: layers.UpSampling2D().forward(np.ones((2, 3, 4))), "expected ndim=4"),
    (lambda: layers.Resizing(0, 3), "height=0"),
    (lambda: layers.Resizing(3, 3, interpolation="lanczos3"), "interpolation='lanczos3'"),
    (lambda: layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
     "Only one of"),
    (lambda: layers.Resizing(3, 3, fill_mode="reflect"), "fill_mode='reflect'"),
    (lambda: layers.Resizing(3, 3, antialias=True), "antialias=True"),
    (lambda: layers.CenterCrop(2, -1), "width=-1"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Cropping2D(((1, 0), (2, 1))),
    lambda: layers.UpSampling2D((2, 3), data_format="channels_first"),
    lambda: layers.Rescaling([0.5, 2.0], offset=1.0),
    lambda: layers.UpSampling2D(3, interpolation="bilinear"),
    lambda: layers.Resizing(4, 5, interpolation="nearest", pad_to_aspect_ratio=True,
                            fill_value=1.5),
    lambda: layers.CenterCrop(4, 5, data_format="channels_first"),
])
def test_configs_round_trip(make):
    layer = make()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
