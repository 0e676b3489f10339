"""Affine (projective) resampling of a batch of images, as TensorFlow's
ImageProjectiveTransformV3 computes it (what keras.ops.image.affine_transform runs).

Each image n has a transform [a0, a1, a2, b0, b1, b2, c0, c1]. Output pixel (row y, column x)
reads the input at

    k = c0 * x + c1 * y + 1
    x_in = (a0 * x + a1 * y + a2) / k        y_in = (b0 * x + b1 * y + b2) / k

A coordinate outside the image is first moved inside by `fill_mode` (along each axis of length
L):  "reflect"  (d c b a | a b c d | d c b a),  "wrap"  (a b c d | a b c d | a b c d),
"nearest"  (a a a a | a b c d | d d d d),  "constant"  (left as is). Then
    "nearest" interpolation reads the pixel at the rounded coordinate,
    "bilinear" weighs the four pixels around it,
and any pixel read outside the image counts as `fill_value`.

The whole batch is sampled at once: every output pixel gets up to four (source index, weight)
pairs, built with NumPy over the (batch, height, width) grid, and the values are gathered with
one fancy index. The backward pass is the adjoint: each output gradient goes back to the
pixels it read, times the weights, summed with np.bincount (many outputs read one input).
The coordinates are computed in float32 as TensorFlow computes them.
"""

import numpy as np

FILL_MODES = ("reflect", "wrap", "constant", "nearest")
INTERPOLATIONS = ("nearest", "bilinear")


def map_coordinates(coords, length, fill_mode):
    """float32 coordinates along one axis of `length` pixels, moved inside by `fill_mode`."""
    if fill_mode == "constant":
        return coords
    last = np.float32(length - 1)
    if length <= 1 or fill_mode == "nearest":
        return np.clip(coords, 0, last)
    c = coords.copy()
    # both masks first: a coordinate moved inside must not be moved again
    low, high = c < 0, c > last
    if fill_mode == "reflect":
        period = np.float32(2 * length)
        # below zero: shift by whole periods towards zero, then mirror about -0.5
        shifted = period * np.trunc(-c[low] / period) + c[low]
        c[low] = np.where(shifted < -length, shifted + period, -shifted - 1)
        folded = c[high] - period * np.trunc(c[high] / period)
        c[high] = np.where(folded >= length, period - folded - 1, folded)
    else:  # wrap, TensorFlow's way: whole turns of `length`, counted in steps of length - 1
        span = np.float32(length - 1)
        c[low] += length * (np.trunc(-c[low] / span) + 1)
        c[high] -= length * np.trunc(c[high] / span)
    return np.clip(c, 0, last)


def _round_half_away(v):
    return np.sign(v) * np.floor(np.abs(v) + np.float32(0.5))


def affine_sampling(transforms, height, width, interpolation, fill_mode):
    """The (index, weight) pairs every output pixel reads.

    Args:
        transforms: (batch, 8) array.
    Returns:
        a list of (index, weight) pairs, each (batch, height, width): `index` is the flat
        pixel index n * height * width + row * width + column, or -1 where the read falls
        outside the image (that read is fill_value).
    """
    t = np.asarray(transforms, dtype=np.float32)[:, :, None, None]        # (b, 8, 1, 1)
    rows = np.arange(height, dtype=np.float32)[:, None]
    cols = np.arange(width, dtype=np.float32)[None, :]
    k = t[:, 6] * cols + t[:, 7] * rows + np.float32(1)
    x_in = map_coordinates((t[:, 0] * cols + t[:, 1] * rows + t[:, 2]) / k, width, fill_mode)
    y_in = map_coordinates((t[:, 3] * cols + t[:, 4] * rows + t[:, 5]) / k, height, fill_mode)
    base = (np.arange(len(t)) * height * width)[:, None, None]

    def read(y, x, weight):
        inside = (y >= 0) & (y <= height - 1) & (x >= 0) & (x <= width - 1)
        index = np.where(inside, base + y.astype(np.int64) * width + x.astype(np.int64), -1)
        return index, weight.astype(np.float64)

    if interpolation == "nearest":
        return [read(_round_half_away(y_in), _round_half_away(x_in), np.ones_like(x_in))]
    y0, x0 = np.floor(y_in), np.floor(x_in)
    fy, fx = y_in - y0, x_in - x0
    return [
        read(y0, x0, (1 - fy) * (1 - fx)),
        read(y0, x0 + 1, (1 - fy) * fx),
        read(y0 + 1, x0, fy * (1 - fx)),
        read(y0 + 1, x0 + 1, fy * fx),
    ]


def affine_forward(x, transforms, interpolation, fill_mode, fill_value):
    """x: (batch, h, w, channels) -> (out, cache), out: same shape, resampled."""
    batch, height, width, channels = x.shape
    reads = affine_sampling(transforms, height, width, interpolation, fill_mode)
    pixels = x.reshape(-1, channels)
    out = np.zeros(x.shape, dtype=x.dtype)
    for index, weight in reads:            # at most four reads per output pixel
        values = pixels[np.maximum(index, 0)]                              # (b, h, w, c)
        values = np.where((index >= 0)[..., None], values, x.dtype.type(fill_value))
        out += (weight[..., None] * values).astype(x.dtype)
    return out, (reads, x.shape)


def affine_backward(dout, cache):
    """dout: (batch, h, w, channels) -> dx of the same shape (fill_value reads get nothing)."""
    reads, shape = cache
    channels = shape[-1]
    size = int(np.prod(shape))
    dx = np.zeros(size, dtype=np.float64)
    channel = np.arange(channels)
    for index, weight in reads:
        inside = index >= 0
        # target of each (output pixel, channel): its source pixel's slot for that channel
        targets = index[inside][:, None] * channels + channel               # (reads, c)
        contributions = weight[inside][:, None] * dout[inside]              # (reads, c)
        dx += np.bincount(targets.ravel(), contributions.ravel(), minlength=size)
    return dx.reshape(shape).astype(dout.dtype, copy=False)
