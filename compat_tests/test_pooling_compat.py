"""minikeras's pooling against TensorFlow/Keras: outputs and input gradients (ties included)."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from minikeras.ops.pooling import pool2d_backward, pool2d_forward  # noqa: E402


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
    for shape, ties in [((2, 7, 9, 3), False), ((2, 8, 5, 2), True)]:
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
