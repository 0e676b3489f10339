"""keras.ops's NumPy-like ops: arithmetic, reductions, shapes, products and comparisons.

Each op is its forward maths and, right beside it, its backward rule (the vector-Jacobian
product `vjp(g)`: g = dL/d(out) -> dL/d(each input)). `primitive` (ops/tape.py) records them
on the tape when an input is tracked; on plain arrays they are NumPy and return arrays.

Broadcasting: an input that broadcasting stretched gets `sum_to_shape(g, x.shape)`, the
gradient summed back over the stretched axes.
"""

import builtins

import numpy as np

from minikeras import backend
from minikeras.ops.tape import primitive, sum_to_shape


def _arr(x):
    """Python numbers become arrays (Keras's default float type for floats)."""
    if isinstance(x, np.ndarray):
        return x
    if isinstance(x, float):
        return np.asarray(x, dtype=backend.floatx())
    return np.asarray(x)


def _binary(x1, x2):
    """Two operands as arrays. A Python number takes the array's dtype (as Keras's weak
    types do: x_float32 + 1.0 stays float32)."""
    if type(x1) is np.ndarray and type(x2) is np.ndarray:
        return x1, x2
    if isinstance(x1, (int, float)) and isinstance(x2, np.ndarray):
        x1 = np.asarray(x1, dtype=x2.dtype if x2.dtype.kind == "f" else None)
    if isinstance(x2, (int, float)) and isinstance(x1, np.ndarray):
        x2 = np.asarray(x2, dtype=x1.dtype if x1.dtype.kind == "f" else None)
    return _arr(x1), _arr(x2)


# ----------------------------------------------------------------- arithmetic


@primitive
def add(x1, x2):
    """out = x1 + x2 (broadcast)."""
    x1, x2 = _binary(x1, x2)
    out = np.add(x1, x2)
    return out, lambda g: (sum_to_shape(g, x1.shape), sum_to_shape(g, x2.shape))


@primitive
def subtract(x1, x2):
    """out = x1 - x2."""
    x1, x2 = _binary(x1, x2)
    out = np.subtract(x1, x2)
    return out, lambda g: (sum_to_shape(g, x1.shape), sum_to_shape(-g, x2.shape))


@primitive
def multiply(x1, x2):
    """out = x1 * x2.        d/dx1 = g * x2,  d/dx2 = g * x1."""
    x1, x2 = _binary(x1, x2)
    out = np.multiply(x1, x2)
    return out, lambda g: (sum_to_shape(g * x2, x1.shape), sum_to_shape(g * x1, x2.shape))


@primitive
def divide(x1, x2):
    """out = x1 / x2.        d/dx1 = g / x2,  d/dx2 = -g * x1 / x2**2."""
    x1, x2 = _binary(x1, x2)
    out = np.true_divide(x1, x2)
    if out.dtype.kind != "f":
        out = out.astype(backend.floatx())
    return out, lambda g: (sum_to_shape(g / x2, x1.shape),
                           sum_to_shape(-g * out / x2, x2.shape))


true_divide = divide


@primitive
def negative(x):
    """out = -x."""
    return np.negative(_arr(x)), lambda g: (-g,)


@primitive
def power(x1, x2):
    """out = x1 ** x2.       d/dx1 = g * x2 * x1**(x2-1),  d/dx2 = g * out * log(x1)."""
    x1, x2 = _binary(x1, x2)
    out = np.power(x1, x2)

    def vjp(g):
        dx1 = g * x2 * np.power(x1, x2 - 1)
        dx2 = None
        if x2.dtype.kind == "f":
            with np.errstate(divide="ignore", invalid="ignore"):
                dx2 = sum_to_shape(np.where(x1 > 0, g * out * np.log(np.where(x1 > 0, x1, 1)),
                                            0), x2.shape)
        return sum_to_shape(dx1, x1.shape), dx2

    return out, vjp


@primitive
def square(x):
    """out = x**2.           d/dx = 2 x g."""
    x = _arr(x)
    return np.square(x), lambda g: (2 * x * g,)


@primitive
def sqrt(x):
    """out = sqrt(x).        d/dx = g / (2 out)."""
    out = np.sqrt(_float(x))
    return out, lambda g: (g / (2 * out),)


@primitive
def abs(x):
    """out = |x|.            d/dx = g * sign(x) (0 at 0, as TensorFlow)."""
    x = _arr(x)
    return np.abs(x), lambda g: (g * np.sign(x),)


absolute = abs


@primitive
def sign(x):
    """out = sign(x); no gradient flows through it (its derivative is 0 almost everywhere)."""
    x = _arr(x)
    return np.sign(x), lambda g: (np.zeros_like(x),)


@primitive
def exp(x):
    """out = e**x.           d/dx = g * out."""
    out = np.exp(_float(x))
    return out, lambda g: (g * out,)


@primitive
def log(x):
    """out = ln x.           d/dx = g / x."""
    x = _float(x)
    return np.log(x), lambda g: (g / x,)


@primitive
def log1p(x):
    """out = ln(1 + x).      d/dx = g / (1 + x)."""
    x = _float(x)
    return np.log1p(x), lambda g: (g / (1 + x),)


@primitive
def maximum(x1, x2):
    """out = max(x1, x2); the gradient goes to the larger (to x1 on ties, as TensorFlow)."""
    x1, x2 = _binary(x1, x2)
    out = np.maximum(x1, x2)
    first = x1 >= x2
    return out, lambda g: (sum_to_shape(np.where(first, g, 0), x1.shape),
                           sum_to_shape(np.where(first, 0, g), x2.shape))


@primitive
def minimum(x1, x2):
    """out = min(x1, x2); the gradient goes to the smaller (to x1 on ties)."""
    x1, x2 = _binary(x1, x2)
    out = np.minimum(x1, x2)
    first = x1 <= x2
    return out, lambda g: (sum_to_shape(np.where(first, g, 0), x1.shape),
                           sum_to_shape(np.where(first, 0, g), x2.shape))


@primitive
def clip(x, x_min, x_max):
    """out = x limited to [x_min, x_max]; the gradient passes only where x was inside."""
    x = _arr(x)
    out = np.clip(x, x_min, x_max)
    inside = (x >= x_min) & (x <= x_max)
    return out, lambda g: (np.where(inside, g, 0), None, None)


@primitive
def where(condition, x1=None, x2=None):
    """out = x1 where condition, else x2; each branch gets the gradient where it was chosen."""
    condition = np.asarray(condition, dtype=bool)
    if x1 is None and x2 is None:
        return np.nonzero(condition), None
    x1, x2 = _binary(x1, x2)
    out = np.where(condition, x1, x2)
    return out, lambda g: (None, sum_to_shape(np.where(condition, g, 0), x1.shape),
                           sum_to_shape(np.where(condition, 0, g), x2.shape))


def _float(x):
    x = _arr(x)
    return x if x.dtype.kind == "f" else x.astype(backend.floatx())


# ----------------------------------------------------------------- reductions


def _axes(axis, ndim):
    if axis is None:
        return tuple(range(ndim))
    axes = axis if isinstance(axis, (list, tuple)) else (axis,)
    return tuple(a % ndim for a in axes)


def _expand_reduced(g, shape, axis, keepdims):
    """A reduced gradient, broadcast back over the reduced axes to `shape`."""
    if not keepdims:
        g = np.expand_dims(g, _axes(axis, len(shape)))
    return np.broadcast_to(g, shape)


@primitive
def sum(x, axis=None, keepdims=False):
    """out = sum over axis.    d/dx = g broadcast back over the summed axes."""
    x = _arr(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    out = np.sum(x, axis=axis, keepdims=keepdims)
    return out, lambda g: (_expand_reduced(g, x.shape, axis, keepdims),)


@primitive
def mean(x, axis=None, keepdims=False):
    """out = mean over axis.   d/dx = g / n broadcast back (n = count of averaged values)."""
    x = _float(x)
    axis = tuple(axis) if isinstance(axis, list) else axis
    out = np.mean(x, axis=axis, keepdims=keepdims)
    count = x.size // builtins.max(out.size, 1) if x.size else 1
    return out, lambda g: (_expand_reduced(g / count, x.shape, axis, keepdims),)


def _extreme(numpy_fn):
    def forward(x, axis=None, keepdims=False, initial=None):
        x = _arr(x)
        axis = tuple(axis) if isinstance(axis, list) else axis
        out = numpy_fn(x, axis=axis, keepdims=True)
        # Ties share the gradient equally (as TensorFlow's reduce_max does).
        winners = (x == out)
        shares = winners / winners.sum(axis=axis, keepdims=True)
        result = out if keepdims else np.squeeze(out, axis=_axes(axis, x.ndim))
        return result, lambda g: (_expand_reduced(g, x.shape, axis, keepdims) * shares,)
    return forward


max = primitive(_extreme(np.max))
max.__name__ = max.__qualname__ = "max"
max.__doc__ = "out = max over axis; the gradient goes to the maximal entries (split on ties)."
min = primitive(_extreme(np.min))
min.__name__ = min.__qualname__ = "min"
min.__doc__ = "out = min over axis; the gradient goes to the minimal entries (split on ties)."
amax, amin = max, min


def var(x, axis=None, keepdims=False):
    """Variance: mean((x - mean(x))**2), built from ops so its gradient follows."""
    centred = subtract(x, mean(x, axis=axis, keepdims=True))
    return mean(square(centred), axis=axis, keepdims=keepdims)


def std(x, axis=None, keepdims=False):
    """Standard deviation: sqrt(var)."""
    return sqrt(var(x, axis=axis, keepdims=keepdims))


@primitive
def prod(x, axis=None, keepdims=False, dtype=None):
    """out = product over axis.  d/dx = g * out / x (inputs assumed non-zero)."""
    x = _arr(x)
    out = np.prod(x, axis=axis, keepdims=True)
    result = out if keepdims else np.squeeze(out, axis=_axes(axis, x.ndim))
    return result, lambda g: (_expand_reduced(g, x.shape, axis, keepdims) * out / x,)


@primitive
def argmax(x, axis=None, keepdims=False):
    """Index of the maximum (integer, no gradient)."""
    return np.argmax(_arr(x), axis=axis, keepdims=keepdims).astype("int32"), None


@primitive
def argmin(x, axis=None, keepdims=False):
    """Index of the minimum (integer, no gradient)."""
    return np.argmin(_arr(x), axis=axis, keepdims=keepdims).astype("int32"), None


@primitive
def cumsum(x, axis=None, dtype=None):
    """Running sum.  d/dx = reversed running sum of g."""
    x = _arr(x)
    if axis is None:
        flat = np.cumsum(x.ravel())
        return flat, lambda g: (np.flip(np.cumsum(np.flip(g))).reshape(x.shape),)
    out = np.cumsum(x, axis=axis)
    return out, lambda g: (np.flip(np.cumsum(np.flip(g, axis), axis=axis), axis),)


# ----------------------------------------------------------------- shapes


@primitive
def reshape(x, newshape):
    """out = x with a new shape.   d/dx = g reshaped back."""
    x = _arr(x)
    return np.reshape(x, newshape), lambda g: (np.reshape(g, x.shape), None)


@primitive
def transpose(x, axes=None):
    """Axes permuted.   d/dx = g permuted back (the inverse permutation)."""
    x = _arr(x)
    out = np.transpose(x, axes)
    inverse = None if axes is None else np.argsort(axes)
    return out, lambda g: (np.transpose(g, inverse), None)


@primitive
def expand_dims(x, axis):
    """A new axis of length 1.   d/dx = g without it."""
    x = _arr(x)
    return np.expand_dims(x, axis), lambda g: (np.reshape(g, x.shape), None)


@primitive
def squeeze(x, axis=None):
    """Axes of length 1 removed.   d/dx = g reshaped back."""
    x = _arr(x)
    return np.squeeze(x, axis=axis), lambda g: (np.reshape(g, x.shape),)


@primitive
def concatenate(xs, axis=0):
    """Arrays joined along `axis`.   d/dx_i = the slice of g that x_i filled."""
    xs = [_arr(x) for x in xs]
    out = np.concatenate(xs, axis=axis)
    bounds = np.cumsum([x.shape[axis] for x in xs])[:-1]
    return out, lambda g: (np.split(g, bounds, axis=axis),)


def append(x1, x2, axis=None):
    if axis is None:
        return concatenate([reshape(x1, (-1,)), reshape(x2, (-1,))], axis=0)
    return concatenate([x1, x2], axis=axis)


@primitive
def stack(x, axis=0):
    """Arrays stacked on a new axis.   d/dx_i = g's i-th slice along that axis."""
    xs = [_arr(a) for a in x]
    out = np.stack(xs, axis=axis)
    return out, lambda g: ([np.take(g, i, axis=axis) for i in range(len(xs))],)


def split(x, indices_or_sections, axis=0):
    """Pieces along `axis` (each piece is a slice of x, so each has the slice's gradient)."""
    length = x.shape[axis]
    if isinstance(indices_or_sections, int):
        if length % indices_or_sections:
            raise ValueError(
                f"array split does not result in an equal division: axis {axis} of length "
                f"{length} into {indices_or_sections}. Received: "
                f"indices_or_sections={indices_or_sections}"
            )
        step = length // indices_or_sections
        bounds = list(range(0, length + 1, step))
    else:
        bounds = [0] + [int(i) for i in indices_or_sections] + [length]
    axis = axis % len(x.shape)
    pieces = []
    for start, stop in zip(bounds[:-1], bounds[1:]):
        key = (slice(None),) * axis + (slice(start, stop),)
        pieces.append(get_item(x, key))
    return pieces


@primitive
def get_item(x, key):
    """x[key] (Python indexing).   d/dx = zeros with g written (or added) at the indexed
    places. Basic slices never hit a place twice, so `=` is enough; integer-array indexing
    may repeat an index and needs np.add.at."""
    x = _arr(x)
    key = _plain_key(key)
    out = x[key]

    def vjp(g):
        dx = np.zeros(x.shape, dtype=g.dtype if g.dtype.kind == "f" else x.dtype)
        if _is_basic(key):
            dx[key] = g
        else:
            np.add.at(dx, key, g)
        return dx, None

    return out, vjp


def _plain_key(key):
    from minikeras.ops.tape import unwrap

    if isinstance(key, tuple):
        return tuple(unwrap(k) for k in key)
    return unwrap(key)


def _is_basic(key):
    items = key if isinstance(key, tuple) else (key,)
    return all(isinstance(k, (int, np.integer, slice)) or k is None or k is Ellipsis
               for k in items)


@primitive
def take(x, indices, axis=None):
    """Entries of x at `indices` along `axis` (the whole array flattened when axis is None).
    d/dx = g added back at those indices (an index may appear twice: np.add.at)."""
    x = _arr(x)
    indices = np.asarray(indices)
    if indices.dtype.kind == "f":
        indices = indices.astype("int64")
    out = np.take(x, indices, axis=axis)

    def vjp(g):
        dx = np.zeros(x.shape, dtype=g.dtype)
        if axis is None:
            np.add.at(dx.reshape(-1), indices.reshape(-1), g.reshape(-1))
            return dx, None
        moved = np.moveaxis(dx, axis, 0)
        g_moved = np.moveaxis(g, tuple(range(axis, axis + indices.ndim)),
                              tuple(range(indices.ndim)))
        np.add.at(moved, indices, g_moved)
        return dx, None

    return out, vjp


@primitive
def take_along_axis(x, indices, axis=None):
    """x's entries picked per position along `axis`.   d/dx = g put back at those places."""
    x = _arr(x)
    indices = np.asarray(indices)
    out = np.take_along_axis(x, indices, axis=axis)

    def vjp(g):
        dx = np.zeros(x.shape, dtype=g.dtype)
        grid = list(np.indices(indices.shape, sparse=True))
        grid[axis % x.ndim] = indices
        np.add.at(dx, tuple(grid), g)
        return dx, None

    return out, vjp


@primitive
def tile(x, repeats):
    """x repeated `repeats` times per axis.   d/dx = the sum of g's copies."""
    x = _arr(x)
    out = np.tile(x, repeats)
    reps = (1,) * (out.ndim - len(tuple(np.atleast_1d(repeats)))) + tuple(np.atleast_1d(repeats))
    shape = (1,) * (out.ndim - x.ndim) + x.shape

    def vjp(g):
        # Each axis of length n*r seen as (r, n): the copies are the r axis, summed.
        split_shape = []
        for n, r in zip(shape, reps):
            split_shape += [r, n]
        summed = g.reshape(split_shape).sum(axis=tuple(range(0, 2 * len(shape), 2)))
        return summed.reshape(x.shape), None

    return out, vjp


@primitive
def repeat(x, repeats, axis=None):
    """Each entry repeated.   d/dx = the sum of each entry's repeats."""
    x = _arr(x)
    out = np.repeat(x, repeats, axis=axis)

    def vjp(g):
        source = x.reshape(-1) if axis is None else x
        along = 0 if axis is None else axis % x.ndim
        n = source.shape[along]
        owners = np.repeat(np.arange(n), repeats)
        dx = np.zeros(source.shape, dtype=g.dtype)
        np.add.at(np.moveaxis(dx, along, 0), owners, np.moveaxis(g, along, 0))
        return dx.reshape(x.shape), None

    return out, vjp


@primitive
def broadcast_to(x, shape):
    """x stretched to `shape`.   d/dx = g summed back (sum_to_shape)."""
    x = _arr(x)
    return np.broadcast_to(x, shape), lambda g: (sum_to_shape(g, x.shape), None)


@primitive
def flip(x, axis=None):
    x = _arr(x)
    return np.flip(x, axis=axis), lambda g: (np.flip(g, axis=axis),)


@primitive
def pad(x, pad_width, mode="constant", constant_values=None):
    """Padded x.   d/dx = the middle of g (the padding gets no gradient)."""
    x = _arr(x)
    kwargs = {} if constant_values is None else {"constant_values": constant_values}
    out = np.pad(x, pad_width, mode=mode, **kwargs)
    widths = np.broadcast_to(np.asarray(pad_width), (x.ndim, 2))
    key = tuple(slice(int(a), int(a) + n) for (a, _), n in zip(widths, x.shape))
    return out, lambda g: (g[key], None)


def ones_like(x, dtype=None):
    x = np.asarray(x)
    return np.ones(x.shape, dtype=dtype or x.dtype)


def zeros_like(x, dtype=None):
    x = np.asarray(x)
    return np.zeros(x.shape, dtype=dtype or x.dtype)


def full_like(x, fill_value, dtype=None):
    x = np.asarray(x)
    return np.full(x.shape, fill_value, dtype=dtype or x.dtype)


def ones(shape, dtype=None):
    return np.ones(shape, dtype=dtype or backend.floatx())


def zeros(shape, dtype=None):
    return np.zeros(shape, dtype=dtype or backend.floatx())


def full(shape, fill_value, dtype=None):
    return np.full(shape, fill_value, dtype=dtype or backend.floatx())


def eye(N, M=None, k=0, dtype=None):
    return np.eye(N, M, k, dtype=dtype or backend.floatx())


def arange(start, stop=None, step=1, dtype=None):
    if dtype is None:
        values = [v for v in (start, stop, step) if v is not None]
        dtype = backend.floatx() if builtins.any(isinstance(v, float) for v in values) else "int32"
    return np.arange(start, stop, step, dtype=dtype)


def linspace(start, stop, num=50, endpoint=True, dtype=None, axis=0):
    return np.linspace(start, stop, num, endpoint=endpoint, axis=axis,
                       dtype=dtype or backend.floatx())


def size(x):
    return int(np.size(x))


def ndim(x):
    return len(np.shape(x))


# ----------------------------------------------------------------- products


@primitive
def matmul(x1, x2):
    """out = x1 @ x2 (batched over leading axes).

        dx1 = g @ x2^T          dx2 = x1^T @ g       (then summed over broadcast batch axes)
    A 1-D operand is a row (left) or a column (right), as in NumPy.
    """
    x1, x2 = _binary(x1, x2)
    out = np.matmul(x1, x2)
    if x1.ndim == 2 and x2.ndim == 2:           # the common case, without the reshaping
        return out, lambda g: (np.matmul(g, x2.T), np.matmul(x1.T, g))

    def vjp(g):
        a = x1[None, :] if x1.ndim == 1 else x1
        b = x2[:, None] if x2.ndim == 1 else x2
        gm = g
        if x1.ndim == 1:
            gm = np.expand_dims(gm, -2)
        if x2.ndim == 1:
            gm = np.expand_dims(gm, -1)
        da = np.matmul(gm, np.swapaxes(b, -1, -2))
        db = np.matmul(np.swapaxes(a, -1, -2), gm)
        if x1.ndim == 1:
            da = da.reshape(da.shape[:-2] + (-1,))
        if x2.ndim == 1:
            db = db.reshape(db.shape[:-2] + (-1,))
        return sum_to_shape(da, x1.shape), sum_to_shape(db, x2.shape)

    return out, vjp


def dot(x1, x2):
    """NumPy's dot: matmul for 1-D/2-D operands, a product with x1's last and x2's
    second-to-last axis otherwise."""
    if ndim(x1) == 0 or ndim(x2) == 0:
        return multiply(x1, x2)
    if ndim(x2) <= 2:
        return matmul(x1, x2)
    letters = "abcdefghijklmnopqrstuvw"
    n1, n2 = ndim(x1), ndim(x2)
    a = letters[:n1 - 1] + "z"
    b = letters[n1 - 1:n1 + n2 - 3] + "z" + letters[n1 + n2 - 3]
    return einsum(f"{a},{b}->{a[:-1]}{b[:-2]}{b[-1]}", x1, x2)


def vdot(x1, x2):
    return sum(multiply(reshape(x1, (-1,)), reshape(x2, (-1,))))


def inner(x1, x2):
    return einsum("...i,...i->...", x1, x2) if ndim(x1) == ndim(x2) == 1 else \
        tensordot(x1, x2, axes=([ndim(x1) - 1], [ndim(x2) - 1]))


def outer(x1, x2):
    return multiply(reshape(x1, (-1, 1)), reshape(x2, (1, -1)))


def tensordot(x1, x2, axes=2):
    """Sum of products over the given axes, as einsum (so its gradient is einsum's)."""
    n1, n2 = ndim(x1), ndim(x2)
    if isinstance(axes, int):
        a_axes, b_axes = list(range(n1 - axes, n1)), list(range(axes))
    else:
        a_axes, b_axes = [list(np.atleast_1d(a)) for a in axes]
    letters = iter("abcdefghijklmnopqrstuvwxyz")
    a = [next(letters) for _ in range(n1)]
    b = [next(letters) for _ in range(n2)]
    for i, j in zip(a_axes, b_axes):
        b[j % n2] = a[i % n1]
    out = [c for i, c in enumerate(a) if i % n1 not in [k % n1 for k in a_axes]]
    out += [c for j, c in enumerate(b) if j % n2 not in [k % n2 for k in b_axes]]
    return einsum(f"{''.join(a)},{''.join(b)}->{''.join(out)}", x1, x2)


@primitive
def _einsum(subscripts, *operands):
    operands = [_arr(x) for x in operands]
    out = np.einsum(subscripts, *operands, optimize=len(operands) > 2)
    inputs, output = _parse_einsum(subscripts, operands)

    def vjp(g):
        grads = [None]
        for k, operand in enumerate(operands):
            others = [op for i, op in enumerate(operands) if i != k]
            other_subs = [s for i, s in enumerate(inputs) if i != k]
            known = set(output) | set("".join(other_subs))
            # An index only this operand has was summed over: its gradient is constant
            # along it, so compute without it and broadcast.
            kept = "".join(c for c in inputs[k] if c in known)
            spec = ",".join([output] + other_subs) + "->" + kept
            grad = np.einsum(spec, g, *others, optimize=len(others) > 1)
            shape = [operand.shape[i] if c in known else 1 for i, c in enumerate(inputs[k])]
            grads.append(np.broadcast_to(grad.reshape(shape), operand.shape))
        return grads

    return out, vjp


def einsum(subscripts, *operands):
    """Einstein summation (NumPy's rules).   d/d(operand k) = einsum of g with the other
    operands, written back onto operand k's indices. Indices repeated within one operand
    (diagonals) are not differentiable here."""
    return _einsum(subscripts, *operands)


def _parse_einsum(subscripts, operands):
    """Explicit subscripts: '...' replaced by letters, the output spelled out."""
    spec = subscripts.replace(" ", "")
    if "->" in spec:
        lhs, output = spec.split("->")
    else:
        lhs = spec
        letters = [c for c in lhs.replace(",", "").replace(".", "")]
        output = ("..." if "..." in lhs else "") + "".join(
            sorted(c for c in set(letters) if letters.count(c) == 1))
    inputs = lhs.split(",")
    if "..." in spec:
        used = set(spec)
        spare = [c for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ" if c not in used]
        width = 0
        for sub, op in zip(inputs, operands):
            if "..." in sub:
                width = builtins.max(width, op.ndim - len(sub.replace("...", "")))
        fill = "".join(spare[:width])
        new_inputs = []
        for sub, op in zip(inputs, operands):
            if "..." in sub:
                n = op.ndim - len(sub.replace("...", ""))
                sub = sub.replace("...", fill[width - n:])
            new_inputs.append(sub)
        inputs = new_inputs
        output = output.replace("...", fill)
    for sub in inputs:
        if len(set(sub)) != len(sub):
            raise ValueError(
                "einsum's gradient does not support an index repeated within one operand "
                f"(a diagonal). Received: subscripts={subscripts!r}"
            )
    return inputs, output


# ----------------------------------------------------------------- comparisons (no gradient)


def _comparison(numpy_fn, name):
    def forward(x1, x2):
        x1, x2 = _binary(x1, x2)
        return numpy_fn(x1, x2), None
    forward.__name__ = forward.__qualname__ = name
    forward.__doc__ = f"Elementwise {name} (booleans; no gradient)."
    return primitive(forward)


equal = _comparison(np.equal, "equal")
not_equal = _comparison(np.not_equal, "not_equal")
greater = _comparison(np.greater, "greater")
greater_equal = _comparison(np.greater_equal, "greater_equal")
less = _comparison(np.less, "less")
less_equal = _comparison(np.less_equal, "less_equal")
logical_and = _comparison(np.logical_and, "logical_and")
logical_or = _comparison(np.logical_or, "logical_or")
logical_xor = _comparison(np.logical_xor, "logical_xor")


@primitive
def logical_not(x):
    return np.logical_not(_arr(x)), None


@primitive
def isnan(x):
    return np.isnan(_arr(x)), None


@primitive
def isfinite(x):
    return np.isfinite(_arr(x)), None


@primitive
def round(x, decimals=0):
    x = _arr(x)
    return np.round(x, decimals), lambda g: (np.zeros_like(x),)


@primitive
def floor(x):
    x = _arr(x)
    return np.floor(x), lambda g: (np.zeros_like(x),)


@primitive
def ceil(x):
    x = _arr(x)
    return np.ceil(x), lambda g: (np.zeros_like(x),)


@primitive
def all(x, axis=None, keepdims=False):
    return np.all(_arr(x), axis=axis, keepdims=keepdims), None


@primitive
def any(x, axis=None, keepdims=False):
    return np.any(_arr(x), axis=axis, keepdims=keepdims), None


@primitive
def count_nonzero(x, axis=None):
    return np.asarray(np.count_nonzero(_arr(x), axis=axis), dtype="int32"), None


@primitive
def sort(x, axis=-1):
    x = _arr(x)
    order = np.argsort(x, axis=axis, kind="stable")
    out = np.take_along_axis(x, order, axis=axis)

    def vjp(g):
        dx = np.empty_like(g)
        np.put_along_axis(dx, order, g, axis=axis)
        return (dx,)

    return out, vjp


@primitive
def argsort(x, axis=-1):
    return np.argsort(_arr(x), axis=axis, kind="stable").astype("int32"), None


# ----------------------------------------------------------------- elementwise maths


@primitive
def sin(x):
    x = _float(x)
    return np.sin(x), lambda g: (g * np.cos(x),)


@primitive
def cos(x):
    x = _float(x)
    return np.cos(x), lambda g: (-g * np.sin(x),)


@primitive
def tanh(x):
    """out = tanh x.          d/dx = g (1 - out**2)."""
    out = np.tanh(_float(x))
    return out, lambda g: (g * (1 - out * out),)


def reciprocal(x):
    return divide(1.0, x)


def mod(x1, x2):
    return np.mod(np.asarray(x1), np.asarray(x2))


def floor_divide(x1, x2):
    return np.floor_divide(np.asarray(x1), np.asarray(x2))
