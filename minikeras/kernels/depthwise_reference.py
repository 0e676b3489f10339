"""The reference depthwise 2-D convolution: a multiply-add per kernel offset, written to be
read. `minikeras.config.set_kernels("reference")` makes DepthwiseConv2D and SeparableConv2D
run it; by default depthwise_fast.py runs, and tests/test_kernels_agree.py checks the two
agree.

With kernel (kh, kw, C, M), output channel c * M + m (TensorFlow's order) is

    out[n, y, x, c, m] = sum_{i, j} xpad[n, y*sh + i*dh, x*sw + j*dw, c] * kernel[i, j, c, m]

a grouped convolution with one group per channel. A grouped GEMM per channel would multiply
matrices only kh*kw wide; instead the loops run over the kh*kw kernel offsets, each one
multiply-add over the whole batch (for a fixed offset the strided slices of xpad never repeat
a pixel, so the backward's slice += needs no np.add.at):

    out        += xpad[offset slice][..., None] * kernel[i, j]        (n, oh, ow, C, M)
    dkernel[i, j] = sum over n, y, x of xpad[offset slice][..., None] * dout
    dxpad[offset slice] += sum over m of dout * kernel[i, j]
"""

import numpy as np

from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts


def depthwise_forward(x, depthwise_kernel, strides, padding, dilation_rate, bias=None):
    """x: (batch, h, w, C), depthwise_kernel: (kh, kw, C, M), bias: (C * M,) or None.

    Returns (out, cache), out: (batch, out_h, out_w, C * M).
    """
    batch, height, width, channels = x.shape
    kh, kw, _, multiplier = depthwise_kernel.shape
    out_hw = tuple(conv_output_length(length, k, s, padding, d) for length, k, s, d in
                   zip((height, width), (kh, kw), strides, dilation_rate, strict=True))
    (top, bottom), (left, right) = pad_amounts(height, width, (kh, kw), strides, padding,
                                               dilation_rate)
    xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))
    kernel = depthwise_kernel.astype(x.dtype, copy=False)
    out = np.zeros((batch, *out_hw, channels, multiplier), dtype=x.dtype)
    for i in range(kh):
        for j in range(kw):
            _, rows, cols = offset_slices(i, j, strides, dilation_rate, out_hw)
            out += xpad[:, rows, cols, :, None] * kernel[i, j]
    out = out.reshape(batch, *out_hw, channels * multiplier)
    if bias is not None:
        out += bias.astype(x.dtype, copy=False)
    cache = {"xpad": xpad, "kernel": kernel, "pads": (top, left), "x_shape": x.shape,
             "strides": strides, "dilation_rate": dilation_rate}
    return out, cache


def depthwise_backward(dout, cache, kernel_shape, need_dx=True):
    """dout: (batch, out_h, out_w, C * M). Returns (dx or None, dkernel (kh, kw, C, M))."""
    xpad, kernel = cache["xpad"], cache["kernel"]
    strides, dilation_rate = cache["strides"], cache["dilation_rate"]
    kh, kw, channels, multiplier = kernel_shape
    batch, out_h, out_w, _ = dout.shape
    dout = dout.reshape(batch * out_h * out_w, channels, multiplier)       # (P, C, M)
    dkernel = np.empty(kernel_shape, dtype=kernel.dtype)
    dxpad = np.zeros_like(xpad) if need_dx else None
    for i in range(kh):
        for j in range(kw):
            _, rows, cols = offset_slices(i, j, strides, dilation_rate, (out_h, out_w))
            window = xpad[:, rows, cols].reshape(-1, channels)             # (P, C)
            dkernel[i, j] = np.einsum("pc,pcm->cm", window, dout)
            if need_dx:
                dwindow = np.einsum("pcm,cm->pc", dout, kernel[i, j])
                dxpad[:, rows, cols] += dwindow.reshape(batch, out_h, out_w, channels)
    dx = None
    if need_dx:
        top, left = cache["pads"]
        _, height, width, _ = cache["x_shape"]
        dx = np.ascontiguousarray(dxpad[:, top:top + height, left:left + width])
    return dx, dkernel


__all__ = ["depthwise_backward", "depthwise_forward"]
