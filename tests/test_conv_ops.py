"""Unit tests of minikeras.kernels.conv: shapes, TensorFlow padding, float64 finite differences."""

import itertools

import numpy as np
import pytest
from gradcheck import numerical_gradient

from minikeras.kernels.conv import (
    conv2d_backward,
    conv2d_forward,
    conv_output_length,
    same_padding_amounts,
)


def naive_conv2d(x, kernel, strides, padding, dilation, groups):
    """Reference convolution written directly from the definition (slow, loops everywhere)."""
    batch, height, width, _ = x.shape
    kh, kw, cg, filters = kernel.shape
    out_h = conv_output_length(height, kh, strides[0], padding, dilation[0])
    out_w = conv_output_length(width, kw, strides[1], padding, dilation[1])
    if padding == "same":
        top, _ = same_padding_amounts(height, kh, strides[0], dilation[0])
        left, _ = same_padding_amounts(width, kw, strides[1], dilation[1])
    else:
        top = left = 0
    fg = filters // groups
    out = np.zeros((batch, out_h, out_w, filters))
    for y, xx, f in itertools.product(range(out_h), range(out_w), range(filters)):
        g = f // fg
        for i, j, c in itertools.product(range(kh), range(kw), range(cg)):
            row = y * strides[0] + i * dilation[0] - top
            col = xx * strides[1] + j * dilation[1] - left
            if 0 <= row < height and 0 <= col < width:
                out[:, y, xx, f] += x[:, row, col, g * cg + c] * kernel[i, j, c, f]
    return out


CONFIGS = [
    # kernel, strides, padding, dilation, groups, input (h, w)
    ((1, 1), (1, 1), "valid", (1, 1), 1, (5, 6)),
    ((2, 2), (1, 1), "same", (1, 1), 1, (5, 6)),
    ((3, 3), (2, 2), "same", (1, 1), 1, (7, 6)),
    ((3, 3), (3, 3), "valid", (1, 1), 1, (7, 8)),
    ((5, 5), (1, 1), "same", (1, 1), 1, (5, 5)),
    ((2, 3), (1, 2), "same", (1, 1), 1, (6, 7)),
    ((3, 1), (2, 1), "valid", (1, 1), 2, (7, 5)),
    ((3, 3), (1, 1), "valid", (2, 2), 1, (7, 8)),
    ((2, 3), (1, 1), "same", (2, 1), 2, (5, 6)),
    ((3, 3), (1, 1), "same", (1, 1), 4, (4, 5)),
]


@pytest.mark.parametrize("kernel_size,strides,padding,dilation,groups,hw", CONFIGS)
def test_forward_matches_definition(kernel_size, strides, padding, dilation, groups, hw):
    rng = np.random.default_rng(1)
    x = rng.standard_normal((2, *hw, 4))
    kernel = rng.standard_normal((*kernel_size, 4 // groups, 4))
    out, _ = conv2d_forward(x, kernel, strides, padding, dilation, groups)
    expected = naive_conv2d(x, kernel, strides, padding, dilation, groups)
    np.testing.assert_allclose(out, expected, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("kernel_size,strides,padding,dilation,groups,hw", CONFIGS)
def test_gradients_match_finite_differences(kernel_size, strides, padding, dilation, groups, hw):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((2, *hw, 4))
    kernel = rng.standard_normal((*kernel_size, 4 // groups, 4))
    out, cache = conv2d_forward(x, kernel, strides, padding, dilation, groups)
    weights = rng.standard_normal(out.shape)  # loss = sum(out * weights), so dout = weights

    def loss(_=None):  # numerical_gradient passes the array it nudges
        return float(np.sum(conv2d_forward(x, kernel, strides, padding, dilation, groups)[0]
                            * weights))

    dout = weights.copy()
    dx, dkernel, dbias = conv2d_backward(dout, cache)
    assert dbias is None                           # no bias given to the forward pass
    np.testing.assert_array_equal(dout, weights)  # the incoming gradient is left untouched
    np.testing.assert_allclose(dx, numerical_gradient(loss, x), rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(dkernel, numerical_gradient(loss, kernel), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize(
    "length,window,stride,dilation,expected",
    [(5, 3, 1, 1, (1, 1)), (6, 3, 2, 1, (0, 1)), (7, 3, 2, 1, (1, 1)), (5, 2, 1, 1, (0, 1)),
     (5, 3, 1, 2, (2, 2)), (4, 1, 3, 1, (0, 0)), (8, 5, 3, 1, (1, 2))],
)
def test_same_padding_puts_the_extra_pixel_after(length, window, stride, dilation, expected):
    assert same_padding_amounts(length, window, stride, dilation) == expected


def test_output_lengths():
    assert conv_output_length(28, 3, 1, "valid") == 26
    assert conv_output_length(28, 3, 2, "valid") == 13
    assert conv_output_length(28, 3, 2, "same") == 14
    assert conv_output_length(7, 3, 1, "valid", dilation=3) == 1
    assert conv_output_length(7, 3, 1, "valid", dilation=4) == -1
    with pytest.raises(ValueError, match="padding='full'"):
        conv_output_length(7, 3, 1, "full")


def test_float32_stays_float32_and_contiguous():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((3, 9, 8, 6)).astype(np.float32)
    kernel = rng.standard_normal((3, 2, 3, 4)).astype(np.float32)
    out, cache = conv2d_forward(x, kernel, (2, 1), "same", (1, 1), 2)
    assert out.dtype == np.float32 and out.shape == (3, 5, 8, 4)
    dx, dkernel, _ = conv2d_backward(np.ones(out.shape, np.float32), cache)
    assert dx.dtype == np.float32 and dkernel.dtype == np.float32
    assert dx.shape == x.shape and dkernel.shape == kernel.shape
    assert dx.flags.c_contiguous and dkernel.flags.c_contiguous


def test_window_larger_than_input_raises():
    with pytest.raises(ValueError, match="larger than the input"):
        conv2d_forward(np.zeros((1, 2, 5, 1)), np.zeros((3, 3, 1, 1)))
    # "same" padding always has an output
    out, _ = conv2d_forward(np.zeros((1, 2, 5, 1)), np.zeros((3, 3, 1, 1)), padding="same")
    assert out.shape == (1, 2, 5, 1)


def test_group_mismatch_raises():
    with pytest.raises(ValueError, match="groups=2"):
        conv2d_forward(np.zeros((1, 4, 4, 3)), np.zeros((3, 3, 1, 4)), groups=2)
