"""Conv2DTranspose, DepthwiseConv2D and SeparableConv2D: shapes, gradients, the adjoint
identity, arguments and configs."""

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
    (lambda: layers.Conv2DTranspose(3, 3), (2, 4, 5, 2), (2, 6, 7, 3)),
    (lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same"), (2, 4, 5, 2),
     (2, 8, 10, 3)),
    (lambda: layers.Conv2DTranspose(2, (3, 2), strides=(2, 3), output_padding=(1, 2)),
     (2, 3, 3, 2), (2, 8, 10, 2)),
    (lambda: layers.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=1,
                                    activation="tanh"), (2, 3, 3, 2), (2, 5, 5, 2)),
    (lambda: layers.Conv2DTranspose(2, 3, dilation_rate=2, padding="same",
                                    data_format="channels_first"), (2, 3, 4, 5),
     (2, 2, 4, 5)),
    (lambda: layers.Conv2DTranspose(2, 1, strides=3, use_bias=False), (1, 2, 2, 1),
     (1, 6, 6, 2)),
    (lambda: layers.DepthwiseConv2D(3), (2, 5, 6, 3), (2, 3, 4, 3)),
    (lambda: layers.DepthwiseConv2D((3, 2), strides=2, padding="same", depth_multiplier=2,
                                    activation="tanh"), (2, 5, 6, 3), (2, 3, 3, 6)),
    (lambda: layers.DepthwiseConv2D(2, dilation_rate=2, data_format="channels_first"),
     (2, 2, 5, 5), (2, 2, 3, 3)),
    (lambda: layers.SeparableConv2D(4, 3), (2, 5, 6, 3), (2, 3, 4, 4)),
    (lambda: layers.SeparableConv2D(4, 3, strides=2, padding="same", depth_multiplier=2,
                                    activation="sigmoid"), (2, 5, 6, 3), (2, 3, 3, 4)),
    (lambda: layers.SeparableConv2D(2, 2, dilation_rate=(2, 1), use_bias=False,
                                    data_format="channels_first"), (2, 3, 5, 4),
     (2, 2, 3, 3)),
], ids=["t_valid", "t_same_s2", "t_outpad", "t_even_same_outpad", "t_dilated_cf",
        "t_1x1_s3", "dw", "dw_s2_same_m2", "dw_dilated_cf", "sep", "sep_s2_m2",
        "sep_dilated_cf"])
def test_shapes_and_gradients(float64, make, shape, out_shape):
    layer = make()
    x = np.random.default_rng(0).normal(size=shape)
    assert layer.compute_output_shape(shape) == out_shape
    layer.build(shape)
    # non-zero biases, so that a bias added on the wrong axis would show
    for weight in layer.weights:
        weight.assign(np.random.default_rng(1).normal(size=weight.shape))
    assert layer.forward(x)[0].shape == out_shape
    assert check_layer(layer, x) < 1e-6


def test_transpose_is_the_adjoint_of_conv2d(float64):
    """<Conv2D(y), x> == <y, Conv2DTranspose(x)> with the same kernel and geometry."""
    rng = np.random.default_rng(0)
    geometry = {"kernel_size": (3, 2), "strides": 2, "padding": "same", "use_bias": False}
    transpose = layers.Conv2DTranspose(4, **geometry)
    conv = layers.Conv2D(3, **geometry)
    x = rng.normal(size=(2, 3, 4, 3))
    y = rng.normal(size=(2, 6, 8, 4))
    transpose.build(x.shape)
    conv.build(y.shape)
    conv.set_weights(transpose.get_weights())  # (kh, kw, 4, 3) both ways
    lhs = np.sum(conv(y) * x)
    rhs = np.sum(y * transpose(x))
    np.testing.assert_allclose(lhs, rhs, rtol=1e-12)


def test_depthwise_is_a_per_channel_convolution(float64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(2, 5, 5, 2))
    depthwise = layers.DepthwiseConv2D(3, depth_multiplier=2, use_bias=False)
    depthwise.build(x.shape)
    out = depthwise(x)
    kernel = depthwise.get_weights()[0]                     # (3, 3, 2, 2)
    for channel in range(2):
        single = layers.Conv2D(2, 3, use_bias=False)
        single.build((2, 5, 5, 1))
        single.set_weights([kernel[:, :, channel:channel + 1, :]])
        np.testing.assert_allclose(out[..., 2 * channel:2 * channel + 2],
                                   single(x[..., channel:channel + 1]), rtol=1e-12)


def test_first_layer_skips_the_input_gradient(float64):
    x = np.random.default_rng(0).normal(size=(2, 4, 4, 2))
    for layer in (layers.Conv2DTranspose(2, 3), layers.DepthwiseConv2D(3),
                  layers.SeparableConv2D(2, 3)):
        layer.build(x.shape)
        out, cache = layer.forward(x)
        full_dx, full = layer.backward(np.ones_like(out), cache)
        dx, grads = layer.backward(np.ones_like(out), cache, need_input_gradient=False)
        assert dx is None and full_dx.shape == x.shape
        for a, b in zip(grads, full):
            np.testing.assert_allclose(a, b)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, output_padding=2),
     "output_padding=\\(2, 2\\), strides=\\(2, 2\\)"),
    (lambda: layers.Conv2DTranspose(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.Conv2DTranspose(0, 3), "filters=0"),
    (lambda: layers.Conv2DTranspose(2, 4, strides=2, padding="same", output_padding=0)
     .compute_output_shape((None, 3, 3, 1)), "output_padding"),
    (lambda: layers.DepthwiseConv2D(3, depth_multiplier=0), "depth_multiplier=0"),
    (lambda: layers.DepthwiseConv2D(3, padding="full"), "padding='full'"),
    (lambda: layers.DepthwiseConv2D(5).compute_output_shape((None, 3, 3, 1)), "larger than"),
    (lambda: layers.SeparableConv2D(2, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.SeparableConv2D(2, 3).forward(np.ones((2, 3, 4))), "expected ndim=4"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Conv2DTranspose(3, (3, 2), strides=2, padding="same", output_padding=1,
                                   activation="relu", data_format="channels_first"),
    lambda: layers.DepthwiseConv2D(3, depth_multiplier=2, dilation_rate=2, use_bias=False),
    lambda: layers.SeparableConv2D(4, 3, strides=2, depth_multiplier=3,
                                   pointwise_initializer="he_normal"),
])
def test_configs_round_trip(make):
    layer = make()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
