"""Unit tests of minikeras.kernels.pooling: padding, TensorFlow's tie rule, finite differences."""

import numpy as np
import pytest
from gradcheck import numerical_gradient

from minikeras.kernels.pooling import pool2d_backward, pool2d_forward

CONFIGS = [
    # pool_size, strides, padding, input (h, w)
    ((2, 2), None, "valid", (6, 7)),
    ((2, 2), None, "valid", (6, 8)),      # windows tile the input exactly
    ((3, 2), (3, 2), "same", (7, 8)),     # tiling the padded input
    ((2, 2), None, "same", (5, 7)),
    ((3, 3), (1, 1), "same", (5, 5)),
    ((3, 3), (2, 2), "valid", (7, 6)),
    ((2, 3), (1, 2), "same", (6, 7)),
    ((3, 1), (3, 1), "valid", (7, 4)),
    ((1, 1), (2, 2), "same", (5, 4)),
]


@pytest.mark.parametrize("mode", ["max", "average"])
@pytest.mark.parametrize("pool_size,strides,padding,hw", CONFIGS)
def test_gradient_matches_finite_differences(mode, pool_size, strides, padding, hw):
    rng = np.random.default_rng(4)
    # distinct values (no ties): max pooling is then differentiable everywhere
    x = rng.permutation(2 * hw[0] * hw[1] * 3).reshape(2, *hw, 3) / 7.0
    out, cache = pool2d_forward(x, pool_size, strides, padding, mode)
    weights = rng.standard_normal(out.shape)

    def loss(_=None):  # numerical_gradient passes the array it nudges
        return float(np.sum(pool2d_forward(x, pool_size, strides, padding, mode)[0] * weights))

    dout = weights.copy()
    dx = pool2d_backward(dout, cache)
    np.testing.assert_array_equal(dout, weights)
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-7)


def test_max_pool_with_negative_inputs_ignores_padding():
    x = -np.arange(1.0, 10.0).reshape(1, 3, 3, 1)
    out, cache = pool2d_forward(x, (2, 2), None, "same", "max")
    np.testing.assert_array_equal(out[0, :, :, 0], [[-1, -3], [-7, -9]])
    dx = pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(dx[0, :, :, 0], [[1, 0, 1], [0, 0, 0], [1, 0, 1]])


def test_average_pool_same_divides_by_real_pixels():
    x = np.ones((1, 3, 3, 2))
    out, cache = pool2d_forward(x, (2, 2), None, "same", "average")
    np.testing.assert_array_equal(out, np.ones((1, 2, 2, 2)))
    dx = pool2d_backward(np.ones_like(out), cache)
    # corner window covers 4 pixels, edge windows 2, the lone corner 1
    np.testing.assert_allclose(dx[0, :, :, 0], [[0.25, 0.25, 0.5], [0.25, 0.25, 0.5],
                                                [0.5, 0.5, 1.0]])


def test_tied_maxima_send_the_gradient_to_the_first_in_row_major_order():
    # Expected arrays were produced by TensorFlow 2.21 (tf.nn.max_pool2d + GradientTape).
    ones = np.ones((1, 4, 4, 1))
    cases = [
        ((2, 2), (2, 2), "valid", [[1, 0, 1, 0], [0, 0, 0, 0], [1, 0, 1, 0], [0, 0, 0, 0]]),
        ((2, 2), (1, 1), "valid", [[1, 1, 1, 0], [1, 1, 1, 0], [1, 1, 1, 0], [0, 0, 0, 0]]),
        ((3, 3), (1, 1), "same", [[4, 2, 2, 0], [2, 1, 1, 0], [2, 1, 1, 0], [0, 0, 0, 0]]),
    ]
    for pool_size, strides, padding, expected in cases:
        out, cache = pool2d_forward(ones, pool_size, strides, padding, "max")
        dx = pool2d_backward(np.ones_like(out), cache)
        np.testing.assert_array_equal(dx[0, :, :, 0], expected)
    x = np.array([[0, 5, 5, 0], [5, 0, 0, 5], [1, 1, 1, 1], [1, 2, 2, 1]], float)
    out, cache = pool2d_forward(x.reshape(1, 4, 4, 1), (2, 2), None, "valid", "max")
    dx = pool2d_backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(
        dx[0, :, :, 0], [[0, 1, 1, 0], [0, 0, 0, 0], [0, 0, 0, 0], [0, 1, 1, 0]]
    )


@pytest.mark.parametrize("mode", ["max", "average"])
def test_float32_stays_float32(mode):
    x = np.random.default_rng(5).standard_normal((2, 7, 5, 3)).astype(np.float32)
    out, cache = pool2d_forward(x, (3, 2), (2, 2), "same", mode)
    assert out.dtype == np.float32 and out.shape == (2, 4, 3, 3)
    dx = pool2d_backward(np.ones_like(out), cache)
    assert dx.dtype == np.float32 and dx.shape == x.shape and dx.flags.c_contiguous


def test_bad_arguments_raise():
    with pytest.raises(ValueError, match="mode='median'"):
        pool2d_forward(np.zeros((1, 4, 4, 1)), mode="median")
    with pytest.raises(ValueError, match="larger than the input"):
        pool2d_forward(np.zeros((1, 2, 4, 1)), (3, 3))
