"""Arrays a layer reuses from one training step to the next instead of allocating anew.

A training step of a convnet makes tens of megabytes of big temporary arrays (im2col
matrices, convolution outputs, their gradients). Freshly allocated, each comes from new
pages the operating system must map (a minor page fault per 4 KB page touched, a few
microseconds each) and is unmapped again when freed; the next step pays again. A layer that
keeps its big arrays in a Workspace gets the same memory back at the next step.

A buffer is handed out again only when nothing else refers to it any more (CPython's
reference count: no cache, view or caller still holds it). So reuse can never overwrite an
array still in use: a layer called twice in one step, or a caller keeping an output, simply
gets a second buffer.
"""

import sys

import numpy as np

# At most this many buffers of one (name, shape, dtype) are kept; beyond that, fresh arrays.
MAX_BUFFERS_PER_KEY = 2


class Workspace:
    """Named buffers, reused when free. `empty` is like np.empty, `zeros` like np.zeros
    except that a reused buffer keeps what was written into it (see `zeros`)."""

    def __init__(self):
        self._buffers = {}   # (name, shape, dtype) -> list of arrays

    def empty(self, name, shape, dtype):
        """An array of `shape` and `dtype` with unspecified contents."""
        return self._get(name, shape, dtype, np.empty)

    def zeros(self, name, shape, dtype):
        """An array that was zero when first allocated. Callers that only ever write its
        interior (a padded copy of an image) can rely on the border staying zero."""
        return self._get(name, shape, dtype, np.zeros)

    def _get(self, name, shape, dtype, allocate):
        key = (name, tuple(shape), np.dtype(dtype))
        buffers = self._buffers.setdefault(key, [])
        for buffer in buffers:
            # Three references: the list, the loop variable and getrefcount's argument.
            # One more means a cache, a view or a caller still uses it.
            if sys.getrefcount(buffer) == 3:
                return buffer
        buffer = allocate(shape, dtype=dtype)
        if len(buffers) < MAX_BUFFERS_PER_KEY:
            buffers.append(buffer)
        return buffer

    def clear(self):
        """Forgets every buffer (their memory is freed once nothing else holds them)."""
        self._buffers.clear()

    def __deepcopy__(self, memo):
        return Workspace()      # a copied layer starts with buffers of its own


def empty(workspace, name, shape, dtype):
    """workspace.empty(...), or np.empty when there is no workspace (workspace is None)."""
    if workspace is None:
        return np.empty(shape, dtype=dtype)
    return workspace.empty(name, shape, dtype)


def zeros(workspace, name, shape, dtype):
    """workspace.zeros(...), or np.zeros when there is no workspace."""
    if workspace is None:
        return np.zeros(shape, dtype=dtype)
    return workspace.zeros(name, shape, dtype)


__all__ = ["Workspace", "empty", "zeros"]
