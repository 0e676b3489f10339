"""The reference 2-D convolution: im2col and one matrix product, written to be read.

`minikeras.config.set_kernels("reference")` makes Conv2D run these functions; by default the
fast ones (conv_fast.py) run, and tests/test_kernels_agree.py checks the two agree.

Notation (NHWC, Keras's kernel layout):
    x:      (batch, height, width, in_channels)
    kernel: (kh, kw, cg, filters)           cg = in_channels // groups
    out:    (batch, out_h, out_w, filters)

    out[n, y, x, f] = sum_{i, j, c} xpad[n, y*sh + i*dh, x*sw + j*dw, g(f)*cg + c]
                                    * kernel[i, j, c, f]

with xpad the zero-padded input and g(f) the group of filter f. Gathering every receptive
field into one row of a matrix `cols` turns the sum into a matrix product, out = cols @ W.
"""

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts


def im2col(xpad, kernel_size, strides, dilation, out_hw):
    """Every receptive field of xpad as one row: (batch, out_h, out_w, kh, kw, channels)."""
    (kh, kw), (sh, sw), (dh, dw), (out_h, out_w) = kernel_size, strides, dilation, out_hw
    span = ((kh - 1) * dh + 1, (kw - 1) * dw + 1)           # the dilated window
    windows = sliding_window_view(xpad, span, axis=(1, 2))   # (batch, H', W', c, span_h, span_w)
    windows = windows[:, : (out_h - 1) * sh + 1 : sh, : (out_w - 1) * sw + 1 : sw, :, ::dh, ::dw]
    return windows.transpose(0, 1, 2, 4, 5, 3)               # (batch, out_h, out_w, kh, kw, c)


def conv2d_forward(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   bias=None):
    """out = conv(x, kernel) + bias; returns (out, cache). Shapes in the module docstring."""
    batch, height, width, in_channels = x.shape
    kh, kw, cg, filters = kernel.shape
    out_h = conv_output_length(height, kh, strides[0], padding, dilation_rate[0])
    out_w = conv_output_length(width, kw, strides[1], padding, dilation_rate[1])
    (top, bottom), (left, right) = pad_amounts(height, width, (kh, kw), strides, padding,
                                               dilation_rate)
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    cols = im2col(xpad, (kh, kw), strides, dilation_rate, (out_h, out_w))
    fg = filters // groups                                # filters per group
    out = np.empty((batch, out_h, out_w, filters), dtype=x.dtype)
    for g in range(groups):                               # groups=1: a single product
        cols_g = cols[..., g * cg : (g + 1) * cg].reshape(-1, kh * kw * cg)  # (rows, kh*kw*cg)
        w_g = kernel[..., g * fg : (g + 1) * fg].reshape(-1, fg)             # (kh*kw*cg, fg)
        out[..., g * fg : (g + 1) * fg] = (cols_g @ w_g).reshape(batch, out_h, out_w, fg)
    if bias is not None:
        out += bias
    cache = (cols, kernel, x.shape, (top, left), strides, dilation_rate, groups, bias is not None)
    return out, cache


def conv2d_backward(dout, cache, need_dx=True):
    """(dx, dkernel, dbias) from dout (batch, out_h, out_w, filters); dx is None if not
    need_dx, dbias None if the forward pass had no bias.

        dW    = cols.T @ dout          (kh*kw*cg, filters)   per group
        db    = sum of dout            (filters,)            over batch, rows and columns
        dcols = dout @ W.T             (rows, kh*kw*cg)      then added back where each
                                                             receptive field came from
    """
    cols, kernel, x_shape, (top, left), strides, dilation_rate, groups, has_bias = cache
    batch, height, width, in_channels = x_shape
    kh, kw, cg, filters = kernel.shape
    out_hw = dout.shape[1:3]
    fg = filters // groups
    dkernel = np.empty_like(kernel)
    dcols = np.empty(cols.shape, dtype=dout.dtype)        # (batch, out_h, out_w, kh, kw, c)
    for g in range(groups):
        cols_g = cols[..., g * cg : (g + 1) * cg].reshape(-1, kh * kw * cg)
        dout_g = dout[..., g * fg : (g + 1) * fg].reshape(-1, fg)            # (rows, fg)
        w_g = kernel[..., g * fg : (g + 1) * fg].reshape(-1, fg)
        dkernel[..., g * fg : (g + 1) * fg] = (cols_g.T @ dout_g).reshape(kh, kw, cg, fg)
        dcols[..., g * cg : (g + 1) * cg] = (dout_g @ w_g.T).reshape(*dout.shape[:3], kh, kw, cg)
    dbias = conv2d_bias_gradient(dout) if has_bias else None
    if not need_dx:
        return None, dkernel, dbias
    # col2im: each receptive field's gradient goes back to the pixels it was read from.
    padded_h = (out_hw[0] - 1) * strides[0] + (kh - 1) * dilation_rate[0] + 1
    padded_w = (out_hw[1] - 1) * strides[1] + (kw - 1) * dilation_rate[1] + 1
    dxpad = np.zeros((batch, max(padded_h, top + height), max(padded_w, left + width),
                      in_channels), dtype=dout.dtype)
    for i in range(kh):
        for j in range(kw):
            dxpad[offset_slices(i, j, strides, dilation_rate, out_hw)] += dcols[:, :, :, i, j]
    return dxpad[:, top : top + height, left : left + width].copy(), dkernel, dbias


def conv2d_bias_gradient(dout):
    """db = sum of dout over batch, rows and columns: (filters,)."""
    return dout.sum(axis=(0, 1, 2))


__all__ = ["conv2d_backward", "conv2d_bias_gradient", "conv2d_forward", "im2col"]
