"""The fast BatchNormalization kernel: the maths of the plain version in
layers/batch_normalization.py (`forward` / `backward`, with base_normalization's `moments` and
`normalize_backward`), arranged for speed. `minikeras.config.set_kernels("reference")` makes
the layer run the plain version; tests/test_batch_normalization_fast.py checks the two agree.

It works on the (rows, features) view of an input with the features on its last axis:
rows = x.reshape(M, C), M = batch * height * width for images. Per feature:

    mean, var over the M rows                 rstd = 1 / sqrt(var + epsilon)
    forward   out = x * scale + shift         scale = gamma * rstd, shift = beta - mean * scale
    backward  dbeta = sum(dout)               dgamma = rstd * (sum(dout * x) - mean * dbeta)
              dx = a * (dout + x * b + c)     a = gamma * rstd,  b = -rstd * dgamma / M,
                                              c = -dbeta / M - b * mean

The backward is normalize_backward's dx = rstd * (dx_hat - mean(dx_hat) - x_hat *
mean(dx_hat * x_hat)) with dx_hat = gamma * dout and x_hat = (x - mean) * rstd, multiplied
out (mean(dx_hat) = gamma * dbeta / M, mean(dx_hat * x_hat) = gamma * dgamma / M); the
forward's form is TensorFlow's. With the moving statistics (inference, or a frozen
layer) mean and var are constants and dx = dout * a. Multiplied out, x's mean cancels in
float arithmetic (x * scale + shift, sum(dout * x) - mean * dbeta): the rounding error grows
with |mean| / std of a feature, as it does in TensorFlow's forward pass. The mean and variance
themselves are exact (below).

Why it is faster than the same formulas written as whole-array NumPy expressions:

- BatchNormalization does a handful of cheap elementwise steps, so its time is memory
  traffic: written naively, each step is one more pass over arrays of 10 MB or so (a first
  convolution's output). Here the rows go in blocks of about BLOCK_BYTES, and every step of
  a phase runs on one block while it is in the core's cache: each phase reads its inputs
  from memory once and writes its output once.
- A per-feature vector broadcast over the rows (x * scale) runs about half as fast in NumPy
  as the product of two arrays of one shape, so each vector is copied once into a
  block-shaped tile and the steps multiply block by tile.
- Column sums are matrix-vector products ones @ block (BLAS), accumulated in float64.
- The variance is not sum(x^2)/M - mean^2 (which cancels in float32) but comes from the
  deviations from a first estimate of the mean, as in the plain version; the estimate is
  the first block's mean, which saves a pass over x (`moments`).
- The blocks are shared out among the cores as each comes free (parallel.over_items); a
  block's step writes only its own rows of `out` / `dx` and returns its column sums, which
  are added in block order, so results do not depend on which core did what.
- The cache keeps x itself: the formulas above need no x_hat, which would cost a pass to
  write in the forward pass and another to read back.
- Big outputs and the small tiles come from the layer's Workspace (kernels/workspace.py).
"""

import functools

import numpy as np

from minikeras.kernels import parallel, workspace

# Rows per block: about this many bytes of one (rows, features) array. Smaller blocks stay
# in a core's L2 cache but cost more Python calls per row; on a 1 MB L2, 512 KB measured
# fastest of 128 KB-2 MB (benchmarks/bench_batchnorm.py's first layer: 4,096 rows of 32).
# Below this many elements (a Dense-sized batch, (32, 256)) the blocks and tiles cost more
# than they save: the layer runs its plain version (about 45 us against 70 us there).
FAST_MIN_ELEMENTS = 2**14
BLOCK_BYTES = 512 * 1024
# Tiles are filled TILE_GROUP rows at a time (see _tile).
TILE_GROUP = 32
# Below this many elements one thread does every block: see parallel.py.
PARALLEL_MIN_ELEMENTS = parallel.PARALLEL_MIN_ELEMENTS


def block_rows(rows):
    """Rows per block of a (M, C) array: at most M; a multiple of TILE_GROUP when more."""
    return _block_rows(rows.shape[0], rows.shape[1] * rows.itemsize, BLOCK_BYTES)


@functools.lru_cache(maxsize=64)
def _block_rows(m, row_bytes, block_bytes):
    size = max(1, block_bytes // max(1, row_bytes))
    if size > TILE_GROUP:
        size -= size % TILE_GROUP
    return min(m, size)


def _over_blocks(work, rows, ws, scratch_count=0):
    """Calls work(block, scratch) for each block of the rows, the cores taking blocks as
    they come free (parallel.over_items). block: a slice of rows; scratch: a list of
    `scratch_count` (block rows, C) arrays that only this call's worker uses meanwhile.
    Returns work's results in block order."""
    m, size = rows.shape[0], block_rows(rows)
    if size == m:        # one block: no sharing out (the common case for small layers)
        return [work(slice(0, m), [workspace.empty(ws, f"scratch0.{j}", rows.shape, rows.dtype)
                                   for j in range(scratch_count)])]
    blocks = [slice(start, min(start + size, m)) for start in range(0, m, size)]
    workers = parallel.item_workers(len(blocks), rows.size, PARALLEL_MIN_ELEMENTS)
    scratch = [[workspace.empty(ws, f"scratch{worker}.{j}", (size, rows.shape[1]), rows.dtype)
                for j in range(scratch_count)] for worker in range(workers)]
    return parallel.over_items(lambda item, worker: work(blocks[item], scratch[worker]),
                               len(blocks), rows.size, PARALLEL_MIN_ELEMENTS)


def _total(block_sums):
    """The float64 sum of per-block column sums, added in block order (the same rounding
    whichever core made which block)."""
    if len(block_sums) == 1:
        return block_sums[0].astype(np.float64)
    return np.sum(np.array(block_sums, dtype=np.float64), axis=0)


def _tile(ws, name, vector, rows):
    """`vector` (C,) repeated down a (block rows, C) array of rows' dtype; when all rows
    are one block, the (1, C) vector itself."""
    shape = (block_rows(rows), rows.shape[1])
    vector = np.asarray(vector, dtype=rows.dtype)
    if shape[0] == rows.shape[0]:
        # one block: each step runs once, so broadcasting the vector costs what filling a
        # tile would. (1, C): a block's tile[:k] is still the one row, which broadcasts.
        return vector.reshape(1, -1)
    tile = workspace.empty(ws, name, shape, rows.dtype)
    if shape[0] % TILE_GROUP == 0:
        # copying a row of TILE_GROUP vectors down is faster than broadcasting one vector
        groups = tile.reshape(-1, TILE_GROUP * shape[1])
        tile[:TILE_GROUP] = vector
        groups[1:] = groups[0]
    else:
        tile[...] = vector
    return tile


@functools.lru_cache(maxsize=16)
def _ones_of(length, dtype):
    ones = np.ones(length, dtype=dtype)
    ones.flags.writeable = False
    return ones


def _ones(rows):
    """The vector that turns the column sums of a block into a BLAS product: ones @ block."""
    return _ones_of(block_rows(rows), rows.dtype)


# ------------------------------------------------------------------ forward


def moments(rows, ws=None):
    """Mean and (biased) variance of each column of rows (M, C), M >= 1: float64 (C,).

    The deviations d = x - m from any guess m give the exact mean m + mean(d) and variance
    mean(d^2) - mean(d)^2 (Chan, Golub and LeVeque's corrected two-pass algorithm). That
    difference cancels only if m is far from the mean, so m is the mean of the first block
    of rows (a few whole images: one block read instead of a whole first pass over x), and
    if it turns out more than a standard deviation away for some feature, the deviations
    are taken again from the mean just found. Either way the variance is as accurate as the
    plain version's two passes.
    """
    ones = _ones(rows)
    first = rows[:len(ones)]
    guess = (ones @ first) / len(first)
    mean, var, far = _deviation_moments(rows, guess, ones, ws)
    if far:
        mean, var, _ = _deviation_moments(rows, mean, ones, ws)
    return mean, var


def _deviation_moments(rows, guess, ones, ws):
    """(mean, var, whether the guess was more than a standard deviation off) from the
    deviations of the rows from `guess` (C,)."""
    m = rows.shape[0]
    guess_tile = _tile(ws, "mean", guess, rows)

    def block_deviations(block, scratch):
        """(sum(d), sum(d^2)) over the block's rows, d = x - guess."""
        x = rows[block]
        k = len(x)
        d = scratch[0][:k]
        np.subtract(x, guess_tile[:k], out=d)
        d_sum = ones[:k] @ d
        np.multiply(d, d, out=d)
        return d_sum, ones[:k] @ d

    sums = _over_blocks(block_deviations, rows, ws, scratch_count=1)
    mean_d = _total([d_sum for d_sum, _ in sums]) / m
    mean_d2 = _total([d2_sum for _, d2_sum in sums]) / m
    var = mean_d2 - mean_d ** 2
    # the tile holds the guess rounded to rows' dtype: that is what d was taken from
    mean = guess_tile[0].astype(np.float64) + mean_d
    return mean, var, bool(np.any(mean_d ** 2 > var))


def scale_shift(rows, scale, shift, ws=None):
    """out = rows * scale + shift: rows (M, C), scale and shift (C,). Returns out (M, C) of
    rows' dtype, from the workspace."""
    out = workspace.empty(ws, "out", rows.shape, rows.dtype)
    scale_tile = _tile(ws, "scale", scale, rows)
    shift_tile = _tile(ws, "shift", shift, rows)

    def block_out(block, scratch):
        x, o = rows[block], out[block]
        k = len(x)
        np.multiply(x, scale_tile[:k], out=o)
        np.add(o, shift_tile[:k], out=o)

    _over_blocks(block_out, rows, ws)
    return out


# ------------------------------------------------------------------ backward


def gradient_sums(drows, rows, mean, ws=None):
    """(sum(dout), sum(dout * (x - mean))) over the rows, each float64 (C,).

    drows, rows: (M, C) views of dout and x, of one dtype; mean: (C,). The second sum is
    taken as sum(dout * x) - mean * sum(dout): one subtraction per element fewer than
    centring x first.
    """
    ones = _ones(rows)

    def block_sums(block, scratch):
        x, dy = rows[block], drows[block]
        k = len(x)
        product = scratch[0][:k]
        np.multiply(x, dy, out=product)
        return ones[:k] @ dy, ones[:k] @ product

    sums = _over_blocks(block_sums, rows, ws, scratch_count=1)
    dout_total = _total([dout_sum for dout_sum, _ in sums])
    product_total = _total([product_sum for _, product_sum in sums])
    return dout_total, product_total - mean * dout_total


def input_gradient(drows, rows, a, b=None, c=None, ws=None):
    """dx = a * (dout + x * b + c), or dout * a when b and c are None (the moving
    statistics). drows, rows: (M, C) of one dtype; a, b, c: (C,). Returns dx (M, C), from
    the workspace."""
    dx = workspace.empty(ws, "dx", rows.shape, rows.dtype)
    a_tile = _tile(ws, "a", a, rows)
    with_statistics = b is not None
    if with_statistics:
        b_tile = _tile(ws, "b", b, rows)
        c_tile = _tile(ws, "c", c, rows)

    def block_dx(block, scratch):
        x, dy, d = rows[block], drows[block], dx[block]
        k = len(x)
        if with_statistics:
            # all but the first step work in place on the block of dx: faster than
            # writing to a third array
            np.multiply(x, b_tile[:k], out=d)
            np.add(d, dy, out=d)
            np.add(d, c_tile[:k], out=d)
            np.multiply(d, a_tile[:k], out=d)
        else:
            np.multiply(dy, a_tile[:k], out=d)

    _over_blocks(block_dx, rows, ws)
    return dx
