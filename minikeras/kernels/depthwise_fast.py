"""The fast depthwise 2-D convolution: depthwise_reference.py's maths, arranged for speed.
Same notation and results (tests/test_kernels_agree.py); what differs:

- the batch is cut into parts that threads process at once (kernels/parallel.py), and each
  part into blocks of a few images, so the kh*kw multiply-adds of a block run on arrays that
  stay in the cache instead of streaming the whole batch through memory kh*kw times;
- the products go into a reused scratch block (np.multiply(..., out=)) rather than a fresh
  temporary per offset;
- each offset's kernel gradient, a sum over every pixel, is ones @ (x * dout) (BLAS's
  matrix-vector product) instead of an einsum;
- the padded input, output and input gradient come from the layer's Workspace.
"""

import functools

import numpy as np

from minikeras.kernels import parallel, workspace
from minikeras.kernels.conv_fast import pad_input
from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts

# Bytes of one block's output: a few blocks (output, scratch, input slices) fit in the L2 cache.
BLOCK_BYTES = 256 * 1024


def _images_per_block(out_hw, channels, itemsize):
    return max(1, BLOCK_BYTES // (out_hw[0] * out_hw[1] * channels * itemsize))


def _blocks(part, batch, images):
    """Slices of at most `images` images covering the batch slice `part`."""
    start, stop, _ = part.indices(batch)
    return [slice(s, min(s + images, stop)) for s in range(start, stop, images)]


def depthwise_forward(x, kernel, strides, padding, dilation_rate, bias=None, ws=None):
    """As depthwise_reference.depthwise_forward; `ws` is a Workspace (or None).

    x: (batch, h, w, C), kernel: (kh, kw, C, M), bias: (C * M,) or None.
    Returns (out, cache), out: (batch, out_h, out_w, C * M).
    """
    batch, height, width, channels = x.shape
    kh, kw, _, multiplier = kernel.shape
    out_hw = tuple(conv_output_length(length, k, s, padding, d) for length, k, s, d in
                   zip((height, width), (kh, kw), strides, dilation_rate, strict=True))
    pads = pad_amounts(height, width, (kh, kw), strides, padding, dilation_rate)
    xpad = pad_input(x, pads, ws)
    kernel = kernel.astype(x.dtype, copy=False)
    out = workspace.empty(ws, "out", (batch, *out_hw, channels * multiplier), x.dtype)
    image_bias = None if bias is None else np.tile(bias.astype(x.dtype, copy=False),
                                                   out_hw[0] * out_hw[1])
    images = _images_per_block(out_hw, channels * multiplier, x.dtype.itemsize)
    work = functools.partial(_forward_part, xpad, kernel, out, image_bias, strides,
                             dilation_rate, images)
    parallel.over_batch_parts(work, batch, xpad.size + out.size)
    cache = {"xpad": xpad, "kernel": kernel, "pads": pads, "x_shape": x.shape,
             "strides": strides, "dilation_rate": dilation_rate, "ws": ws, "images": images}
    return out, cache


def _forward_part(xpad, kernel, out, image_bias, strides, dilation_rate, images, part):
    """out[part] = sum over offsets of xpad[offset slice] * kernel[i, j] (+ bias), by blocks."""
    kh, kw, channels, multiplier = kernel.shape
    batch, out_h, out_w, _ = out.shape
    scratch = np.empty((images, out_h, out_w, channels, multiplier), dtype=out.dtype)
    for block in _blocks(part, batch, images):
        n = block.stop - block.start
        total = out[block].reshape(n, out_h, out_w, channels, multiplier)
        product = scratch[:n]
        for i in range(kh):
            for j in range(kw):
                _, rows, cols = offset_slices(i, j, strides, dilation_rate, (out_h, out_w))
                window = xpad[block, rows, cols, :, None]             # (n, oh, ow, C, 1)
                if i == j == 0:
                    np.multiply(window, kernel[i, j], out=total)
                else:
                    np.multiply(window, kernel[i, j], out=product)
                    total += product
        if image_bias is not None:
            flat = out[block].reshape(n, image_bias.size)
            flat += image_bias


def depthwise_backward(dout, cache, kernel_shape, need_dx=True):
    """As depthwise_reference.depthwise_backward: (dx or None, dkernel (kh, kw, C, M))."""
    xpad, ws = cache["xpad"], cache["ws"]
    batch = xpad.shape[0]
    dout = np.ascontiguousarray(dout, dtype=xpad.dtype)
    dxpad = workspace.empty(ws, "dxpad", xpad.shape, xpad.dtype) if need_dx else None
    work = functools.partial(_backward_part, dout, cache, kernel_shape, dxpad)
    dkernel = functools.reduce(np.add, parallel.over_batch_parts(work, batch,
                                                                 xpad.size + dout.size))
    dx = None
    if need_dx:
        (top, _), (left, _) = cache["pads"]
        _, height, width, _ = cache["x_shape"]
        dx = dxpad
        if dxpad.shape[1:3] != (height, width):
            dx = workspace.empty(ws, "dx", cache["x_shape"], xpad.dtype)
            dx[...] = dxpad[:, top : top + height, left : left + width]
    return dx, dkernel.reshape(kernel_shape).astype(xpad.dtype, copy=False)


def _backward_part(dout, cache, kernel_shape, dxpad, part):
    """The kernel gradient of the images `part` (kh, kw, C * M), and their input gradient
    written into dxpad[part] when dxpad is given, block by block."""
    xpad, kernel, strides, dilation_rate = (cache["xpad"], cache["kernel"], cache["strides"],
                                            cache["dilation_rate"])
    kh, kw, channels, multiplier = kernel_shape
    batch, out_h, out_w, _ = dout.shape
    images = cache["images"]
    scratch = np.empty((images, out_h, out_w, channels, multiplier), dtype=dout.dtype)
    ones = np.ones(images * out_h * out_w, dtype=dout.dtype)
    dkernel = np.zeros((kh, kw, channels * multiplier), dtype=dout.dtype)
    for block in _blocks(part, batch, images):
        n = block.stop - block.start
        d = dout[block].reshape(n, out_h, out_w, channels, multiplier)
        product = scratch[:n]
        pixels = ones[: n * out_h * out_w]
        if dxpad is not None:
            dxpad[block] = 0
        for i in range(kh):
            for j in range(kw):
                _, rows, cols = offset_slices(i, j, strides, dilation_rate, (out_h, out_w))
                # dkernel[i, j] += sum over pixels of x * dout
                np.multiply(xpad[block, rows, cols, :, None], d, out=product)
                dkernel[i, j] += pixels @ product.reshape(pixels.size, -1)
                if dxpad is not None:
                    # dx[offset slice] += sum over m of dout * kernel[i, j]
                    np.multiply(d, kernel[i, j], out=product)
                    target = dxpad[block, rows, cols]
                    target += product[..., 0] if multiplier == 1 else product.sum(axis=-1)
    return dkernel


__all__ = ["depthwise_backward", "depthwise_forward"]
