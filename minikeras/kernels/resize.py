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


def resize_forward(x, out_hw, interpolation):
    """x: (batch, h, w, channels) -> (out, cache), out: (batch, out_h, out_w, channels)."""
    batch, height, width, channels = x.shape
    a_h = interpolation_matrix(height, out_hw[0], interpolation).astype(x.dtype)
    a_w = interpolation_matrix(width, out_hw[1], interpolation).astype(x.dtype)
    if interpolation == "nearest":
        # a selection: gather rather than multiply, so every output is an input value exactly
        out = x[:, a_h.argmax(axis=1)][:, :, a_w.argmax(axis=1)]
        return out, (a_h, a_w)
    rows = a_h @ x.reshape(batch, height, width * channels)                # (b, oh, w*c)
    out = a_w @ rows.reshape(batch * out_hw[0], width, channels)          # (b*oh, ow, c)
    return out.reshape(batch, *out_hw, channels), (a_h, a_w)


def resize_backward(dout, cache):
    """dout: (batch, out_h, out_w, channels) -> dx: (batch, h, w, channels)."""
    a_h, a_w = cache
    batch, out_h, out_w, channels = dout.shape
    dcols = a_w.T @ dout.reshape(batch * out_h, out_w, channels)          # (b*oh, w, c)
    width = a_w.shape[1]
    dx = a_h.T @ dcols.reshape(batch, out_h, width * channels)            # (b, h, w*c)
    return dx.reshape(batch, a_h.shape[1], width, channels)
