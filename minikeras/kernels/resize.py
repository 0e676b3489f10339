"""Image resizing as TensorFlow's tf.image.resize does it (half-pixel centres, no antialias).

Resizing is separable: along each spatial axis every output pixel is a fixed weighted sum of
input pixels, so one (out_length, in_length) matrix per axis describes it, and

    out = A_h @ x @ A_w.T         for each image and channel
    dx  = A_h.T @ dout @ A_w      (the adjoint, for the backward pass)

Output pixel o sits at input coordinate  s = (o + 0.5) * in_length / out_length - 0.5.
    "bilinear": weight 1 - f on floor(s) and f on floor(s) + 1 (f = s - floor(s)), with both
                indices clipped into the image (so the border pixel is repeated);
    "nearest":  weight 1 on min(floor(s + 0.5), in_length - 1).
The coordinates are computed in float32, as TensorFlow computes them, so that ties fall on
the same side.

The forward pass of "bilinear" does not multiply by the matrices: it repeats TensorFlow's own
arithmetic, value for value, so that its results are bit-identical. Per output pixel, with the
four neighbours tl, tr (upper row) and bl, br (lower row) and the fractions fx, fy:

    top    = tl + (tr - tl) * fx
    bottom = bl + (br - bl) * fx
    out    = top + (bottom - top) * fy            (each step rounded to float32)

A matrix product computes the same number as (1 - fx) * tl + fx * tr, summed in another
order: it differs in the last bit now and then, and once an integer image is rounded back to
uint8, a value near k + 0.5 lands on the other side (about 1% of pixels came out one level
off that way). The backward pass uses the matrices: it is their transpose whatever the
rounding.
"""

import numpy as np

INTERPOLATIONS = ("bilinear", "nearest")


def interpolation_matrix(in_length, out_length, interpolation):
    """(out_length, in_length) float64 matrix of one axis's resize weights."""
    scale = np.float32(in_length) / np.float32(out_length)
    centres = (np.arange(out_length, dtype=np.float32) + np.float32(0.5)) * scale
    matrix = np.zeros((out_length, in_length))
    rows = np.arange(out_length)
    if interpolation == "nearest":
        nearest = np.minimum(np.floor(centres).astype(np.int64), in_length - 1)
        matrix[rows, nearest] = 1.0
        return matrix
    source = centres - np.float32(0.5)
    below = np.floor(source)
    fraction = (source - below).astype(np.float64)
    low = np.clip(below.astype(np.int64), 0, in_length - 1)
    high = np.clip(below.astype(np.int64) + 1, 0, in_length - 1)
    # += : where both indices clip to the same border pixel its weights add up to 1
    np.add.at(matrix, (rows, low), 1.0 - fraction)      # a one-off (out,) build, not a hot path
    np.add.at(matrix, (rows, high), fraction)
    return matrix


def bilinear_neighbours(in_length, out_length):
    """For each output position along one axis: the lower and upper input index and the
    fraction of the way from one to the other, as TensorFlow computes them (float32
    coordinates; the indices clipped into the image, so that beyond the border both are the
    border pixel). Returns (lower, upper, fraction), each (out_length,)."""
    scale = np.float32(in_length) / np.float32(out_length)
    source = (np.arange(out_length, dtype=np.float32) + np.float32(0.5)) * scale - np.float32(0.5)
    below = np.floor(source)
    lower = np.maximum(below.astype(np.int64), 0)
    upper = np.minimum(np.ceil(source).astype(np.int64), in_length - 1)
    return lower, upper, source - below


def resize_forward(x, out_hw, interpolation):
    """x: (batch, h, w, channels) -> (out, cache), out: (batch, out_h, out_w, channels).

    Computed in x's dtype (float32 for a float32 layer, whatever the images were)."""
    _, height, width, _ = x.shape
    a_h = interpolation_matrix(height, out_hw[0], interpolation).astype(x.dtype)
    a_w = interpolation_matrix(width, out_hw[1], interpolation).astype(x.dtype)
    if interpolation == "nearest":
        # a selection: gather rather than multiply, so every output is an input value exactly
        out = x[:, a_h.argmax(axis=1)][:, :, a_w.argmax(axis=1)]
        return out, (a_h, a_w)
    row_low, row_high, fy = bilinear_neighbours(height, out_hw[0])
    col_low, col_high, fx = bilinear_neighbours(width, out_hw[1])
    fx = fx.astype(x.dtype)[:, None]                    # (out_w, 1): broadcast over channels
    fy = fy.astype(x.dtype)[:, None, None]              # (out_h, 1, 1)
    # A row's horizontal interpolation is the same number whichever output row uses it: do
    # it once for each input row that some output row needs, then interpolate vertically.
    needed, where = np.unique(np.concatenate([row_low, row_high]), return_inverse=True)
    source = x if len(needed) == height else np.take(x, needed, axis=1)
    rows = _lerp(np.take(source, col_low, axis=2), np.take(source, col_high, axis=2), fx)
    upper, lower = where[:out_hw[0]], where[out_hw[0]:]      # positions in `rows`
    out = _lerp(np.take(rows, upper, axis=1), np.take(rows, lower, axis=1), fy)
    return out, (a_h, a_w)


def _lerp(a, b, fraction):
    """a + (b - a) * fraction, rounded after each operation as TensorFlow's kernel rounds;
    computed in b's buffer (b is a fresh gather nobody else holds)."""
    b -= a
    b *= fraction
    b += a
    return b


def resize_backward(dout, cache):
    """dout: (batch, out_h, out_w, channels) -> dx: (batch, h, w, channels)."""
    a_h, a_w = cache
    batch, out_h, out_w, channels = dout.shape
    dcols = a_w.T @ dout.reshape(batch * out_h, out_w, channels)          # (b*oh, w, c)
    width = a_w.shape[1]
    dx = a_h.T @ dcols.reshape(batch, out_h, width * channels)            # (b, h, w*c)
    return dx.reshape(batch, a_h.shape[1], width, channels)
