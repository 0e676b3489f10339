"""The fast 2-D convolution: the reference kernel's maths (conv_reference.py), arranged for
speed. Same notation and results (tests/test_kernels_agree.py); what differs:

- the batch is cut into parts that threads process at once (kernels/parallel.py: the parts
  are independent, each writes only its own rows; the kernel gradient is the sum of the
  parts' gradients);
- with several input channels the im2col matrix is never made whole: each part fills it a
  block of a few images at a time (COLS_BLOCK_BYTES) and multiplies that block at once, while
  it is still in the cache; the backward pass fills each block again (from the padded input,
  which the cache keeps) for the kernel gradient and the input gradient of those images;
- with one input channel the im2col matrix is stored transposed (see _new_cols), with a row of
  ones that carries the bias through the GEMM (and makes its gradient a by-product of the
  kernel gradient's GEMM, which runs in row blocks: see _kernel_gradient);
- the input gradient is one GEMM per kernel offset, added straight into a strided slice of
  dx, instead of one big dcols matrix scattered afterwards;
- a 1x1 convolution with stride 1 (the channel mixers of Inception and ResNet blocks) uses
  the input itself as its im2col matrix, and its input gradient is one GEMM written
  straight into dx;
- big arrays (padded input, im2col blocks, output, input gradient) come from the layer's
  Workspace (kernels/workspace.py), so a training step does not map fresh memory each time.
"""

import functools

import numpy as np
from numpy.lib.stride_tricks import as_strided

from minikeras.kernels import parallel, workspace
from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts


def _window_view(xpad, window, strides, dilation, out_hw):
    """Read-only view (batch, out_h, out_w, kh, kw, channels) of every receptive field: the
    reference's im2col without the copy (as_strided steps through xpad directly)."""
    sn, sh, sw, sc = xpad.strides
    shape = (xpad.shape[0], out_hw[0], out_hw[1], window[0], window[1], xpad.shape[3])
    view_strides = (sn, sh * strides[0], sw * strides[1], sh * dilation[0], sw * dilation[1],
                    sc)
    return as_strided(xpad, shape=shape, strides=view_strides, writeable=False)


def _new_cols(windows, ws, name, ones_row):
    """An im2col buffer for `windows` (batch, out_h, out_w, kh, kw, channels).

    With several channels it is stored that way: copying the window view into it lays each
    receptive field out as one contiguous row. With a single input channel (a first layer on
    grey images) a row is only kh*kw numbers long and that copy crawls; the transposed
    matrix (kh*kw [+ 1], batch, out_h, out_w), filled one kernel offset at a time with a whole
    shifted image, takes a fifth of the time, and BLAS multiplies its transpose as fast.
    There `ones_row` adds a last row of ones: with the bias appended to W as a last row,
    cols.T @ W then adds the bias itself, saving a pass over the (big) output.
    """
    batch, out_h, out_w, kh, kw, channels = windows.shape
    if channels > 1:
        return workspace.empty(ws, name, windows.shape, windows.dtype)
    return workspace.empty(ws, name, (kh * kw + ones_row, batch, out_h, out_w), windows.dtype)


def _fill_cols(cols, windows, part):
    """Copies the receptive fields of the images `part` (a batch slice) into `cols`."""
    if cols.ndim == 6:
        cols[part] = windows[part]
        return
    kh, kw = windows.shape[3:5]
    for i in range(kh):
        for j in range(kw):
            cols[i * kw + j, part] = windows[part, :, :, i, j, 0]
    if cols.shape[0] > kh * kw:
        cols[kh * kw, part] = 1             # the ones row that multiplies the bias


def _cols_matrix(cols, part):
    """The (rows of `part`, kh*kw*channels [+ 1]) im2col matrix of the images `part`, a view."""
    if cols.ndim == 6:
        block = cols[part]
        return block.reshape(-1, np.prod(block.shape[3:]))
    return cols[:, part].reshape(cols.shape[0], -1).T


def pad_input(x, pads, ws):
    """x zero-padded by `pads` ((top, bottom), (left, right)), in the workspace ws; x itself
    when there is no padding."""
    (top, bottom), (left, right) = pads
    if top == bottom == left == right == 0:
        return x
    batch, height, width, channels = x.shape
    # zeros once; later steps write only the interior, so the border stays zero
    xpad = workspace.zeros(ws, "xpad", (batch, height + top + bottom, width + left + right,
                                        channels), x.dtype)
    xpad[:, top : top + height, left : left + width] = x
    return xpad


def conv2d_forward(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   bias=None, ws=None, normalize=None):
    """As conv_reference.conv2d_forward; `ws` is a Workspace (or None: fresh arrays).

    normalize: None, or (groups=1) a function of the im2col matrix, (rows, kh*kw*in), that
    returns the (kernel (kh*kw*in, filters), bias (filters,)) the product then uses: how a
    BatchNormalization after this convolution is folded into it (models/fusion.py).
    """
    batch, height, width, in_channels = x.shape
    kh, kw, group_channels, filters = kernel.shape
    out_h = conv_output_length(height, kh, strides[0], padding, dilation_rate[0])
    out_w = conv_output_length(width, kw, strides[1], padding, dilation_rate[1])
    pads = pad_amounts(height, width, (kh, kw), strides, padding, dilation_rate)
    xpad = pad_input(x, pads, ws)
    windows = _window_view(xpad, (kh, kw), strides, dilation_rate, (out_h, out_w))

    group_filters = filters // groups
    group_windows = [windows[..., g * group_channels : (g + 1) * group_channels]
                     for g in range(groups)]
    # One input channel per group: the bias rides in the GEMM (see _new_cols).
    has_bias = bias is not None or normalize is not None
    bias_in_gemm = has_bias and group_channels == 1
    # A 1x1 window with stride 1 reads every pixel once, in order: the im2col matrix
    # (batch*h*w, in) is the input itself, a view, and nothing needs copying.
    pointwise = (kh == kw == 1 and tuple(strides) == (1, 1) and groups == 1
                 and not bias_in_gemm)
    # Several channels: im2col in blocks of images (the module docstring), unless a folded
    # normalization needs the whole matrix first.
    blocked = not pointwise and group_channels > 1 and normalize is None
    if pointwise:
        cols = [np.ascontiguousarray(x).reshape(batch, height, width, 1, 1, in_channels)]
        group_windows = [None]                    # nothing to copy into cols
    elif blocked:
        cols = None                               # filled block by block
    else:
        cols = [_new_cols(w, ws, f"cols{g}", bias_in_gemm)
                for g, w in enumerate(group_windows)]
    w_mats = [kernel[..., g * group_filters : (g + 1) * group_filters].reshape(-1, group_filters)
              for g in range(groups)]             # (kh*kw*cg, filters_g) each
    if normalize is not None:
        # fill the im2col matrix first, then ask for the kernel and bias to multiply it by
        def fill(part):
            if group_windows[0] is not None:
                _fill_cols(cols[0], group_windows[0], part)

        parallel.over_batch_parts(fill, batch, sum(c.size for c in cols))
        group_windows = [None]                    # filled: the product alone remains
        kernel_matrix, bias = normalize(_taps_matrix(cols[0], kh * kw * group_channels))
        w_mats = [kernel_matrix.astype(x.dtype)]
        bias = bias.astype(x.dtype)
    if bias_in_gemm:                              # (kh*kw + 1, filters_g): bias as last row
        w_mats = [np.vstack([w, bias[g * group_filters : (g + 1) * group_filters]])
                  for g, w in enumerate(w_mats)]
    out = workspace.empty(ws, "out", (batch, out_h, out_w, filters), x.dtype)
    image_bias = None
    if bias is not None and not bias_in_gemm:
        # The bias repeated over a whole image, (out_h*out_w*filters,): adding it image by
        # image runs NumPy's inner loop over whole images rather than `filters` numbers at a
        # time (about three times faster than out += bias).
        image_bias = np.tile(bias, out_h * out_w)
    cache = {
        "cols": cols,  # im2col matrices (None: blocks refilled from "windows")
        "windows": group_windows if blocked else None,  # views of the padded input, per group
        "kernel": kernel,  # the input gradient is dout @ kernel.T, scattered back
        "x_shape": x.shape,
        "pads": pads,
        "strides": strides,
        "dilation_rate": dilation_rate,
        "groups": groups,
        "has_bias": has_bias,
        "bias_in_gemm": bias_in_gemm,  # then cols.T @ dout's last row is the bias gradient
        "pointwise": pointwise,  # then dx = dout @ kernel.T, written straight into dx
        "ws": ws,
    }
    work = functools.partial(_convolve_part, out, cache, group_windows, w_mats, image_bias)
    touched = windows.size if blocked else sum(c.size for c in cols)
    parallel.over_batch_parts(work, batch, out.size + touched, parallel.gemm_minimum())
    return out, cache


# Bytes of one block of the im2col matrix and output gradient when several input channels
# make the matrix wide (see _image_blocks).
COLS_BLOCK_BYTES = 2 << 20


def _image_blocks(part, batch, cache, out_hw):
    """The images `part` cut into blocks: slices of the batch axis.

    Stored im2col matrices and 1x1 products run whole. With several input channels a part
    goes a block of images at a time, the block's im2col rows and output gradient taking
    about COLS_BLOCK_BYTES: a block stays in the cache from the copy that fills it to the
    product that reads it, where the whole matrix, filled first and multiplied afterwards,
    makes two round trips through memory. On this project's machine the forward pass took
    15% less time on the MNIST convnet's second layer and 30% less on a 64-channel 32x32
    layer; the backward pass, which fills each block again, about as long as before.
    """
    start, stop, _ = part.indices(batch)
    if cache["windows"] is None or start == stop:
        return [slice(start, stop)]
    kh, kw, group_channels, filters = cache["kernel"].shape
    itemsize = cache["kernel"].itemsize
    image_bytes = out_hw[0] * out_hw[1] * (kh * kw * group_channels + filters) * itemsize
    per_block = max(1, COLS_BLOCK_BYTES // image_bytes)
    return [slice(first, min(first + per_block, stop))
            for first in range(start, stop, per_block)]


def _block_buffer(cache, blocks):
    """The buffer a part (a thread) fills with the im2col matrix of each of its `blocks` in
    turn: (images of the largest block, out_h, out_w, kh, kw, cg). None for stored matrices."""
    if cache["windows"] is None:
        return None
    windows = cache["windows"][0]
    images = blocks[0].stop - blocks[0].start
    return workspace.empty(cache["ws"], f"cols_block{blocks[0].start}",
                           (images,) + windows.shape[1:], windows.dtype)


def _block_cols(cache, g, block, buffer):
    """Group g's im2col matrix of the images `block`, (rows, taps [+ 1]): a view of the
    stored matrix, or `buffer` filled now."""
    if buffer is None:
        return _cols_matrix(cache["cols"][g], block)
    cols = buffer[: block.stop - block.start]
    _fill_cols(cols, cache["windows"][g][block], slice(None))
    return cols.reshape(-1, np.prod(cols.shape[3:]))


def _convolve_part(out, cache, group_windows, w_mats, image_bias, part):
    """out[part] = cols[part] @ W (+ bias), group by group, for the images `part`."""
    filters = out.shape[-1]
    blocks = _image_blocks(part, out.shape[0], cache, out.shape[1:3])
    buffer = _block_buffer(cache, blocks)
    for block in blocks:
        out_rows = out[block].reshape(-1, filters)              # (rows of block, filters)
        for g, w_mat in enumerate(w_mats):
            group_filters = w_mat.shape[1]
            if buffer is None and group_windows[g] is not None:    # stored: fill it now
                _fill_cols(cache["cols"][g], group_windows[g], block)
            np.matmul(_block_cols(cache, g, block, buffer), w_mat,
                      out=out_rows[:, g * group_filters : (g + 1) * group_filters])
        if image_bias is not None:
            images = out[block].reshape(-1, image_bias.size)
            images += image_bias


def _taps_matrix(cols, taps):
    """One group's im2col buffer as the (rows, taps) matrix, a view without the ones row."""
    if cols.ndim == 6:
        return cols.reshape(-1, taps)
    return cols.reshape(cols.shape[0], -1)[:taps].T


def taps_with_ones(cache):
    """The im2col matrix of a forward pass (groups=1) as stored when it carries the bias: a
    (taps + 1, rows) view whose last row is ones; None when it is not stored that way."""
    if not cache["bias_in_gemm"] or cache["groups"] != 1:
        return None
    cols = cache["cols"][0]
    return cols.reshape(cols.shape[0], -1)


def conv2d_backward(dout, cache, need_dx=True):
    """As conv_reference.conv2d_backward: (dx, dkernel, dbias)."""
    kernel = cache["kernel"]
    batch, height, width, in_channels = cache["x_shape"]
    (top, bottom), (left, right) = cache["pads"]
    ws = cache["ws"]
    dout = np.ascontiguousarray(dout, dtype=kernel.dtype)
    dxpad = None
    if need_dx:
        dxpad = workspace.empty(ws, "dxpad", (batch, height + top + bottom,
                                              width + left + right, in_channels), kernel.dtype)
    work = functools.partial(_gradients_part, dout, cache, dxpad)
    touched = (sum(c.size for c in cache["cols"]) if cache["cols"] is not None
               else cache["windows"][0].size * cache["groups"])
    partial_grads = parallel.over_batch_parts(work, batch, dout.size + touched,
                                              parallel.gemm_minimum())
    dkernel = functools.reduce(np.add, [dk for dk, _ in partial_grads])
    dbias = None
    if cache["bias_in_gemm"]:
        dbias = functools.reduce(np.add, [db for _, db in partial_grads])
    elif cache["has_bias"]:
        dbias = conv2d_bias_gradient(dout)
    dx = dxpad
    if need_dx and (top or bottom or left or right):
        dx = workspace.empty(ws, "dx", cache["x_shape"], kernel.dtype)
        dx[...] = dxpad[:, top : top + height, left : left + width, :]
    return dx, dkernel, dbias


def _gradients_part(dout, cache, dxpad, part):
    """The kernel (and, when it rides in the GEMM, bias) gradient of the images `part`, and
    (dxpad given) their input gradient, block by block (see _image_blocks). Returns
    (dkernel, dbias or None)."""
    kernel, groups = cache["kernel"], cache["groups"]
    kh, kw, group_channels, filters = kernel.shape
    group_filters = filters // groups
    taps = kh * kw * group_channels
    # dW = cols.T @ dout per group, (kh*kw*cg [+ 1 for the bias], filters_g), summed over blocks
    dws = [None] * groups
    if dxpad is not None and cache["pointwise"]:
        # a 1x1 stride-1 window: each pixel's gradient is one row of dout @ kernel.T
        np.matmul(dout[part].reshape(-1, filters), kernel[0, 0].T,
                  out=dxpad[part].reshape(-1, group_channels))
        dxpad = None                                # nothing left to scatter
    blocks = _image_blocks(part, dout.shape[0], cache, dout.shape[1:3])
    buffer = _block_buffer(cache, blocks)
    for block in blocks:
        dout_rows = dout[block].reshape(-1, filters)           # (rows of block, filters)
        if dxpad is not None:
            dxpad[block] = 0
        for g in range(groups):
            filt = slice(g * group_filters, (g + 1) * group_filters)
            dout_g = dout_rows[:, filt]
            dw = _kernel_gradient(_block_cols(cache, g, block, buffer).T, dout_g)
            dws[g] = dw if dws[g] is None else np.add(dws[g], dw, out=dws[g])
            if dxpad is not None:
                channels = slice(g * group_channels, (g + 1) * group_channels)
                _scatter_by_blocks(dxpad[block, :, :, channels], dout_g, kernel[..., filt],
                                   cache["strides"], cache["dilation_rate"], dout.shape[1:3])
    dkernel = np.empty_like(kernel)
    dbias = np.empty(filters, dtype=kernel.dtype) if cache["bias_in_gemm"] else None
    for g, dw in enumerate(dws):
        filt = slice(g * group_filters, (g + 1) * group_filters)
        dkernel[..., filt] = dw[:taps].reshape(kh, kw, group_channels, group_filters)
        if dbias is not None:
            dbias[filt] = dw[taps]                  # the ones row's gradient: sum of dout
    return dkernel, dbias


# Bytes of one offset's product in the input gradient, per block of images (see below).
SCATTER_BLOCK_BYTES = 1 << 20


def _scatter_by_blocks(dxpad, dout_rows, kernel, strides, dilation_rate, out_hw):
    """_scatter_input_gradient over blocks of a few images: each offset's product (rows,
    cg) is then small enough to stay in cache until its strided addition reads it, instead
    of making a round trip through memory (28% faster on 64 channels at 32x32)."""
    images = dxpad.shape[0]
    pixels = out_hw[0] * out_hw[1]
    width = max(kernel.shape[2], kernel.shape[3]) * dout_rows.itemsize
    per_block = max(1, SCATTER_BLOCK_BYTES // (pixels * width))
    for start in range(0, images, per_block):
        block = slice(start, min(start + per_block, images))
        _scatter_input_gradient(dxpad[block], dout_rows[block.start * pixels:block.stop * pixels],
                                kernel, strides, dilation_rate, out_hw)


# Row block of the kernel gradient's GEMM when its matrices are narrow (see below).
KERNEL_GRADIENT_BLOCK = 2048


def _kernel_gradient(cols_t, dout_rows):
    """cols_t @ dout_rows: (k, rows) @ (rows, filters) -> (k, filters).

    With few taps (k, a first layer's 9 or 10) and tens of thousands of rows, OpenBLAS runs
    this long, thin product at a fraction of its speed; summing the products of blocks of
    2,048 rows, each of which stays in cache, was 1.7x faster on this project's machine. Wide
    products (k in the hundreds) gain nothing from it and run whole.
    """
    rows = cols_t.shape[1]
    if cols_t.shape[0] > 64 or rows <= 2 * KERNEL_GRADIENT_BLOCK:
        return cols_t @ dout_rows
    block = KERNEL_GRADIENT_BLOCK
    total = cols_t[:, :block] @ dout_rows[:block]
    for start in range(block, rows, block):
        total += cols_t[:, start : start + block] @ dout_rows[start : start + block]
    return total


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
            _, rows, columns = offset_slices(i, j, strides, dilation_rate, out_hw)
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
    per_part = parallel.over_batch_parts(functools.partial(_bias_total_part, dout),
                                         dout.shape[0], dout.size)
    return functools.reduce(np.add, per_part).reshape(-1, dout.shape[-1]).sum(axis=0)


def _bias_total_part(dout, part):
    rows = dout[part].reshape(-1, dout.shape[-2] * dout.shape[-1])
    return np.ones(rows.shape[0], dtype=rows.dtype) @ rows


__all__ = ["conv2d_backward", "conv2d_bias_gradient", "conv2d_forward"]
