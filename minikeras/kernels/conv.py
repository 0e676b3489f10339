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

All of it runs on parts of the batch at once (kernels/parallel.py): every image's rows of `cols`,
its output and its input gradient belong to one part, and the kernel gradient is the sum of
the parts' gradients.
"""

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minikeras.kernels import parallel


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


def _new_cols(windows):
    """An empty im2col buffer for `windows` (batch, out_h, out_w, kh, kw, channels).

    The matrix of receptive fields has one row per output pixel and kh*kw*channels columns.
    With several channels it is stored that way, (batch, out_h, out_w, kh, kw, channels):
    copying the strided window view into it lays each receptive field out as one contiguous
    row. With a single input channel (a first layer on grey images) a row is only kh*kw
    numbers long and that copy crawls; the transposed matrix (kh, kw, batch, out_h, out_w),
    filled one kernel offset at a time with a whole shifted image, takes a fifth of the time,
    and BLAS multiplies its transpose as fast.
    """
    batch, out_h, out_w, kh, kw, channels = windows.shape
    if channels > 1:
        return np.empty(windows.shape, dtype=windows.dtype)
    return np.empty((kh, kw, batch, out_h, out_w), dtype=windows.dtype)


def _fill_cols(cols, windows, part):
    """Copies the receptive fields of the images `part` (a batch slice) into `cols`."""
    if cols.ndim == 6:
        cols[part] = windows[part]
        return
    kh, kw = cols.shape[:2]
    for i in range(kh):
        for j in range(kw):
            cols[i, j, part] = windows[part, :, :, i, j, 0]


def _cols_matrix(cols, part):
    """The (rows of `part`, kh*kw*channels) im2col matrix of the images `part`, as a view."""
    if cols.ndim == 6:
        block = cols[part]
        return block.reshape(-1, np.prod(block.shape[3:]))
    kh, kw = cols.shape[:2]
    return cols[:, :, part].reshape(kh * kw, -1).T


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


def conv2d_forward(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   bias=None):
    """Convolve NHWC input `x` with a Keras-layout `kernel`, plus `bias`; no activation.

    Args:
        x: (batch, height, width, in_channels) array.
        kernel: (kh, kw, in_channels // groups, filters) array.
        strides, dilation_rate: pairs of positive ints.
        padding: "valid" or "same" (TensorFlow's split: the extra row/column goes bottom/right).
        groups: number of channel groups; in_channels and filters must both divide by it.
        bias: (filters,) array or None.

    Returns:
        out: (batch, out_height, out_width, filters), dtype of `x`.
        cache: what conv2d_backward needs (the im2col matrices, the kernel and the geometry).

    The batch is cut into parts (parallel.over_batch_parts) that threads convolve at the same
    time, each filling its rows of the im2col matrices and multiplying them.
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

    group_filters = filters // groups
    group_windows = [windows[..., g * group_channels : (g + 1) * group_channels]
                     for g in range(groups)]
    cols = [_new_cols(w) for w in group_windows]  # one im2col matrix per group
    w_mats = [kernel[..., g * group_filters : (g + 1) * group_filters].reshape(-1, group_filters)
              for g in range(groups)]             # (kh*kw*cg, filters_g) each
    out = np.empty((batch, out_h, out_w, filters), dtype=x.dtype)
    if bias is not None:
        # The bias repeated over a whole image, (out_h*out_w*filters,): adding it image by
        # image runs NumPy's inner loop over whole images rather than `filters` numbers at a
        # time (about three times faster on a first layer's output).
        image_bias = np.tile(bias.astype(x.dtype, copy=False), out_h * out_w)

    def convolve(part):
        out_rows = out[part].reshape(-1, filters)                 # (rows of part, filters)
        for g in range(groups):
            _fill_cols(cols[g], group_windows[g], part)
            # out = cols @ W                                   (rows, filters_g)
            np.matmul(_cols_matrix(cols[g], part), w_mats[g],
                      out=out_rows[:, g * group_filters : (g + 1) * group_filters])
        if bias is not None:
            images = out[part].reshape(-1, image_bias.size)
            images += image_bias                  # each thread adds the bias to its own images

    parallel.over_batch_parts(convolve, batch, out.size + sum(c.size for c in cols),
                              parallel.gemm_minimum())
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
    """Gradients of conv2d_forward (the bias gradient is conv2d_bias_gradient(dout)).

    Args:
        dout: (batch, out_height, out_width, filters) gradient of the loss w.r.t. `out`.
        cache: from conv2d_forward.
        need_dx: False skips the input gradient (a model's first layer has no use for it).

    Returns:
        dx: (batch, height, width, in_channels) or None when need_dx is False,
        dkernel: (kh, kw, in_channels // groups, filters).

    Each part of the batch (see conv2d_forward) gives its own kernel gradient, summed at the
    end, and writes the input gradient of its own images.
    """
    kernel = cache["kernel"]
    batch, height, width, in_channels = cache["x_shape"]
    (top, bottom), (left, right) = cache["pads"]
    strides, dilation_rate, groups = cache["strides"], cache["dilation_rate"], cache["groups"]
    cols = cache["cols"]
    kh, kw, group_channels, filters = kernel.shape
    _, out_h, out_w, _ = dout.shape
    group_filters = filters // groups
    dout = np.ascontiguousarray(dout, dtype=kernel.dtype)
    dxpad = None
    if need_dx:
        dxpad = np.empty(
            (batch, height + top + bottom, width + left + right, in_channels), dtype=kernel.dtype
        )

    def gradients(part):
        dout_rows = dout[part].reshape(-1, filters)                # (rows of part, filters)
        dkernel = np.empty_like(kernel)
        if need_dx:
            dxpad[part] = 0
        for g in range(groups):
            filt = slice(g * group_filters, (g + 1) * group_filters)
            dout_g = dout_rows[:, filt]
            # dW = cols.T @ dout                           (kh*kw*cg, filters_g)
            dkernel[..., filt] = (_cols_matrix(cols[g], part).T @ dout_g).reshape(
                kh, kw, group_channels, group_filters)
            if need_dx:
                channels = slice(g * group_channels, (g + 1) * group_channels)
                _scatter_input_gradient(dxpad[part, :, :, channels], dout_g, kernel[..., filt],
                                        strides, dilation_rate, (out_h, out_w))
        return dkernel

    partial_dkernels = parallel.over_batch_parts(
        gradients, batch, dout.size + sum(c.size for c in cols), parallel.gemm_minimum())
    dkernel = functools.reduce(np.add, partial_dkernels)
    dx = dxpad
    if need_dx and (top or bottom or left or right):
        dx = np.ascontiguousarray(dxpad[:, top : top + height, left : left + width, :])
    return dx, dkernel


def _scatter_input_gradient(dxpad, dout_rows, kernel, strides, dilation_rate, out_hw):
    """dxpad += the input gradient of one group, for some images.

    Args:
        dxpad: (images, padded height, padded width, cg) view to add into.
        dout_rows: (images*out_h*out_w, filters_g) output gradient.
        kernel: (kh, kw, cg, filters_g) that group's kernel.

    For kernel offset (i, j) every output pixel sends dout @ kernel[i, j].T back to the input
    pixel it read at that offset. One GEMM per offset gives a contiguous (rows, cg) block,
    which adds into a strided slice of dx far faster than slicing a single big (rows,
    kh*kw*cg) column-gradient matrix would (its blocks are strided too). With one channel each
    offset's block would be a matrix-vector product: one GEMM, kernel @ dout.T, makes all the
    offsets' blocks at once, each a contiguous row of the (kh*kw, rows) result.
    """
    kh, kw, group_channels, _ = kernel.shape
    images = dxpad.shape[0]
    blocks = None
    if group_channels == 1:
        blocks = (kernel.reshape(kh * kw, -1) @ dout_rows.T).reshape(kh, kw, images, *out_hw)
    for i in range(kh):
        for j in range(kw):
            _, rows, columns = _offset_slices(i, j, strides, dilation_rate, out_hw)
            if blocks is not None:
                dxpad[:, rows, columns, 0] += blocks[i, j]
            else:
                dpatch = dout_rows @ kernel[i, j].T              # (rows, cg)
                dxpad[:, rows, columns] += dpatch.reshape(images, *out_hw, group_channels)


def conv2d_bias_gradient(dout):
    """db = sum of dout (batch, h, w, filters) over batch, rows and columns -> (filters,).

    Each part of the batch is summed as ones @ dout with dout viewed as (images * h, w *
    filters), then over w: BLAS runs that matrix-vector product much faster than
    ndarray.sum over three axes.
    """
    filters = dout.shape[-1]

    def total(part):
        rows = dout[part].reshape(-1, dout.shape[-2] * filters)
        return np.ones(rows.shape[0], dtype=rows.dtype) @ rows

    per_part = parallel.over_batch_parts(total, dout.shape[0], dout.size)
    return functools.reduce(np.add, per_part).reshape(-1, filters).sum(axis=0)


def conv2d_flops(x_shape, kernel_shape, out_shape):
    """Multiply-add FLOPs (2 per MAC) of one conv2d_forward; the backward costs twice that."""
    batch, out_h, out_w, filters = out_shape
    kh, kw, group_channels, _ = kernel_shape
    return 2 * batch * out_h * out_w * filters * kh * kw * group_channels


__all__ = [
    "conv2d_backward",
    "conv2d_bias_gradient",
    "conv2d_flops",
    "conv2d_forward",
    "conv_output_length",
    "pad_amounts",
    "same_padding_amounts",
]
