"""Image resizing as TensorFlow's tf.image.resize does it (no antialias), bit for bit.

Resizing is separable: along each spatial axis every output pixel is a fixed weighted sum of
input pixels, so one (out_length, in_length) matrix per axis describes it, and

    out = A_h @ x @ A_w.T         for each image and channel
    dx  = A_h.T @ dout @ A_w      (the adjoint, for the backward pass)

With scale = in_length / out_length (float32), output pixel o covers input coordinates
[o * scale, (o + 1) * scale), centred at  s = (o + 0.5) * scale - 0.5  (pixel i's centre is i):
    "nearest":  weight 1 on min(floor(s + 0.5), in_length - 1);
    "bilinear": weight 1 - f on floor(s) and f on floor(s) + 1 (f = s - floor(s)), both
                indices clipped into the image (so the border pixel is repeated);
    "bicubic":  Keys' cubic (a = -0.5) on the four pixels floor(s) - 1 ... floor(s) + 2, its
                values read from a table of 1025 fractions (f rounded to the nearest 1/1024);
                taps outside the image get weight 0 and the rest are rescaled to sum to 1;
    "area":     each input pixel weighted by how much of it [o * scale, (o + 1) * scale)
                covers, divided by scale (a box average).
The coordinates are computed in float32, as TensorFlow computes them, so that ties fall on
the same side.

The forward passes do not multiply by the matrices: they repeat TensorFlow's own arithmetic,
operation for operation in float32, so that the results are bit-identical. A matrix product
computes the same sums in another order; its results differ in the last bit now and then, and
once an integer image is rounded back to uint8 a value near k + 0.5 lands on the other side
(about 1% of pixels came out one level off that way). The backward pass uses the matrices:
the adjoint is their transpose whatever the rounding.
"""

import functools

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")
_TABLE_SIZE = 1024          # bicubic fractions are rounded to multiples of 1 / 1024


# ----------------------------------------------------------------------- the weights

def interpolation_matrix(in_length, out_length, interpolation):
    """(out_length, in_length) float64 matrix of one axis's resize weights."""
    matrix = np.zeros((out_length, in_length))
    rows = np.arange(out_length)[:, None]
    if interpolation == "nearest":
        matrix[rows[:, 0], nearest_indices(in_length, out_length)] = 1.0
        return matrix
    if interpolation == "bilinear":
        low, high, fraction = bilinear_neighbours(in_length, out_length)
        taps = np.stack([low, high], axis=1)
        weights = np.stack([1.0 - fraction, fraction], axis=1)
    elif interpolation == "bicubic":
        taps, weights = bicubic_taps(in_length, out_length)
    else:
        taps, weights, used, scale = area_spans(in_length, out_length)
        weights = np.where(used, weights, 0.0) / np.float64(scale)
    # += : clipped taps landing on the same border pixel add up. A one-off (out, 4) build.
    np.add.at(matrix, (np.broadcast_to(rows, taps.shape), taps), weights)
    return matrix


def _centres(in_length, out_length):
    """(scale, (out_length,) float32 input coordinates of the output pixels' centres)."""
    scale = np.float32(in_length) / np.float32(out_length)
    return scale, (np.arange(out_length, dtype=np.float32) + np.float32(0.5)) * scale


def nearest_indices(in_length, out_length):
    """(out_length,) the input pixel each output pixel copies."""
    _, centres = _centres(in_length, out_length)
    return np.minimum(np.floor(centres).astype(np.int64), in_length - 1)


def bilinear_neighbours(in_length, out_length):
    """For each output position along one axis: the lower and upper input index and the
    fraction of the way from one to the other, as TensorFlow computes them (float32
    coordinates; the indices clipped into the image, so that beyond the border both are the
    border pixel). Returns (lower, upper, fraction), each (out_length,)."""
    _, centres = _centres(in_length, out_length)
    source = centres - np.float32(0.5)
    below = np.floor(source)
    lower = np.maximum(below.astype(np.int64), 0)
    upper = np.minimum(np.ceil(source).astype(np.int64), in_length - 1)
    return lower, upper, source - below


@functools.cache
def _keys_table():
    """Keys' cubic at the fractions i / 1024, i = 0..1024, for the near taps (distance f) and
    the far taps (distance f + 1): evaluated in float64, stored in float32, as TensorFlow's
    table is."""
    a = -0.5
    near_x = (np.arange(_TABLE_SIZE + 1) / _TABLE_SIZE).astype(np.float32).astype(np.float64)
    far_x = (near_x + 1.0).astype(np.float32).astype(np.float64)
    near = ((a + 2) * near_x - (a + 3)) * near_x * near_x + 1
    far = ((a * far_x - 5 * a) * far_x + 8 * a) * far_x - 4 * a
    return near.astype(np.float32), far.astype(np.float32)


def bicubic_taps(in_length, out_length):
    """(taps, weights), each (out_length, 4): the input pixels floor(s) - 1 ... floor(s) + 2
    (clipped into the image) and their float32 weights, renormalised over the taps inside."""
    near, far = _keys_table()
    _, centres = _centres(in_length, out_length)
    source = centres - np.float32(0.5)
    below = np.floor(source)
    offset = np.rint((source - below) * np.float32(_TABLE_SIZE)).astype(np.int64)
    taps = below.astype(np.int64)[:, None] + np.arange(-1, 3)
    weights = np.stack([far[offset], near[offset], near[_TABLE_SIZE - offset],
                        far[_TABLE_SIZE - offset]], axis=1)
    weights[(taps < 0) | (taps >= in_length)] = 0
    total = ((weights[:, 0] + weights[:, 1]) + weights[:, 2]) + weights[:, 3]
    # (a sum this close to 0 is left alone, as TensorFlow leaves it)
    usable = np.abs(total) >= np.float32(1000) * np.finfo(np.float32).tiny
    weights[usable] *= (np.float32(1) / total[usable])[:, None]
    return np.clip(taps, 0, in_length - 1), weights


def area_spans(in_length, out_length):
    """The input pixels under each output pixel's box [o * scale, (o + 1) * scale).

    Returns (taps, weights, used, scale): taps and weights (out_length, K), K the longest
    span; weights[o, k] (float32) is the part of pixel taps[o, k] inside the box (1 for the
    pixels inside, less at the two ends); used[o, k] is False past the end of o's span."""
    scale = np.float32(in_length) / np.float32(out_length)
    outputs = np.arange(out_length)
    box_start = outputs.astype(np.float32) * scale
    box_end = (outputs + 1).astype(np.float32) * scale
    first = np.floor(box_start).astype(np.int64)
    length = np.ceil(box_end).astype(np.int64) - first
    taps = first[:, None] + np.arange(length.max())
    pixel_start = taps.astype(np.float32)
    pixel_end = (taps + 1).astype(np.float32)
    box_start, box_end = box_start[:, None], box_end[:, None]
    # covered part of [i, i + 1): clipped at the box's start and/or end
    weights = np.where(pixel_start < box_start,
                       np.where(pixel_end > box_end, scale, pixel_end - box_start),
                       np.where(pixel_end > box_end, box_end - pixel_start, np.float32(1)))
    used = np.arange(length.max()) < length[:, None]
    return np.clip(taps, 0, in_length - 1), weights.astype(np.float32), used, scale


# ----------------------------------------------------------------- forward and backward

def resize_forward(x, out_hw, interpolation):
    """x: (batch, h, w, channels) -> (out, cache), out: (batch, out_h, out_w, channels).

    Computed in x's dtype (float32 for a float32 layer, whatever the images were)."""
    batch, height, width, channels = x.shape
    a_h = interpolation_matrix(height, out_hw[0], interpolation).astype(x.dtype)
    a_w = interpolation_matrix(width, out_hw[1], interpolation).astype(x.dtype)
    # The kernels see each image row as one (width * channels,) vector: a column is a run of
    # `channels` values, and per-column weights are repeated over the channels, so that
    # NumPy's inner loops run along whole rows rather than over 3 channels at a time.
    rows = x.reshape(batch, height, width * channels)
    if interpolation == "nearest":
        # a selection: gather rather than multiply, so every output is an input value exactly
        out = _columns(np.take(rows, nearest_indices(height, out_hw[0]), axis=1),
                       nearest_indices(width, out_hw[1]), channels)
    elif interpolation == "bilinear":
        out = _bilinear(rows, (height, width), out_hw, channels)
    elif interpolation == "bicubic":
        out = _bicubic(rows, (height, width), out_hw, channels)
    else:
        out = _area(rows, (height, width), out_hw, channels)
    return out.reshape(batch, *out_hw, channels), (a_h, a_w)


def resize_backward(dout, cache):
    """dout: (batch, out_h, out_w, channels) -> dx: (batch, h, w, channels)."""
    a_h, a_w = cache
    batch, out_h, out_w, channels = dout.shape
    dcols = a_w.T @ dout.reshape(batch * out_h, out_w, channels)          # (b*oh, w, c)
    width = a_w.shape[1]
    dx = a_h.T @ dcols.reshape(batch, out_h, width * channels)            # (b, h, w*c)
    return dx.reshape(batch, a_h.shape[1], width, channels)


def _columns(rows, indices, channels):
    """rows: (batch, h, w * channels) -> (batch, h, len(indices) * channels), the columns
    `indices` of every row."""
    flat = (np.asarray(indices)[:, None] * channels + np.arange(channels)).ravel()
    return np.take(rows, flat, axis=2)


def _per_column(values, channels, dtype):
    """(out_w,) values, one per output column -> (out_w * channels,), to multiply rows."""
    return np.repeat(values.astype(dtype), channels)


def _bilinear(rows, in_hw, out_hw, channels):
    """TensorFlow's order: along the width first, then along the height,

        top    = tl + (tr - tl) * fx
        bottom = bl + (br - bl) * fx
        out    = top + (bottom - top) * fy        (each operation rounded to the dtype)

    rows: (batch, h, w * channels) -> (batch, out_h, out_w * channels)."""
    row_low, row_high, fy = bilinear_neighbours(in_hw[0], out_hw[0])
    col_low, col_high, fx = bilinear_neighbours(in_hw[1], out_hw[1])
    fx = _per_column(fx, channels, rows.dtype)          # (out_w * channels,)
    fy = fy.astype(rows.dtype)[:, None]                 # (out_h, 1)
    # A row's horizontal interpolation is the same number whichever output row uses it: do
    # it once for each input row that some output row needs, then interpolate vertically.
    needed, where = np.unique(np.concatenate([row_low, row_high]), return_inverse=True)
    source = rows if len(needed) == in_hw[0] else np.take(rows, needed, axis=1)
    across = _lerp(_columns(source, col_low, channels), _columns(source, col_high, channels),
                   fx)
    upper, lower = where[:out_hw[0]], where[out_hw[0]:]      # positions in `across`
    return _lerp(np.take(across, upper, axis=1), np.take(across, lower, axis=1), fy)


def _lerp(a, b, fraction):
    """a + (b - a) * fraction, rounded after each operation as TensorFlow's kernel rounds;
    computed in b's buffer (b is a fresh gather nobody else holds)."""
    b -= a
    b *= fraction
    b += a
    return b


def _bicubic(rows, in_hw, out_hw, channels):
    """TensorFlow's order: along the height first (four rows, weights wy), then along the
    width (four of those columns, weights wx), each sum taken left to right:

        column = ((r0 * wy0 + r1 * wy1) + r2 * wy2) + r3 * wy3
        out    = ((c0 * wx0 + c1 * wx1) + c2 * wx2) + c3 * wx3

    rows: (batch, h, w * channels) -> (batch, out_h, out_w * channels)."""
    row_taps, row_weights = bicubic_taps(in_hw[0], out_hw[0])
    col_taps, col_weights = bicubic_taps(in_hw[1], out_hw[1])
    # The vertical sums for the columns some output column needs, each computed once.
    needed, where = np.unique(col_taps, return_inverse=True)
    where = where.reshape(col_taps.shape)
    source = rows if len(needed) == in_hw[1] else _columns(rows, needed, channels)
    down = _weighted_sum(lambda k: np.take(source, row_taps[:, k], axis=1),
                         [row_weights[:, k].astype(rows.dtype)[:, None] for k in range(4)])
    return _weighted_sum(lambda k: _columns(down, where[:, k], channels),
                         [_per_column(col_weights[:, k], channels, rows.dtype)
                          for k in range(4)])


def _weighted_sum(term, weights):
    """sum over k of term(k) * weights[k], accumulated in order k = 0, 1, 2, ... (float
    addition is not associative: the order is part of the result). term(k) is a fresh
    array."""
    total = term(0)
    total *= weights[0]
    for k in range(1, len(weights)):
        part = term(k)
        part *= weights[k]
        total += part
    return total


def _area(rows, in_hw, out_hw, channels):
    """TensorFlow's order: along the width first (per input row: the first pixel times its
    covered part, plus the whole pixels, plus the last pixel times its covered part), then
    along the height (the row sums times their covered parts, added in order), and finally
    times 1 / (scale_h * scale_w).

    rows: (batch, h, w * channels) -> (batch, out_h, out_w * channels). The loops run over
    positions within a box (at most ceil(scale) + 1 of them), never over pixels."""
    row_taps, row_weights, row_used, row_scale = area_spans(in_hw[0], out_hw[0])
    col_taps, col_weights, col_used, col_scale = area_spans(in_hw[1], out_hw[1])
    col_last = col_used.sum(axis=1) - 1                 # (out_w,) each box's last position
    across = _columns(rows, col_taps[:, 0], channels)
    across *= _per_column(col_weights[:, 0], channels, rows.dtype)
    for k in range(1, col_taps.shape[1]):
        term = _columns(rows, col_taps[:, k], channels)
        # whole pixels are added as they are; the last one times its covered part
        weight = np.where(col_last == k, col_weights[:, k], np.float32(1))
        last = _per_column(col_last == k, channels, bool)
        term = np.where(last, term * _per_column(weight, channels, rows.dtype), term)
        across = np.where(_per_column(col_used[:, k], channels, bool), across + term, across)
    out = np.zeros((rows.shape[0], out_hw[0], across.shape[2]), dtype=rows.dtype)
    for k in range(row_taps.shape[1]):
        term = np.take(across, row_taps[:, k], axis=1)
        term *= row_weights[:, k].astype(rows.dtype)[:, None]
        out = np.where(row_used[:, k][:, None], out + term, out)
    # 1 / (scale_h * scale_w): divided in float64, then rounded to float32, as TensorFlow does
    out *= np.float32(1.0 / np.float64(row_scale * col_scale)).astype(rows.dtype)
    return out
