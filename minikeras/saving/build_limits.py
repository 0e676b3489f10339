"""How much memory a model being loaded from a file may ask for, checked before it is taken.

A `.keras` file's config.json says which layers to build, and its model.weights.h5 must then
hold every weight those layers create. So before building anything the loader knows how many
bytes of weights can possibly be right: about the size of the weights member (more only when
its arrays are compressed; Keras allows 1000 times). A config asking for
`Dense(units=10**12)` beside a 3 KB weights member is refused when the layer asks for its
kernel, before the memory is taken:

    with build_limits.loading(source, max_bytes, why):    # in the loader
        model = deserialize(config)                       # builds the layers
    ...
    with build_limits.allocating(layer, name, shape, dtype):   # in Layer.add_weight
        value = initializer(shape, dtype)

Outside `loading` nothing is checked, and a MemoryError stays a MemoryError, as in Keras.
Inside it, a weight over the limit, or an allocation that fails, is a ValueError naming the
layer, the weight, its size and the layer argument that made it so large.
"""

import contextlib
import contextvars
import math

import numpy as np

_CURRENT = contextvars.ContextVar("minikeras_build_limit", default=None)


class WeightLimitError(ValueError):
    """A layer built from a file asks for more memory than the file could justify."""


class _Limit:
    def __init__(self, source, max_bytes, why):
        self.source = source
        self.max_bytes = max_bytes      # None: no cap, but failures still get context
        self.why = why
        self.used = 0


@contextlib.contextmanager
def loading(source, max_bytes=None, why=""):
    """Weights created inside this block may total at most max_bytes (None: any size).

    source: the file (for messages); why: where the cap comes from, for messages.
    """
    token = _CURRENT.set(_Limit(source, max_bytes, why))
    try:
        yield
    finally:
        _CURRENT.reset(token)


@contextlib.contextmanager
def allocating(layer, name, shape, dtype):
    """Wraps the allocation of one weight of `layer` (Layer.add_weight)."""
    limit = _CURRENT.get()
    if limit is None:
        yield
        return
    nbytes = math.prod(shape) * np.dtype(dtype).itemsize       # Python ints: no overflow
    if limit.max_bytes is not None and limit.used + nbytes > limit.max_bytes:
        raise WeightLimitError(
            f"layer {layer.name!r} ({type(layer).__name__}) asks for a weight {name!r} of "
            f"shape {shape} ({readable_size(nbytes)}), more than {limit.why}. "
            f"{_blame(layer, shape)}"
        )
    try:
        yield
    except MemoryError as error:
        raise WeightLimitError(
            f"layer {layer.name!r} ({type(layer).__name__}) asks for a weight {name!r} of "
            f"shape {shape} ({readable_size(nbytes)}): there is not enough memory ({error}). "
            f"{_blame(layer, shape)}"
        ) from None
    limit.used += nbytes


def _blame(layer, shape):
    """'Check its argument units=...' for the layer argument behind the largest dimension."""
    try:
        config = layer.get_config()
    except Exception:       # a custom layer's get_config may fail: the message still helps
        config = {}
    largest = max(shape, default=0)
    for key, value in config.items():
        values = value if isinstance(value, (list, tuple)) else [value]
        if any(isinstance(v, int) and not isinstance(v, bool) and v == largest
               for v in values):
            return f"Check its argument {key}={value!r}."
    return "Check its arguments and its input shape."


def readable_size(nbytes):
    """1536 -> '1.5 KiB'."""
    if nbytes < 1024:
        return f"{nbytes} bytes"
    size = nbytes / 1024
    for unit in ("KiB", "MiB", "GiB"):
        if size < 1024:
            return f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TiB"
