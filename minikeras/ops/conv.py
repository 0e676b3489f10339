"""2-D convolution (cross-correlation, as in Keras) on NHWC arrays, forward and backward.

Notation used throughout:
    x:      (batch, height, width, in_channels)
    kernel: (kh, kw, in_channels // groups, filters)      -- Keras's layout
    out:    (batch, out_height, out_width, filters)

    out[n, y, x, f] = sum_{i, j, c} xpad[n, y*sh + i*dh, x*sw + j*dw, g(f)*cg + c]
                                    * kernel[i, j, c, f]

where xpad is x zero-padded as TensorFlow pads it, g(f) is the group of filter f and cg is the
number of input channels per group.

The computation is "im2col": gather every receptive field into one row of a matrix `cols`
(batch*out_height*out_width, kh*kw*cg) and do one matrix product per group.  The backward pass
reuses `cols` for the kernel gradient (one GEMM), and builds the input gradient with one GEMM
per kernel offset whose result is added into a strided slice of the input gradient (for a fixed
offset the slices never overlap, so no np.add.at is needed).
"""

import numpy as np
from numpy.lib.stride_tricks import as_strided


def conv_output_length(length, window, stride, padding, dilation=1):
    """Output length of a convolution/pooling along one axis, as TensorFlow computes it.

    "valid": floor((length - effective_window) / stride) + 1  (0 or less means no output).
    "same":  ceil(length / stride).
    """
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return -(-length // stride)
    if padding == "valid":
        return (length - effective) // stride + 1
    raise ValueError(f"Expected padding to be 'valid' or 'same'. Received: padding={padding!r}")


def same_padding_amounts(length, window, stride, dilation=1):
    """(before, after) zero padding TensorFlow uses for "same": the odd element goes after."""
    effective = (window - 1) * dilation + 1
    out_length = -(-length // stride)
    total = max((out_length - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def pad_amounts(height, width, window, strides, padding, dilation=(1, 1)):
    """((top, bottom), (left, right)) padding for a 2-D window under `padding`."""
    if padding == "valid":
        return (0, 0), (0, 0)
    return (
        same_padding_amounts(height, window[0], strides[0], dilation[0]),
        same_padding_amounts(width, window[1], strides[1], dilation[1]),
    )


def _window_view(xpad, window, strides, dilation, out_hw):
    """Read-only view (batch, out_h, out_w, kh, kw, channels) of every receptive field.

    Nothing is copied: the view steps through xpad with the stride of the convolution for the
    output axes and with the dilation for the window axes.
    """
    sn, sh, sw, sc = xpad.strides
    shape = (xpad.shape[0], out_hw[0], out_hw[1], window[0], window[1], xpad.shape[3])
    view_strides = (
        sn,
        sh * strides[0],
        sw * strides[1],
        sh * dilation[0],
        sw * dilation[1],
        sc,
    )
    return as_strided(xpad, shape=shape, strides=view_strides, writeable=False)


def _im2col(windows, rows):
    """The (rows, kh*kw*channels) matrix of receptive fields, one output pixel per row.

    windows: (batch, out_h, out_w, kh, kw, channels) view from _window_view.

    Copying the strided view lays each receptive field out as one contiguous row. With a
    single input channel (a first layer on grey images) a row is only kh*kw numbers long and
    that copy crawls; the transposed matrix, filled one kernel offset at a time with a whole
    shifted image, takes a fifth of the time. It is returned as its transpose (a view), which
    BLAS multiplies as fast.
    """
    batch, out_h, out_w, kh, kw, channels = windows.shape
    if channels > 1:
        return windows.reshape(rows, kh * kw * channels)
    cols_t = np.empty((kh, kw, batch, out_h, out_w), dtype=windows.dtype)
    for i in range(kh):
        for j in range(kw):
            cols_t[i, j] = windows[:, :, :, i, j, 0]
    return cols_t.reshape(kh * kw, rows).T


def _offset_slices(i, j, strides, dilation, out_hw):
    """Index of the input pixels that kernel offset (i, j) touches, for every output pixel."""
    top = i * dilation[0]
    left = j * dilation[1]
    return (
        slice(None),
        slice(top, top + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
        slice(left, left + strides[1] * (out_hw[1] - 1) + 1, strides[1]),
    )


def _pad_input(x, pads):
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    return np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)))


def conv2d_forward(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1):
    """Convolve NHWC input `x` with a Keras-layout `kernel`; no bias, no activation.

    Args:
        x: (batch, height, width, in_channels) array.
        kernel: (kh, kw, in_channels // groups, filters) array.
        strides, dilation_rate: pairs of positive ints.
        padding: "valid" or "same" (TensorFlow's split: the extra row/column goes bottom/right).
        groups: number of channel groups; in_channels and filters must both divide by it.

    Returns:
        out: (batch, out_height, out_width, filters), dtype of `x`.
        cache: what conv2d_backward needs (the im2col matrix, the kernel and the geometry).
    """
    batch, height, width, in_channels = x.shape
    kh, kw, group_channels, filters = kernel.shape
    strides = tuple(strides)
    dilation_rate = tuple(dilation_rate)
    if group_channels * groups != in_channels or filters % groups:
        raise ValueError(
            f"Kernel shape {kernel.shape} with groups={groups} does not fit input shape {x.shape}."
        )
    out_h = conv_output_length(height, kh, strides[0], padding, dilation_rate[0])
    out_w = conv_output_length(width, kw, strides[1], padding, dilation_rate[1])
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"Kernel {(kh, kw)} with dilation {dilation_rate} is larger than the input {x.shape} "
            f"with padding={padding!r}."
        )
    pads = pad_amounts(height, width, (kh, kw), strides, padding, dilation_rate)
    kernel = kernel.astype(x.dtype, copy=False)
    xpad = _pad_input(x, pads)
    windows = _window_view(xpad, (kh, kw), strides, dilation_rate, (out_h, out_w))
    rows = batch * out_h * out_w

    group_filters = filters // groups
    cols = []  # one (rows, kh*kw*cg) matrix per group
    outs = []  # one (rows, filters // groups) product per group
    for g in range(groups):
        channels = slice(g * group_channels, (g + 1) * group_channels)
        col = _im2col(windows[..., channels], rows)
        w_mat = kernel[..., g * group_filters : (g + 1) * group_filters].reshape(-1, group_filters)
        outs.append(col @ w_mat)                  # (rows, filters_g)
        cols.append(col)
    out = outs[0] if groups == 1 else np.concatenate(outs, axis=1)
    out = out.reshape(batch, out_h, out_w, filters)
    cache = {
        "cols": cols,  # im2col matrices: the kernel gradient is cols.T @ dout
        "kernel": kernel,  # the input gradient is dout @ kernel.T, scattered back
        "x_shape": x.shape,
        "pads": pads,
        "strides": strides,
        "dilation_rate": dilation_rate,
        "groups": groups,
    }
    return out, cache


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward.

    Args:
        dout: (batch, out_height, out_width, filters) gradient of the loss w.r.t. `out`.
        cache: from conv2d_forward.
        need_dx: False skips the input gradient (a model's first layer has no use for it).

    Returns:
        dx: (batch, height, width, in_channels) or None when need_dx is False,
        dkernel: (kh, kw, in_channels // groups, filters).
    """
    kernel = cache["kernel"]
    batch, height, width, in_channels = cache["x_shape"]
    (top, bottom), (left, right) = cache["pads"]
    strides, dilation_rate, groups = cache["strides"], cache["dilation_rate"], cache["groups"]
    kh, kw, group_channels, filters = kernel.shape
    _, out_h, out_w, _ = dout.shape
    group_filters = filters // groups
    dout2d = np.ascontiguousarray(dout, dtype=kernel.dtype).reshape(-1, filters)

    dkernel = np.empty_like(kernel)
    dxpad = None
    if need_dx:
        dxpad = np.zeros(
            (batch, height + top + bottom, width + left + right, in_channels), dtype=kernel.dtype
        )
    for g, col in enumerate(cache["cols"]):
        filt = slice(g * group_filters, (g + 1) * group_filters)
        dout_g = dout2d[:, filt]
        # dW = cols.T @ dout                           (kh*kw*cg, filters_g)
        dkernel[..., filt] = (col.T @ dout_g).reshape(kh, kw, group_channels, group_filters)
        if not need_dx:
            continue
        # dx: for kernel offset (i, j) every output pixel sends dout @ kernel[i, j].T back to
        # the input pixel it read at that offset.  One GEMM per offset gives a contiguous
        # (rows, cg) block, which adds into a strided slice of dx far faster than slicing a
        # single big (rows, kh*kw*cg) column-gradient matrix would.
        channels = slice(g * group_channels, (g + 1) * group_channels)
        for i in range(kh):
            for j in range(kw):
                _, rows, columns = _offset_slices(i, j, strides, dilation_rate, (out_h, out_w))
                dpatch = dout_g @ kernel[i, j, :, filt].T  # (batch*out_h*out_w, cg)
                dxpad[:, rows, columns, channels] += dpatch.reshape(
                    batch, out_h, out_w, group_channels
                )
    dx = dxpad
    if need_dx and (top or bottom or left or right):
        dx = np.ascontiguousarray(dxpad[:, top : top + height, left : left + width, :])
    return dx, dkernel


def conv2d_flops(x_shape, kernel_shape, out_shape):
    """Multiply-add FLOPs (2 per MAC) of one conv2d_forward; the backward costs twice that."""
    batch, out_h, out_w, filters = out_shape
    kh, kw, group_channels, _ = kernel_shape
    return 2 * batch * out_h * out_w * filters * kh * kw * group_channels


__all__ = [
    "conv2d_backward",
    "conv2d_flops",
    "conv2d_forward",
    "conv_output_length",
    "pad_amounts",
    "same_padding_amounts",
]
