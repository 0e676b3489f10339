"""The fast 2-D max and average pooling: the reference pooling's results
(pooling_reference.py, checked by tests/test_kernels_agree.py), computed in fewer passes.

    x:   (batch, height, width, channels)
    out: (batch, out_height, out_width, channels)

For a fixed window offset (i, j) the input pixels read by all the windows form one strided
slice of the (padded) input,

    xpad[:, i : i + sh*(out_h-1) + 1 : sh, j : j + sw*(out_w-1) + 1 : sw, :],

so pooling is a few whole-array operations per offset.  The forward pass is separable (a max
or sum over a window is a max or sum over its rows of a max or sum over its columns), so it
costs pw + ph passes instead of ph*pw; the backward pass is ph*pw strided slice additions
(slices of one offset never overlap: no np.add.at needed).  The usual 2x2, stride-2 max
pooling has its own shorter path: a knockout between the four pixels of each window.

Padding follows TensorFlow: "same" pads so that out = ceil(in / stride), the odd row/column
going to the bottom/right.  Max pooling pads with -inf so a padded position never wins;
average pooling divides each window by the number of real (non-padded) pixels it covers.
"""

import numpy as np

from minikeras.kernels import parallel, workspace
from minikeras.kernels.geometry import conv_output_length, offset_slices, pad_amounts


def _offset_slices(i, j, strides, out_hw):
    """Index (batch, rows, cols) of the pixels that window offset (i, j) reads, for all windows."""
    return offset_slices(i, j, strides, (1, 1), out_hw)


def _valid_counts(length, window, stride, out_length, before):
    """How many real (non-padded) pixels each window covers along one axis: (out_length,)."""
    starts = np.arange(out_length) * stride - before
    ends = np.minimum(starts + window, length)
    return ends - np.maximum(starts, 0)


def pool2d_forward(x, pool_size=(2, 2), strides=None, padding="valid", mode="max", ws=None):
    """Max or average pooling of NHWC input `x` (arguments checked by pooling.pool2d_forward).

    Args:
        x: (batch, height, width, channels) float array.
        pool_size: (ph, pw) window.
        strides: (sh, sw).
        padding: "valid" or "same".
        mode: "max" or "average".
        ws: a Workspace for the output and the routing arrays, or None.

    Returns:
        out: (batch, out_height, out_width, channels), dtype of `x`.
        cache: for pool2d_backward. Max mode keeps which pixel won each window: for 2x2
            windows with stride 2, the three knockout outcomes (bool, shaped like `out`);
            otherwise the winning offset (int8, or int32 for windows over 127 pixels).
            Average mode keeps the window sizes.
    """
    batch, height, width, channels = x.shape
    ph, pw = pool_size
    out_h = conv_output_length(height, ph, strides[0], padding)
    out_w = conv_output_length(width, pw, strides[1], padding)
    pads = pad_amounts(height, width, pool_size, strides, padding)
    (top, bottom), (left, right) = pads
    fill = -np.inf if mode == "max" else 0
    if top or bottom or left or right:
        xpad = np.pad(x, ((0, 0), (top, bottom), (left, right), (0, 0)), constant_values=fill)
    else:
        xpad = x
    out_hw = (out_h, out_w)
    cache = {"x_shape": x.shape, "pads": pads, "pool_size": pool_size, "strides": strides,
             "mode": mode, "ws": ws}

    if mode == "max" and pool_size == strides == (2, 2):
        out = workspace.empty(ws, "out", (batch, out_h, out_w, channels), xpad.dtype)
        outcomes = tuple(workspace.empty(ws, f"outcome{k}", out.shape, bool) for k in range(3))

        def knockout(part):
            _max_pool_2x2(xpad[part], out_hw, out[part], tuple(o[part] for o in outcomes))

        parallel.over_batch_parts(knockout, batch, xpad.size)
        cache["outcomes"] = outcomes  # which pixel of each window won: routes the gradient
        return out, cache
    if mode == "max":
        out, argmax = _max_pool_separable(xpad, pool_size, strides, out_hw)
        cache["argmax"] = argmax  # window offset (i*pw + j) that each output pixel came from
        return out, cache

    # A window sum is the sum over its rows of each row's sum over its columns: two passes.
    total = _sum_columns(xpad, pw, strides[1], out_w)           # (batch, h_pad, out_w, c)
    total = _sum_rows(total, ph, strides[0], out_h)              # (batch, out_h, out_w, c)
    # Windows hanging over the padding average only their real pixels (as TensorFlow does).
    counts = np.outer(
        _valid_counts(height, ph, strides[0], out_h, top),
        _valid_counts(width, pw, strides[1], out_w, left),
    ).astype(x.dtype)[:, :, None]
    cache["counts"] = counts  # (out_h, out_w, 1) pixels averaged by each window
    return total / counts, cache


def _strided_range(start, stride, count):
    """Slice of `count` indices start, start + stride, ...: one offset across all windows."""
    return slice(start, start + stride * (count - 1) + 1, stride)


def _sum_columns(x, pw, stride, out_w):
    """(batch, h, w, c) -> (batch, h, out_w, c): sums of the pw columns of each window."""
    total = x[:, :, _strided_range(0, stride, out_w)].copy()
    for j in range(1, pw):
        total += x[:, :, _strided_range(j, stride, out_w)]
    return total


def _sum_rows(x, ph, stride, out_h):
    """(batch, h, out_w, c) -> (batch, out_h, out_w, c): sums of the ph rows of each window."""
    total = x[:, _strided_range(0, stride, out_h)].copy()
    for i in range(1, ph):
        total += x[:, _strided_range(i, stride, out_h)]
    return total


def _quadrants(a, out_hw):
    """The four pixels of every 2x2, stride-2 window of `a`, as strided views shaped like the
    pooled output: (top-left, top-right, bottom-left, bottom-right)."""
    return tuple(a[_offset_slices(i, j, (2, 2), out_hw)] for i in (0, 1) for j in (0, 1))


def _max_pool_2x2(xpad, out_hw, out, outcomes):
    """Maxima of the 2x2, stride-2 windows (the usual pooling), as a knockout in each window.

    Left meets right in each row, then the top row's winner meets the bottom row's. A
    challenger (right, bottom) wins only when strictly greater, so of tied maxima the first in
    row-major order wins: the pixel TensorFlow sends the gradient to. Six whole-array
    operations on quarter-size arrays, against about fifteen for the general separable pass.

    Writes out (batch, out_h, out_w, c) and the three outcomes (bool arrays shaped like out)
    that pool2d_backward routes the gradient with: (right won the top row, right won the
    bottom row, bottom row won).
    """
    right_wins_top, right_wins_bottom, bottom_wins = outcomes
    top_left, top_right, bottom_left, bottom_right = _quadrants(xpad, out_hw)
    np.greater(top_right, top_left, out=right_wins_top)
    np.greater(bottom_right, bottom_left, out=right_wins_bottom)
    top = np.maximum(top_left, top_right, out=out)        # the top rows' winners, in out for now
    bottom = np.maximum(bottom_left, bottom_right)
    np.greater(bottom, top, out=bottom_wins)
    np.maximum(top, bottom, out=out)


def _max_pool_separable(xpad, pool_size, strides, out_hw):
    """Window maxima and the offset i*pw + j of the pixel each came from.

    The maximum over a window is the maximum over its rows of the maximum over each row's
    pw columns, so two passes (pw over every row, then ph over the row maxima) replace ph*pw.
    Keeping the first strict maximum in each pass (columns first, then rows) gives the first
    maximum in row-major order: the pixel TensorFlow sends the gradient to when several tie.
    """
    ph, pw = pool_size
    out_h, out_w = out_hw
    index_dtype = np.int8 if ph * pw <= 127 else np.int32
    # Masked selection (np.where, np.copyto(where=...)) runs many times slower than plain
    # arithmetic in NumPy, so values use np.maximum and indices use `i += better * (j - i)`.
    # Pass 1, along each row: the maximum and the best column j of every window position.
    row_max = xpad[:, :, _strided_range(0, strides[1], out_w)]        # (batch, h_pad, out_w, c)
    best_col = np.zeros(row_max.shape, dtype=index_dtype)
    for j in range(1, pw):
        candidate = xpad[:, :, _strided_range(j, strides[1], out_w)]
        better = candidate > row_max          # strict: the first maximum keeps the gradient
        row_max = np.maximum(row_max, candidate)
        best_col += better * (index_dtype(j) - best_col)
    # Pass 2, down the rows: the best row i, carrying along that row's best column.
    rows = _strided_range(0, strides[0], out_h)
    out = row_max[:, rows]                                             # (batch, out_h, out_w, c)
    win_row = np.zeros(out.shape, dtype=index_dtype)
    win_col = best_col[:, rows].copy()
    for i in range(1, ph):
        rows = _strided_range(i, strides[0], out_h)
        candidate = row_max[:, rows]
        better = candidate > out
        out = np.maximum(out, candidate)
        win_row += better * (index_dtype(i) - win_row)
        win_col += better * (best_col[:, rows] - win_col)
    argmax = win_row * index_dtype(pw) + win_col
    out = np.ascontiguousarray(out)       # a view of xpad only when the window is 1 x 1
    return out, argmax


def pool2d_backward(dout, cache):
    """Gradient of pool2d_forward.

    Args:
        dout: (batch, out_height, out_width, channels) gradient w.r.t. the pooled output.
        cache: from pool2d_forward.

    Returns:
        dx: (batch, height, width, channels).
    """
    batch, height, width, channels = cache["x_shape"]
    (top, bottom), (left, right) = cache["pads"]
    ph, pw = cache["pool_size"]
    strides = cache["strides"]
    out_hw = dout.shape[1:3]
    padded_shape = (batch, height + top + bottom, width + left + right, channels)
    # Windows that neither overlap nor leave pixels out (stride == pool size, tiling the
    # padded input exactly: the usual 2x2 pooling of an even-sized image) give every pixel
    # exactly one gradient, which can be written in place instead of added to zeros.
    tiled = (tuple(strides) == (ph, pw) and padded_shape[1] == out_hw[0] * ph
             and padded_shape[2] == out_hw[1] * pw)
    dxpad = workspace.empty(cache["ws"], "dxpad", padded_shape, dout.dtype)
    if not tiled:
        dxpad[...] = 0
    if "outcomes" in cache:
        # The 2x2 knockout played backwards: each window's gradient goes to the pixel that
        # won its row and then the final (dout * won: as np.where(won, dout, 0), faster).
        right_wins_top, right_wins_bottom, bottom_wins = cache["outcomes"]

        def route(part):
            right_top, right_bottom, bottom = (right_wins_top[part], right_wins_bottom[part],
                                               bottom_wins[part])
            won = (~bottom & ~right_top, ~bottom & right_top,
                   bottom & ~right_bottom, bottom & right_bottom)
            for pixel_won, target in zip(won, _quadrants(dxpad[part], out_hw), strict=True):
                np.multiply(dout[part], pixel_won, out=target)

        parallel.over_batch_parts(route, batch, dxpad.size)
    elif cache["mode"] == "max":
        argmax = cache["argmax"]
        # Each window routes its gradient to the pixel that won it: dx += dout * [argmax == k]
        # (dout * winner: as np.where(winner, dout, 0), many times faster).
        for i in range(ph):
            for j in range(pw):
                winner = argmax == i * pw + j
                target = dxpad[_offset_slices(i, j, strides, out_hw)]
                if tiled:
                    np.multiply(dout, winner, out=target)
                else:
                    target += dout * winner
    else:
        # d(mean)/d(pixel) = 1 / (real pixels in the window), for every pixel of the window
        share = dout / cache["counts"]
        for i in range(ph):
            for j in range(pw):
                target = dxpad[_offset_slices(i, j, strides, out_hw)]
                if tiled:
                    target[...] = share
                else:
                    target += share
    if top or bottom or left or right:
        return np.ascontiguousarray(dxpad[:, top : top + height, left : left + width, :])
    return dxpad


__all__ = ["pool2d_backward", "pool2d_forward"]
