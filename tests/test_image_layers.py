"""Cropping2D, UpSampling2D and Rescaling: shapes, maths, gradients, arguments, configs."""

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
    (lambda: layers.Rescaling(0.5, offset=-1.0), (2, 3), (2, 3)),
    (lambda: layers.Rescaling([1.0, 2.0, 3.0]), (2, 4, 3), (2, 4, 3)),
], ids=["crop_int", "crop_pairs", "crop_cf", "up", "up_cf", "rescale", "rescale_channels"])
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


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Cropping2D(-1), "cropping=-1"),
    (lambda: layers.Cropping2D((1, 2, 3)), r"cropping=\(1, 2, 3\)"),
    (lambda: layers.Cropping2D(3).compute_output_shape((None, 5, 9, 1)), "smaller than"),
    (lambda: layers.UpSampling2D(0), "size=0"),
    (lambda: layers.UpSampling2D(interpolation="bilinear"), "interpolation='bilinear'"),
    (lambda: layers.Rescaling("big"), "scale='big'"),
    (lambda: layers.UpSampling2D().forward(np.ones((2, 3, 4))), "expected ndim=4"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Cropping2D(((1, 0), (2, 1))),
    lambda: layers.UpSampling2D((2, 3), data_format="channels_first"),
    lambda: layers.Rescaling([0.5, 2.0], offset=1.0),
])
def test_configs_round_trip(make):
    layer = make()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
