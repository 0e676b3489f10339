"""1-D convolution, pooling, padding and resampling layers: float64 finite differences,
shapes, configs, masks and bad arguments."""

import numpy as np
import pytest
from gradcheck import numerical_gradient

from minikeras import layers
from minikeras.kernels.conv_transpose1d import conv_transpose1d_forward


def check_layer_gradients(layer, x, mask=None, seed=0):
    """Backward of `layer` against central differences of sum(out * w), x and every weight."""
    rng = np.random.default_rng(seed)
    layer._maybe_build(x.shape)
    for weight in layer.weights:  # non-zero biases so they matter
        weight.assign(rng.standard_normal(weight.shape))
    extra = {} if mask is None else {"mask": mask}
    out, cache = layer.forward(x, **extra)
    assert out.shape[1:] == tuple(layer.compute_output_shape((None,) + x.shape[1:])[1:])
    w = rng.standard_normal(out.shape)

    def loss(_=None):  # numerical_gradient passes the array it nudges
        return float(np.sum(layer.forward(x, **extra)[0] * w))

    dout = w.copy()
    dx, grads = layer.backward(dout, cache)
    np.testing.assert_array_equal(dout, w)          # the incoming gradient is left alone
    assert dx.shape == x.shape and dx.dtype == np.float64
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-5, atol=1e-7)
    assert len(grads) == len(layer.trainable_weights)
    for grad, weight in zip(grads, layer.trainable_weights, strict=True):
        np.testing.assert_allclose(grad, numerical_gradient(loss, weight.value), rtol=1e-5,
                                   atol=1e-7)
    return out


CONV1D_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, padding="same", activation="tanh"),
    dict(kernel_size=4, padding="same", strides=2),
    dict(kernel_size=3, padding="causal", dilation_rate=2, activation="sigmoid"),
    dict(kernel_size=2, padding="causal", strides=3),
    dict(kernel_size=2, dilation_rate=3, groups=2, use_bias=False),
    dict(kernel_size=3, strides=2, data_format="channels_first", activation="softmax"),
    dict(kernel_size=1, padding="causal", data_format="channels_first"),
]


def _sequence(shape, seed=1):
    return np.random.default_rng(seed).standard_normal(shape)


@pytest.mark.parametrize("kwargs", CONV1D_CASES, ids=[str(i) for i in range(len(CONV1D_CASES))])
def test_conv1d_gradients(kwargs):
    layer = layers.Conv1D(4, dtype="float64", **kwargs)
    shape = (2, 4, 11) if kwargs.get("data_format") == "channels_first" else (2, 11, 4)
    check_layer_gradients(layer, _sequence(shape))


CONV1D_TRANSPOSE_CASES = [
    dict(kernel_size=3),
    dict(kernel_size=3, strides=2, padding="same"),
    dict(kernel_size=2, strides=3),                                  # stride > kernel: gaps
    dict(kernel_size=4, strides=2, output_padding=1, activation="tanh"),
    dict(kernel_size=3, strides=3, padding="same", output_padding=2),
    dict(kernel_size=3, dilation_rate=2, padding="same", use_bias=False),
    dict(kernel_size=5, strides=2, padding="same", data_format="channels_first"),
]


@pytest.mark.parametrize("kwargs", CONV1D_TRANSPOSE_CASES,
                         ids=[str(i) for i in range(len(CONV1D_TRANSPOSE_CASES))])
def test_conv1d_transpose_gradients(kwargs):
    layer = layers.Conv1DTranspose(3, dtype="float64", **kwargs)
    shape = (2, 4, 6) if kwargs.get("data_format") == "channels_first" else (2, 6, 4)
    check_layer_gradients(layer, _sequence(shape))


def test_conv1d_transpose_is_the_adjoint_of_conv1d():
    """<conv(y), x> = <y, conv_transpose(x)> with the same kernel: the definition."""
    rng = np.random.default_rng(5)
    kernel = rng.standard_normal((3, 5, 4))                  # (k, filters=5, in=4) transposed
    x = rng.standard_normal((2, 6, 4))
    up, _ = conv_transpose1d_forward(x, kernel, stride=2, padding="same")   # (2, 12, 5)
    conv = layers.Conv1D(4, 3, strides=2, padding="same", use_bias=False, dtype="float64")
    conv.build(up.shape)
    conv.kernel.assign(kernel)                                # (k, in=5, filters=4)
    y = rng.standard_normal(up.shape)
    assert np.isclose(np.sum(conv(y) * x), np.sum(y * up))


@pytest.mark.parametrize("cls", [layers.MaxPooling1D, layers.AveragePooling1D])
@pytest.mark.parametrize("kwargs", [
    dict(pool_size=2), dict(pool_size=3, strides=1, padding="same"), dict(pool_size=3, strides=2),
    dict(pool_size=2, padding="same", data_format="channels_first"),
])
def test_pooling1d_gradients(cls, kwargs):
    layer = cls(dtype="float64", **kwargs)
    # distinct values so max pooling is differentiable
    x = np.random.default_rng(2).permutation(2 * 7 * 3).reshape(2, 7, 3) / 11.0
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("cls", [layers.GlobalAveragePooling1D, layers.GlobalMaxPooling1D])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling1d_gradients(cls, data_format, keepdims):
    layer = cls(data_format=data_format, keepdims=keepdims, dtype="float64")
    x = np.random.default_rng(3).permutation(2 * 5 * 3).reshape(2, 5, 3) / 7.0
    check_layer_gradients(layer, x)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_global_average_pooling1d_leaves_masked_steps_out(data_format):
    layer = layers.GlobalAveragePooling1D(data_format=data_format, dtype="float64")
    rng = np.random.default_rng(4)
    x = rng.standard_normal((3, 6, 2))
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 0, 1, 0, 1, 1], [1] * 6], dtype=bool)
    if data_format == "channels_first":
        x = x.transpose(0, 2, 1).copy()
    out = check_layer_gradients(layer, x, mask=mask)
    steps_last = x.transpose(0, 2, 1) if data_format == "channels_first" else x
    expected = [steps_last[i][mask[i]].mean(axis=0) for i in range(3)]
    np.testing.assert_allclose(out, expected)
    # what the padded steps hold does not matter
    changed = steps_last.copy()
    changed[~mask] = 1e6
    if data_format == "channels_first":
        changed = changed.transpose(0, 2, 1)
    np.testing.assert_allclose(layer.forward(changed, mask=mask)[0], out)
    assert layer.supports_masking and layer.compute_mask(x, mask) is None


def test_global_average_pooling1d_all_masked_is_nan_as_keras():
    out, _ = layers.GlobalAveragePooling1D().forward(np.ones((1, 3, 2), "float32"),
                                                     mask=np.zeros((1, 3), bool))
    assert np.isnan(out).all()


@pytest.mark.parametrize("layer,shape", [
    (layers.UpSampling1D(3), (2, 4, 3)),
    (layers.ZeroPadding1D((2, 1)), (2, 4, 3)),
    (layers.ZeroPadding1D(2, data_format="channels_first"), (2, 3, 4)),
    (layers.Cropping1D((1, 2)), (2, 6, 3)),
    (layers.Cropping1D((2, 0)), (2, 6, 3)),
])
def test_reshaping1d_gradients(layer, shape):
    layer.dtype = "float64"
    check_layer_gradients(layer, _sequence(shape))


def test_reshaping1d_values():
    x = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3)
    np.testing.assert_array_equal(layers.UpSampling1D(2)(x)[:, ::2], x)
    np.testing.assert_array_equal(layers.UpSampling1D(2)(x)[:, 1::2], x)
    padded = layers.ZeroPadding1D((1, 2))(x)
    assert padded.shape == (2, 7, 3) and not padded[:, [0, 5, 6]].any()
    np.testing.assert_array_equal(padded[:, 1:5], x)
    np.testing.assert_array_equal(layers.Cropping1D((1, 2))(x), x[:, 1:2])


ALL_LAYERS = [
    lambda: layers.Conv1D(4, 3, strides=2, padding="causal", dilation_rate=1, groups=2,
                          activation="relu", use_bias=False, data_format="channels_first"),
    lambda: layers.Conv1DTranspose(4, 3, strides=2, padding="same", output_padding=1),
    lambda: layers.MaxPooling1D(3, strides=1, padding="same"),
    lambda: layers.AveragePooling1D(2, data_format="channels_first"),
    lambda: layers.GlobalAveragePooling1D(keepdims=True),
    lambda: layers.GlobalMaxPooling1D(data_format="channels_first"),
    lambda: layers.UpSampling1D(3),
    lambda: layers.ZeroPadding1D((1, 2)),
    lambda: layers.Cropping1D(2),
]


@pytest.mark.parametrize("make", ALL_LAYERS, ids=[str(i) for i in range(len(ALL_LAYERS))])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(config)
    config.pop("name")
    rebuilt = again.get_config()
    rebuilt.pop("name")
    assert rebuilt == config


def test_keras_aliases():
    assert layers.Convolution1D is layers.Conv1D
    assert layers.MaxPool1D is layers.MaxPooling1D
    assert layers.AvgPool1D is layers.AveragePooling1D
    assert layers.GlobalAvgPool1D is layers.GlobalAveragePooling1D
    assert layers.GlobalMaxPool1D is layers.GlobalMaxPooling1D


@pytest.mark.parametrize("make,match", [
    (lambda: layers.Conv1D(4, 3, padding="full"), "padding='full'"),
    (lambda: layers.Conv1D(0, 3), "filters=0"),
    (lambda: layers.Conv1D(4, (3, 3)), r"kernel_size=\(3, 3\)"),
    (lambda: layers.Conv1D(4, 3, strides=2, dilation_rate=2), "dilation_rate"),
    (lambda: layers.Conv1D(5, 3, groups=2), "groups=2"),
    (lambda: layers.Conv1DTranspose(4, 3, padding="causal"), "padding='causal'"),
    (lambda: layers.Conv1DTranspose(4, 3, strides=2, output_padding=2), "output_padding"),
    (lambda: layers.MaxPooling1D(0), "pool_size=0"),
    (lambda: layers.AveragePooling1D(2, padding="causal"), "padding='causal'"),
    (lambda: layers.UpSampling1D(0), "size=0"),
    (lambda: layers.ZeroPadding1D(-1), "padding=-1"),
    (lambda: layers.Cropping1D((1, 2, 3)), r"cropping=\(1, 2, 3\)"),
])
def test_bad_arguments_quote_the_value(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_pool_size_defaults_as_in_keras():
    assert layers.MaxPooling1D().pool_size == (2,)
    with pytest.raises(TypeError, match="pool_size"):
        layers.AveragePooling1D()


def test_up_sampling1d_size_must_be_an_int():
    with pytest.raises(TypeError, match="size"):
        layers.UpSampling1D(2.0)


@pytest.mark.parametrize("layer,shape,match", [
    (layers.Conv1D(4, 3), (2, 5, 5, 3), "expected ndim=3, found ndim=4"),
    (layers.Conv1D(4, 6), (2, 5, 3), "kernel_size=\\(6,\\)"),
    (layers.Conv1D(4, 3, dilation_rate=3), (2, 5, 3), "dilated to 7"),
    (layers.MaxPooling1D(4), (2, 3, 3), "pool_size"),
    (layers.GlobalAveragePooling1D(), (2, 3), "expected ndim=3"),
    (layers.Cropping1D((2, 2)), (2, 4, 3), "smaller than the input length"),
    (layers.UpSampling1D(), (2, 4), "expected ndim=3"),
])
def test_bad_inputs_name_the_layer(layer, shape, match):
    with pytest.raises(ValueError, match=match):
        layer(np.zeros(shape, "float32"))


def test_conv1d_refuses_a_different_channel_count_after_build():
    layer = layers.Conv1D(2, 3)
    layer(np.zeros((1, 5, 3), "float32"))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        layer(np.zeros((1, 5, 4), "float32"))
