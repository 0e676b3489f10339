"""keras.ops's math ops: logsumexp, erf-free helpers built from ops."""

import numpy as np

from minikeras.ops.tape import primitive


@primitive
def logsumexp(x, axis=None, keepdims=False):
    """log(sum(exp(x))) along `axis`, computed after subtracting the maximum (no overflow).

    d/dx = g * softmax(x) along `axis`.
    """
    x = np.asarray(x)
    peak = np.max(x, axis=axis, keepdims=True)
    peak = np.where(np.isfinite(peak), peak, 0)
    total = np.sum(np.exp(x - peak), axis=axis, keepdims=True)
    out_kept = np.log(total) + peak
    out = out_kept if keepdims else np.squeeze(out_kept, axis=axis)

    def vjp(g):
        if not keepdims:
            g = np.expand_dims(g, axis if axis is not None else tuple(range(x.ndim)))
        return (g * np.exp(x - out_kept),)

    return out.astype(x.dtype, copy=False), vjp
