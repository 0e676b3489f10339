"""minikeras's Conv2D against TensorFlow/Keras: outputs, kernel gradients and input gradients."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from minikeras.ops.conv import conv2d_backward, conv2d_forward  # noqa: E402


def tf_conv_with_gradients(x, kernel, dout, strides, padding, dilation):
    """TensorFlow's conv2d output and the gradients of sum(out * dout) w.r.t. x and kernel.

    Grouped convolutions (kernel depth < input depth) have no CPU gradient kernel in
    TensorFlow; Keras compiles them with XLA, and so does this helper.
    """

    def run(x, kernel, dout):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            out = tf.nn.convolution(x, kernel, strides, padding.upper(), dilations=dilation)
            loss = tf.reduce_sum(out * dout)
        dx, dkernel = tape.gradient(loss, [x, kernel])
        return out, dx, dkernel

    if kernel.shape[2] != x.shape[3]:
        run = tf.function(run, jit_compile=True)
    return [t.numpy() for t in run(tf.constant(x), tf.constant(kernel), tf.constant(dout))]


KERNELS = [(1, 1), (2, 2), (3, 3), (5, 5), (2, 3), (3, 1)]
STRIDES = [(1, 1), (2, 2), (3, 3), (1, 2)]
OPS_GRID = [
    (k, s, p, (1, 1)) for k, s, p in itertools.product(KERNELS, STRIDES, ["valid", "same"])
] + [(k, (1, 1), p, d) for k, p, d in itertools.product(
    [(2, 2), (3, 3), (2, 3)], ["valid", "same"], [(2, 2), (1, 3)])]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel_size,strides,padding,dilation", OPS_GRID)
def test_conv2d_ops_match_tensorflow(kernel_size, strides, padding, dilation, dtype):
    rng = np.random.default_rng(hash((kernel_size, strides, padding, dilation)) % 2**32)
    x = rng.standard_normal((2, 9, 8, 3)).astype(dtype)  # odd and even sizes
    kernel = rng.standard_normal((*kernel_size, 3, 4)).astype(dtype)
    out, cache = conv2d_forward(x, kernel, strides, padding, dilation)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dkernel = conv2d_backward(dout, cache)
    tf_out, tf_dx, tf_dkernel = tf_conv_with_gradients(x, kernel, dout, strides, padding,
                                                       dilation)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert out.dtype == dx.dtype == dkernel.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, tf_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, tf_dx, rtol=tol, atol=tol)
    np.testing.assert_allclose(dkernel, tf_dkernel, rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "kernel_size,strides,padding,dilation,groups",
    [((3, 3), (1, 1), "same", (1, 1), 2), ((2, 3), (2, 1), "valid", (1, 1), 3),
     ((3, 3), (1, 1), "valid", (2, 1), 6), ((1, 1), (2, 2), "same", (1, 1), 2)],
)
def test_grouped_conv2d_ops_match_tensorflow(kernel_size, strides, padding, dilation, groups):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 8, 6))
    kernel = rng.standard_normal((*kernel_size, 6 // groups, 6))
    out, cache = conv2d_forward(x, kernel, strides, padding, dilation, groups)
    dout = rng.standard_normal(out.shape)
    dx, dkernel = conv2d_backward(dout, cache)
    tf_out, tf_dx, tf_dkernel = tf_conv_with_gradients(x, kernel, dout, strides, padding,
                                                       dilation)
    np.testing.assert_allclose(out, tf_out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tf_dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dkernel, tf_dkernel, rtol=1e-10, atol=1e-10)
