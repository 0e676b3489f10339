"""Conv2D, pooling and padding layers: float64 finite differences, shapes, configs, errors."""

import numpy as np
import pytest
from gradcheck import numerical_gradient

from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.zero_padding2d import ZeroPadding2D


def check_layer_gradients(layer, x, seed=0):
    """Backward of `layer` against central differences of sum(out * w), x and every weight."""
    rng = np.random.default_rng(seed)
    layer._maybe_build(x.shape)
    for weight in layer.weights:  # non-zero biases so they matter
        weight.assign(rng.standard_normal(weight.shape))
    out, cache = layer.forward(x)
    assert out.shape[1:] == tuple(layer.compute_output_shape((None,) + x.shape[1:])[1:])
    w = rng.standard_normal(out.shape)

    def loss(_=None):  # numerical_gradient passes the array it nudges
        return float(np.sum(layer.forward(x)[0] * w))

    dout = w.copy()
    dx, grads = layer.backward(dout, cache)
    np.testing.assert_array_equal(dout, w)
    assert dx.shape == x.shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-5, atol=1e-7)
    assert len(grads) == len(layer.trainable_weights)
    for grad, weight in zip(grads, layer.trainable_weights, strict=True):
        np.testing.assert_allclose(grad, numerical_gradient(loss, weight.value), rtol=1e-5,
                                   atol=1e-7)


CONV_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=(2, 3), strides=(2, 1), padding="same", activation="tanh"),
    dict(kernel_size=1, strides=3, use_bias=False),
    dict(kernel_size=5, padding="same", activation="sigmoid"),
    dict(kernel_size=(3, 2), dilation_rate=(2, 1), padding="same", groups=2),
    dict(kernel_size=2, groups=4, activation="relu", data_format="channels_first"),
    dict(kernel_size=3, strides=2, padding="same", data_format="channels_first",
         activation="softmax"),
]


@pytest.mark.parametrize("kwargs", CONV_CASES)
def test_conv2d_gradients(kwargs):
    layer = Conv2D(4, dtype="float64", **kwargs)
    shape = (2, 4, 7, 6) if kwargs.get("data_format") == "channels_first" else (2, 7, 6, 4)
    x = np.random.default_rng(1).standard_normal(shape)
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
@pytest.mark.parametrize("kwargs", [
    dict(pool_size=2), dict(pool_size=(3, 2), strides=1, padding="same"),
    dict(pool_size=3, strides=(2, 1), data_format="channels_first"),
    dict(pool_size=(2, 3), padding="same", data_format="channels_first"),
])
def test_pooling_gradients(cls, kwargs):
    layer = cls(dtype="float64", **kwargs)
    # distinct values so max pooling is differentiable
    x = np.random.default_rng(2).permutation(2 * 7 * 5 * 3).reshape(2, 7, 5, 3) / 11.0
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("cls", [GlobalAveragePooling2D, GlobalMaxPooling2D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_gradients(cls, data_format, keepdims):
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    x = np.random.default_rng(3).permutation(2 * 4 * 5 * 3).reshape(2, 4, 5, 3) / 7.0
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("padding,data_format", [
    (1, "channels_last"), ((2, 0), "channels_last"), (((1, 2), (0, 3)), "channels_first"),
])
def test_zero_padding_gradients(padding, data_format):
    layer = ZeroPadding2D(padding, data_format=data_format, dtype="float64")
    x = np.random.default_rng(4).standard_normal((2, 3, 4, 2))
    check_layer_gradients(layer, x)


def test_global_max_pooling_shares_tied_gradient():
    layer = GlobalMaxPooling2D()
    x = np.zeros((1, 2, 2, 1), np.float32)
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = 3.0
    out, cache = layer.forward(x)
    dx, _ = layer.backward(np.ones((1, 1), np.float32), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[0, 0.5], [0.5, 0]])


def test_shapes_and_parameter_counts():
    conv = Conv2D(32, (3, 3), activation="relu", input_shape=(28, 28, 1))
    assert conv.compute_output_shape((None, 28, 28, 1)) == (None, 26, 26, 32)
    conv._maybe_build((None, 28, 28, 1))
    assert conv.kernel.shape == (3, 3, 1, 32) and conv.count_params() == 320
    grouped = Conv2D(6, 3, groups=3, use_bias=False)
    grouped._maybe_build((None, 9, 9, 12))
    assert grouped.kernel.shape == (3, 3, 4, 6) and grouped.count_params() == 216
    assert Conv2D(8, 3, strides=2, padding="same").compute_output_shape(
        (None, 7, 8, 3)) == (None, 4, 4, 8)
    assert Conv2D(8, 3, data_format="channels_first").compute_output_shape(
        (5, 3, 7, 9)) == (5, 8, 5, 7)
    assert Conv2D(8, 3).compute_output_shape((None, None, 9, 3)) == (None, None, 7, 8)
    assert MaxPooling2D().compute_output_shape((None, 7, 9, 3)) == (None, 3, 4, 3)
    assert MaxPooling2D(3, 2, "same").compute_output_shape((None, 7, 9, 3)) == (None, 4, 5, 3)
    assert AveragePooling2D(2, data_format="channels_first").compute_output_shape(
        (None, 3, 7, 9)) == (None, 3, 3, 4)
    assert GlobalAveragePooling2D().compute_output_shape((None, 7, 9, 3)) == (None, 3)
    assert GlobalMaxPooling2D(keepdims=True, data_format="channels_first").compute_output_shape(
        (None, 3, 7, 9)) == (None, 3, 1, 1)
    assert ZeroPadding2D(((1, 2), (3, 4))).compute_output_shape(
        (None, 7, 9, 3)) == (None, 10, 16, 3)


def test_defaults_and_configs_use_keras_keys():
    conv = Conv2D(4, 3)
    config = conv.get_config()
    assert list(config)[3:] == [
        "filters", "kernel_size", "strides", "padding", "data_format", "dilation_rate",
        "groups", "activation", "use_bias", "kernel_initializer", "bias_initializer",
        "kernel_regularizer", "bias_regularizer", "activity_regularizer", "kernel_constraint",
        "bias_constraint",
    ]
    assert (config["kernel_size"], config["strides"], config["dilation_rate"]) == (
        (3, 3), (1, 1), (1, 1))
    assert (config["padding"], config["data_format"], config["groups"]) == (
        "valid", "channels_last", 1)
    assert config["activation"] == "linear" and config["use_bias"] is True
    clone = Conv2D.from_config(config)
    assert clone.kernel_size == (3, 3) and clone.filters == 4

    pool = MaxPooling2D().get_config()
    assert {k: pool[k] for k in ("pool_size", "padding", "strides", "data_format")} == {
        "pool_size": (2, 2), "padding": "valid", "strides": (2, 2),
        "data_format": "channels_last"}
    assert AveragePooling2D(3, strides=1).get_config()["strides"] == (1, 1)
    assert GlobalMaxPooling2D().get_config()["keepdims"] is False
    assert "keepdims" in GlobalAveragePooling2D().get_config()
    assert ZeroPadding2D().get_config()["padding"] == ((1, 1), (1, 1))
    assert ZeroPadding2D((2, 3)).padding == ((2, 2), (3, 3))


def test_float32_forward_and_backward_keep_float32():
    conv = Conv2D(4, 3, padding="same", activation="relu")
    x = np.random.default_rng(5).standard_normal((2, 6, 6, 3)).astype(np.float32)
    conv._maybe_build(x.shape)
    out, cache = conv.forward(x)
    dx, grads = conv.backward(np.ones_like(out), cache)
    assert out.dtype == dx.dtype == np.float32
    assert all(g.dtype == np.float32 for g in grads)
    assert conv(x.astype(np.float64)).dtype == np.float32


def test_channels_first_matches_channels_last():
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 7, 6, 4))
    last = Conv2D(3, (3, 2), strides=(2, 1), padding="same", dtype="float64")
    first = Conv2D(3, (3, 2), strides=(2, 1), padding="same", dtype="float64",
                   data_format="channels_first")
    out_last = last(x)
    first._maybe_build((2, 4, 7, 6))
    first.set_weights(last.get_weights())
    np.testing.assert_allclose(first(x.transpose(0, 3, 1, 2)), out_last.transpose(0, 3, 1, 2))


# ------------------------------------------------------------------------------ errors


@pytest.mark.parametrize("kwargs,match", [
    (dict(filters=0, kernel_size=3), "filters=0"),
    (dict(filters=-2, kernel_size=3), "filters=-2"),
    (dict(filters=4, kernel_size=0), "kernel_size=0"),
    (dict(filters=4, kernel_size=(3, -1)), r"kernel_size=\(3, -1\)"),
    (dict(filters=4, kernel_size=(3, 3, 3)), r"kernel_size=\(3, 3, 3\)"),
    (dict(filters=4, kernel_size=3, strides=0), "strides=0"),
    (dict(filters=4, kernel_size=3, strides=(1, -2)), r"strides=\(1, -2\)"),
    (dict(filters=4, kernel_size=3, padding="full"), "padding='full'"),
    (dict(filters=4, kernel_size=3, data_format="channels_middle"),
     "data_format='channels_middle'"),
    (dict(filters=4, kernel_size=3, strides=2, dilation_rate=2),
     r"strides=\(2, 2\) and dilation_rate=\(2, 2\)"),
    (dict(filters=4, kernel_size=3, dilation_rate=0), "dilation_rate=0"),
    (dict(filters=6, kernel_size=3, groups=4), "groups=4, filters=6"),
    (dict(filters=6, kernel_size=3, groups=0), "groups=0"),
])
def test_conv2d_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        Conv2D(**kwargs)


def test_conv2d_input_errors():
    conv = Conv2D(4, (5, 3), name="conv_a")
    with pytest.raises(ValueError, match=r"conv_a.*kernel_size=\(5, 3\).*\(None, 4, 9, 2\)"):
        conv.build((None, 4, 9, 2))
    with pytest.raises(ValueError, match=r"conv_a.*expected ndim=4, found ndim=3"):
        conv.build((None, 9, 9))
    dilated = Conv2D(4, 3, dilation_rate=3, name="conv_d")
    with pytest.raises(ValueError, match=r"conv_d.*dilated to \(7, 7\)"):
        dilated.compute_output_shape((None, 6, 8, 1))
    grouped = Conv2D(4, 3, groups=2, name="conv_g")
    with pytest.raises(ValueError, match=r"conv_g.*groups=2.*3 channels"):
        grouped.build((None, 8, 8, 3))
    built = Conv2D(4, 3, name="conv_b")
    built(np.zeros((1, 5, 5, 3), np.float32))
    with pytest.raises(ValueError, match=r"conv_b.*value 3.*\(1, 5, 5, 2\)"):
        built(np.zeros((1, 5, 5, 2), np.float32))
    with pytest.raises(ValueError, match=r"conv_b.*ndim=4, found ndim=2"):
        built(np.zeros((1, 5), np.float32))


def test_set_weights_with_wrong_shapes():
    conv = Conv2D(4, 3, name="conv_w")
    conv.build((None, 6, 6, 2))
    with pytest.raises(ValueError, match=r"conv_w.*\(3, 3, 2, 4\).*\(3, 3, 4, 2\)"):
        conv.set_weights([np.zeros((3, 3, 4, 2)), np.zeros(4)])
    with pytest.raises(ValueError, match="conv_w"):
        conv.set_weights([np.zeros((3, 3, 2, 4))])


@pytest.mark.parametrize("cls", [MaxPooling2D, AveragePooling2D])
def test_pooling_errors(cls):
    with pytest.raises(ValueError, match="pool_size=0"):
        cls(pool_size=0)
    with pytest.raises(ValueError, match=r"strides=\(2, 0\)"):
        cls(pool_size=2, strides=(2, 0))
    with pytest.raises(ValueError, match="padding='causal'"):
        cls(pool_size=2, padding="causal")
    with pytest.raises(ValueError, match="data_format='nhwc'"):
        cls(pool_size=2, data_format="nhwc")
    layer = cls(pool_size=(3, 4), name="pool_p")
    with pytest.raises(ValueError, match=r"pool_p.*pool_size=\(3, 4\).*\(None, 5, 3, 2\)"):
        layer.build((None, 5, 3, 2))
    with pytest.raises(ValueError, match=r"pool_p.*ndim=4, found ndim=5"):
        layer.compute_output_shape((None, 5, 5, 5, 2))
    # same padding always fits
    assert cls(pool_size=(3, 4), padding="same").compute_output_shape(
        (None, 5, 3, 2)) == (None, 2, 1, 2)


def test_global_pooling_and_padding_errors():
    with pytest.raises(ValueError, match="data_format='last'"):
        GlobalAveragePooling2D(data_format="last")
    with pytest.raises(ValueError, match="ndim=4, found ndim=3"):
        GlobalMaxPooling2D().build((None, 4, 4))
    with pytest.raises(ValueError, match="padding=-1"):
        ZeroPadding2D(-1)
    with pytest.raises(ValueError, match=r"padding=\(1, 2, 3\)"):
        ZeroPadding2D((1, 2, 3))
    with pytest.raises(ValueError, match="padding='same'"):
        ZeroPadding2D("same")


def test_conv2d_backward_can_skip_the_input_gradient():
    conv = Conv2D(3, 3, padding="same", dtype="float64")
    x = np.random.default_rng(7).standard_normal((2, 5, 5, 2))
    conv._maybe_build(x.shape)
    out, cache = conv.forward(x)
    dout = np.ones_like(out)
    dx, grads = conv.backward(dout, cache)
    no_dx, same_grads = conv.backward(dout, cache, need_input_gradient=False)
    assert dx.shape == x.shape and no_dx is None
    for a, b in zip(grads, same_grads, strict=True):
        np.testing.assert_array_equal(a, b)


def test_legacy_input_shape_builds_a_sequential_cnn():
    import minikeras

    model = minikeras.Sequential([
        minikeras.layers.Conv2D(4, 3, activation="relu", input_shape=(10, 9, 1)),
        minikeras.layers.MaxPooling2D(),
        minikeras.layers.Flatten(),
        minikeras.layers.Dense(3, activation="softmax"),
    ])
    assert model.layers[0].kernel.shape == (3, 3, 1, 4)
    assert model.output_shape == (None, 3)
    assert model.count_params() == 4 * 9 + 4 + (4 * 3 * 4) * 3 + 3
    out = model.predict(np.zeros((2, 10, 9, 1), np.float32), verbose=0)
    assert out.shape == (2, 3)


def test_public_names():
    import minikeras

    assert minikeras.layers.Conv2D is Conv2D
    assert minikeras.layers.MaxPooling2D is MaxPooling2D
    assert minikeras.layers.AveragePooling2D is AveragePooling2D
    assert minikeras.layers.GlobalAveragePooling2D is GlobalAveragePooling2D
    assert minikeras.layers.GlobalMaxPooling2D is GlobalMaxPooling2D
    assert minikeras.layers.ZeroPadding2D is ZeroPadding2D
