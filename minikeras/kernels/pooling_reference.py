"""The reference 2-D max and average pooling, written to be read.

`minikeras.config.set_kernels("reference")` makes the pooling layers run these functions;
tests/test_kernels_agree.py checks they agree with the fast ones (pooling_fast.py).

    x:   (batch, height, width, channels)
    out: (batch, out_h, out_w, channels)

Every window is gathered as a (ph*pw)-long axis of a view of the padded input; pooling is a
max or a mean over that axis. Max pooling pads with -inf so padding never wins; average
pooling divides by the number of real (non-padded) pixels, as TensorFlow does.
"""

import numpy as np

from minikeras.kernels.conv_reference import im2col
from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts


def pool2d_forward(x, pool_size=(2, 2), strides=None, padding="valid", mode="max"):
    """Max or average pooling; returns (out, cache). Shapes in the module docstring."""
    batch, height, width, channels = x.shape
    ph, pw = pool_size
    out_hw = (conv_output_length(height, ph, strides[0], padding),
              conv_output_length(width, pw, strides[1], padding))
    (top, bottom), (left, right) = pad_amounts(height, width, pool_size, strides, padding)
    padding_value = -np.inf if mode == "max" else 0
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)),
                  constant_values=padding_value)
    windows = im2col(xpad, pool_size, strides, (1, 1), out_hw)   # (batch, oh, ow, ph, pw, c)
    windows = windows.reshape(batch, *out_hw, ph * pw, channels)
    if mode == "max":
        # argmax keeps the first maximum in row-major order: where TensorFlow sends the gradient
        winner = windows.argmax(axis=3)                          # (batch, oh, ow, c)
        out = np.take_along_axis(windows, winner[:, :, :, None], axis=3)[:, :, :, 0]
        weights = winner
    else:
        real = im2col(np.pad(np.ones((1, height, width, 1), x.dtype),
                             ((0, 0), (top, bottom), (left, right), (0, 0))),
                      pool_size, strides, (1, 1), out_hw)
        counts = real.reshape(*out_hw, ph * pw).sum(axis=-1)[:, :, None]   # (oh, ow, 1)
        out = windows.sum(axis=3) / counts
        weights = counts
    cache = (x.shape, xpad.shape, (top, left), pool_size, strides, mode, weights)
    return out, cache


def pool2d_backward(dout, cache):
    """dx (batch, height, width, channels) from dout (batch, out_h, out_w, channels).

    max:     the whole gradient of a window goes to the pixel that won it;
    average: each real pixel of a window gets dout / (real pixels in the window).
    """
    x_shape, padded_shape, (top, left), (ph, pw), strides, mode, weights = cache
    height, width = x_shape[1:3]
    out_hw = dout.shape[1:3]
    dxpad = np.zeros(padded_shape, dtype=dout.dtype)
    for i in range(ph):
        for j in range(pw):
            if mode == "max":
                share = dout * (weights == i * pw + j)     # only where offset (i, j) won
            else:
                share = dout / weights
            dxpad[offset_slices(i, j, strides, (1, 1), out_hw)] += share
    return dxpad[:, top : top + height, left : left + width].copy()


__all__ = ["pool2d_backward", "pool2d_forward"]
