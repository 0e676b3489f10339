"""`SparseRows`: a gradient for some rows of a weight, one row per occurrence.

An `Embedding` reads rows of its (input_dim, output_dim) table; the gradient of its weight is
zero except on the rows the batch used. Keras on TensorFlow hands the optimizer that gradient
as a `tf.IndexedSlices`: the ids as they occurred in the batch (an id used three times appears
three times) and one row of gradient per occurrence. Its optimizers then run their ordinary
update on it, and TensorFlow's ops decide what that means:

    elementwise ops on the gradient alone (g^2, |g|, g * scalar) act on each occurrence's row;
    an op meeting a dense array (m - g, v + g^2, ...) first sums the rows of equal ids (densify).

So where Adam's second moment takes g^2, a repeated id gets g_1^2 + g_2^2 + ... (the sum of
its occurrences' squares), not (g_1 + g_2 + ...)^2. `squares(g)` and `absolutes(g)` below give
these per-occurrence results, summed per row; `dense(g)` gives the summed gradient itself. On a
plain array they are np.square, np.abs and the array, so an optimizer's update_step reads the
same for both kinds of gradient.
"""

import numpy as np


class SparseRows:
    """Rows of gradient for a weight of shape `dense_shape`, one per occurrence of an id.

    Args:
        indices: (n,) integer row ids, repeats allowed, in the order they occurred.
        values: (n, *dense_shape[1:]) the gradient row of each occurrence.
        dense_shape: the weight's shape, (rows, ...).
    """

    def __init__(self, indices, values, dense_shape, _runs=None):
        self.indices = indices
        self.values = values
        self.dense_shape = tuple(dense_shape)
        self._runs = _runs      # the sorted order of the ids, shared by with_values (runs())

    @property
    def shape(self):
        return self.dense_shape

    @property
    def dtype(self):
        return self.values.dtype

    def with_values(self, values):
        """The same occurrences with other rows, (n, *dense_shape[1:])."""
        return SparseRows(self.indices, values, self.dense_shape, self._runs)

    def astype(self, dtype, copy=False):
        return self.with_values(self.values.astype(dtype, copy=copy))

    def runs(self):
        """(order, ids, starts): `order` sorts the occurrences by id (stably), `ids` are the
        distinct ids in that order and `starts` where each one's run of occurrences begins
        in the sorted order. Computed once, shared by the SparseRows made by with_values."""
        if self._runs is None:
            order = np.argsort(self.indices, kind="stable")
            sorted_ids = self.indices[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]])
            self._runs = (order, sorted_ids[starts], starts)
        return self._runs

    def dense(self):
        """The gradient as an array of `dense_shape`: each row holds the sum of its
        occurrences' rows (zero for ids that did not occur).

        The plain rule is np.add.at(out, indices, values). Here the occurrences are sorted
        by id; an id that occurred once has its row copied, and the runs of ids that
        occurred several times are summed with np.add.reduceat (its cost is per run, and
        most ids of a batch usually occur once)."""
        out = np.zeros(self.dense_shape, self.values.dtype)
        if self.indices.size == 0:
            return out
        order, ids, starts = self.runs()
        lengths = np.diff(np.r_[starts, self.indices.size])
        once = lengths == 1
        out[ids[once]] = self.values[order[starts[once]]]
        if not once.all():
            # The occurrences of the repeated ids, still sorted, and where each run starts.
            repeated = np.repeat(~once, lengths)
            run_starts = np.cumsum(np.r_[0, lengths[~once][:-1]])
            rows = self.values[order[repeated]]
            out[ids[~once]] = np.add.reduceat(rows, run_starts, axis=0)
        return out

    def __array__(self, dtype=None, copy=None):
        # np.asarray(g), np.allclose(g, ...) and array + g see the dense gradient.
        out = self.dense()
        return out if dtype is None else out.astype(dtype, copy=False)

    def __add__(self, other):
        """Two SparseRows: their occurrences together (TensorFlow's sum of the gradients of
        a layer called twice). A dense array: the dense sum."""
        if isinstance(other, SparseRows):
            return SparseRows(np.concatenate([self.indices, other.indices]),
                              np.concatenate([self.values, other.values]),
                              self.dense_shape)
        return self.dense() + other

    def __radd__(self, other):
        if isinstance(other, SparseRows):
            return other.__add__(self)
        return other + self.dense()

    def __repr__(self):
        return (f"SparseRows(dense_shape={self.dense_shape}, occurrences={self.indices.size}, "
                f"dtype={self.values.dtype})")


def dense(gradient):
    """The gradient as an array: itself, or a SparseRows with its occurrences summed."""
    return gradient.dense() if isinstance(gradient, SparseRows) else gradient


def squares(gradient, out=None):
    """g^2. For SparseRows, each occurrence's row is squared and the squares of a row's
    occurrences are summed (what Keras's optimizers compute on TensorFlow). out: an array
    shaped like the weight to write into, or None."""
    if isinstance(gradient, SparseRows):
        summed = gradient.with_values(np.square(gradient.values)).dense()
        if out is None:
            return summed
        out[...] = summed
        return out
    return np.square(gradient, out=out)


def absolutes(gradient):
    """|g|. For SparseRows, the sum of the absolute values of a row's occurrences."""
    if isinstance(gradient, SparseRows):
        return gradient.with_values(np.abs(gradient.values)).dense()
    return np.abs(gradient)


def per_occurrence(rule, gradient, *arrays):
    """rule(g, *arrays), an elementwise rule with rule(0, ...) = 0. For SparseRows it runs on
    each occurrence's row with the matching rows of `arrays` (each shaped like the weight) and
    gives SparseRows, as TensorFlow does with tf.IndexedSlices times a dense tensor."""
    if isinstance(gradient, SparseRows):
        rows = [array[gradient.indices] for array in arrays]
        return gradient.with_values(rule(gradient.values, *rows))
    return rule(gradient, *arrays)
