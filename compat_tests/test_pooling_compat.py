"""minikeras's pooling against TensorFlow/Keras: outputs and input gradients (ties included)."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from minikeras.kernels.pooling import pool2d_backward, pool2d_forward  # noqa: E402
from minikeras.layers.average_pooling2d import AveragePooling2D  # noqa: E402
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D  # noqa: E402
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D  # noqa: E402
from minikeras.layers.max_pooling2d import MaxPooling2D  # noqa: E402
from minikeras.layers.zero_padding2d import ZeroPadding2D  # noqa: E402


def tf_pool_with_gradient(x, dout, pool_size, strides, padding, mode):
    pool = tf.nn.max_pool2d if mode == "max" else tf.nn.avg_pool2d
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = pool(x, pool_size, strides, padding.upper())
        loss = tf.reduce_sum(out * dout)
    return out.numpy(), tape.gradient(loss, x).numpy()


POOL_GRID = list(itertools.product(
    [(1, 1), (2, 2), (3, 3), (2, 3), (4, 1)], [None, (1, 1), (2, 2), (3, 3), (1, 2)],
    ["valid", "same"],
))


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool_size,strides,padding", POOL_GRID)
def test_pool2d_ops_match_tensorflow(pool_size, strides, padding, mode):
    rng = np.random.default_rng(11)
    # the second shape is tiled exactly by 2x2 windows, the first by none
    for shape, ties in [((2, 7, 9, 3), False), ((2, 8, 6, 2), True)]:
        x = rng.standard_normal(shape).astype(np.float32)
        if ties:  # many equal maxima inside windows
            x = np.round(x)
        out, cache = pool2d_forward(x, pool_size, strides, padding, mode)
        dout = rng.standard_normal(out.shape).astype(np.float32)
        dx = pool2d_backward(dout, cache)
        tf_out, tf_dx = tf_pool_with_gradient(
            x, dout, pool_size, pool_size if strides is None else strides, padding, mode
        )
        assert out.dtype == dx.dtype == np.float32
        np.testing.assert_allclose(out, tf_out, rtol=1e-6, atol=1e-6)
        np.testing.assert_allclose(dx, tf_dx, rtol=1e-6, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# The layers against their Keras counterparts
# ----------------------------------------------------------------------------------------------


OURS = {
    "MaxPooling2D": MaxPooling2D,
    "AveragePooling2D": AveragePooling2D,
    "GlobalAveragePooling2D": GlobalAveragePooling2D,
    "GlobalMaxPooling2D": GlobalMaxPooling2D,
    "ZeroPadding2D": ZeroPadding2D,
}


def compare_layer(name, kwargs, shape, ties=False, seed=0):
    """Output, output shape and input gradient of minikeras.layers.<name> vs keras.layers.<name>."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(shape).astype(np.float32)
    if ties:
        x = np.round(x)
    reference = getattr(keras.layers, name)(**kwargs)
    ours = OURS[name](**kwargs)
    out, cache = ours.forward(x)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx, grads = ours.backward(dout, cache)
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        ref_out = reference(xt)
        loss = tf.reduce_sum(ref_out * dout)
    ref_dx = tape.gradient(loss, xt).numpy()
    assert grads == []
    assert ours.compute_output_shape((None,) + shape[1:]) == tuple(
        reference.compute_output_shape((None,) + shape[1:]))
    assert out.shape == tuple(ref_out.shape)
    np.testing.assert_allclose(out, ref_out.numpy(), rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-6, atol=1e-6)
    assert out.dtype == dx.dtype == np.float32
    config, ref_config = ours.get_config(), reference.get_config()
    assert list(config) == list(ref_config)
    for key in config:
        if key not in ("name", "dtype"):
            assert config[key] == ref_config[key], key


LAYER_GRID = [
    (name, dict(pool_size=p, strides=s, padding=pad, data_format=f))
    for name, (p, s), pad, f in itertools.product(
        ["MaxPooling2D", "AveragePooling2D"],
        [(2, None), (3, None), ((2, 3), None), (3, 1), (2, (1, 2)), ((3, 1), 2)],
        ["valid", "same"], ["channels_last", "channels_first"])
]


@pytest.mark.parametrize("name,kwargs", LAYER_GRID, ids=[str(i) for i in range(len(LAYER_GRID))])
def test_pooling_layer_matches_keras(name, kwargs):
    shape = (2, 3, 7, 9) if kwargs["data_format"] == "channels_first" else (2, 7, 9, 3)
    compare_layer(name, kwargs, shape)
    compare_layer(name, kwargs, shape, ties=True, seed=1)


def test_max_pooling_default_arguments_match_keras():
    compare_layer("MaxPooling2D", {}, (2, 6, 5, 3), ties=True)


@pytest.mark.parametrize("name", ["GlobalAveragePooling2D", "GlobalMaxPooling2D"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("keepdims", [False, True])
def test_global_pooling_layer_matches_keras(name, data_format, keepdims):
    kwargs = dict(data_format=data_format, keepdims=keepdims)
    compare_layer(name, kwargs, (2, 5, 4, 3))
    compare_layer(name, kwargs, (2, 5, 4, 3), ties=True)  # tied maxima share the gradient


@pytest.mark.parametrize("padding", [1, (2, 0), ((1, 2), (0, 3))])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_zero_padding_layer_matches_keras(padding, data_format):
    compare_layer("ZeroPadding2D", dict(padding=padding, data_format=data_format), (2, 3, 4, 5))
