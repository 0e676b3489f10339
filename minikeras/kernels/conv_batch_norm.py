"""A convolution with few taps followed by BatchNormalization (training), with the
normalization's statistics and gradients taken from the convolution's im2col matrix instead
of from its big output.

A first layer (grey or RGB images, a 3x3 or 5x5 window: K = kh*kw*in_channels is 9 to 75)
writes an output F/K times bigger than its im2col matrix, and BatchNormalization reads and
writes that output several times; with one pass of its own, the convolution costs less than
the normalization after it. But the normalization needs only a few numbers per filter, and
the convolution is linear, so they follow from small matrices. With the im2col matrix C
(M, K) taken relative to t, a guess of its column means (so that no sum below is a small
difference of big numbers, whatever the data's offset), Cc = C - t:

    z = C W + b = Cc W + z0             W: kernel (K, F), b: conv bias, z0 = t W + b
    s = Cc^T 1  (K,)                    G = Cc^T Cc  (K, K)          float64, one pass over C

    mean = s^T W / M + z0               var = diag(W^T (G - s s^T / M) W) / M

The output y = (z - mean) * a + beta, a = gamma / sqrt(var + eps), takes one pass (y = z * a
+ c). Backward, with dy (M, F) and P = Cc^T dy (K, F) (one product over dy):

    dbeta = sum(dy)                     dgamma = (diag(W^T P) + (z0 - mean) dbeta) / std
    dz = a dy + u + v z                 v = -a dgamma / (M std),  u = -a dbeta / M - v mean
    dW = C^T dz = Cc^T dz (as sum(dz) = 0)
       = a P + (G W) v + s (v (z0 - mean) - a dbeta / M)^T
    db = sum(dz) = 0

so neither dz nor z is read again: the normalization costs one pass over z (forward) and the
product P (backward). models/fusion.py decides when a pair of layers runs this way;
tests/test_fusion.py checks it against the layers run one by one.
"""

import numpy as np

# Rows of the im2col matrix per block: the small products below run on blocks that stay in
# the cache, in cols' dtype, their sums kept in float64. (OpenBLAS runs these long, thin
# products fastest in blocks of a few thousand rows; sizes measured on this project's machine.
# Splitting them over threads was slower: small products from several threads do not run at
# once.)
BLOCK_ROWS = 4096
PRODUCT_BLOCK_ROWS = 2048


def _centred_blocks(cols, shift, block_rows):
    """Yields (rows slice, block): (cols[rows] - shift)^T with a last row of ones, (K + 1, n)
    in cols' dtype, so that one product with the block also gives column sums. Transposed
    because a first layer's im2col matrix is stored that way (kernels/conv_fast.py)."""
    m, k = cols.shape
    block = np.empty((k + 1, min(m, block_rows)), dtype=cols.dtype)
    block[k] = 1
    column_shift = shift[:, None]
    for start in range(0, m, block_rows):
        rows = slice(start, min(start + block_rows, m))
        n = rows.stop - start
        np.subtract(cols[rows].T, column_shift, out=block[:k, :n])
        yield rows, block[:, :n]


def cols_moments(cols):
    """(t, s, G) of cols (M, K): t the first block's column means (rounded to cols' dtype),
    s and G the column sums and Gram matrix of cols - t; float64."""
    k = cols.shape[1]
    t = cols[:BLOCK_ROWS].mean(axis=0, dtype=np.float64).astype(cols.dtype)
    gram = np.zeros((k + 1, k + 1))
    for _, block in _centred_blocks(cols, t, BLOCK_ROWS):
        gram += block @ block.T                   # [[G, s], [s^T, n]] of the block
    return t.astype(np.float64), gram[k, :k].copy(), gram[:k, :k].copy()


def statistics(t, s, gram, m, kernel, bias):
    """(mean, variance, z0) of z = C W + b over its M rows, float64 (F,) each."""
    w = kernel.astype(np.float64)
    z0 = t @ w if bias is None else t @ w + bias
    mean = s @ w / m + z0
    centred = gram - np.outer(s, s) / m                 # Cc^T Cc of Cc minus its means
    var = np.maximum((w * (centred @ w)).sum(axis=0) / m, 0.0)
    return mean, var, z0


def product_and_sum(cols, t, drows, with_ones=None, gram=None):
    """((cols - t)^T dy (K, F), sum of dy over the rows (F,)), float64; cols (M, K), drows
    (M, F) of one dtype, t from cols_moments.

    with_ones: the same matrix transposed with a row of ones below, (K + 1, M) contiguous (how
    a first layer with a bias in its product stores it), or None. When given, and when no
    column's mean t is large against its spread (from gram, cols_moments' G), the product runs
    on it directly, P = [cols^T dy ; sum of dy], and is centred afterwards: P - t sum(dy)^T
    loses nothing then, and the blocks need no centred copy (half the time).
    """
    k = cols.shape[1]
    m = cols.shape[0]
    if with_ones is not None:
        spread = np.sqrt(np.maximum(np.diag(gram) / m, 0.0))
        if np.all(np.abs(t) <= 4 * spread):
            product = np.zeros((k + 1, drows.shape[1]))
            for start in range(0, m, PRODUCT_BLOCK_ROWS):
                rows = slice(start, start + PRODUCT_BLOCK_ROWS)
                product += with_ones[:, rows] @ drows[rows]
            return product[:k] - np.outer(t, product[k]), product[k]
    product = np.zeros((k + 1, drows.shape[1]))
    for rows, block in _centred_blocks(cols, t.astype(cols.dtype), PRODUCT_BLOCK_ROWS):
        product += block @ drows[rows]            # [(cols - t)^T dy ; sum of dy]
    return product[:k], product[k]


def backward(product, dbeta, s, gram, m, kernel, z0, mean, rstd, a):
    """The gradients of the pair without dz (module docstring), float64.

    Returns (dgamma (F,), dkernel (K, F), u (F,), v (F,)); u and v give dz = a * dy + u + v * z
    for a caller that needs dz itself (for an input gradient). The conv bias's gradient is 0.
    """
    w = kernel.astype(np.float64)
    dgamma = rstd * ((w * product).sum(axis=0) + (z0 - mean) * dbeta)
    v = -a * rstd * dgamma / m
    u = -a * dbeta / m - v * mean
    dkernel = a * product + (gram @ w) * v + np.outer(s, v * (z0 - mean) - a * dbeta / m)
    return dgamma, dkernel, u, v


__all__ = ["backward", "cols_moments", "product_and_sum", "statistics"]
