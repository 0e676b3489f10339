"""keras.ops's linear algebra: norm (built from ops, so its gradient follows)."""

from minikeras.ops import numpy as _np_ops


def norm(x, ord=None, axis=None, keepdims=False):
    """Vector norms along `axis` (all entries when None): ord None/2 (Euclidean), 1, inf,
    -inf, or any p; matrix norm 'fro' for two axes."""
    if ord in (None, 2, "fro", "euclidean"):
        return _np_ops.sqrt(_np_ops.sum(_np_ops.square(x), axis=axis, keepdims=keepdims))
    if ord == 1:
        return _np_ops.sum(_np_ops.abs(x), axis=axis, keepdims=keepdims)
    if ord == float("inf"):
        return _np_ops.max(_np_ops.abs(x), axis=axis, keepdims=keepdims)
    if ord == float("-inf"):
        return _np_ops.min(_np_ops.abs(x), axis=axis, keepdims=keepdims)
    if isinstance(ord, (int, float)) and ord > 0:
        total = _np_ops.sum(_np_ops.power(_np_ops.abs(x), float(ord)), axis=axis,
                            keepdims=keepdims)
        return _np_ops.power(total, 1.0 / ord)
    raise ValueError(f"Unsupported norm order. Received: ord={ord!r}")
