"""`Merge`: the shared base of the layers that combine a list of tensors elementwise
(Add, Subtract, Multiply, Average, Maximum, Minimum); Concatenate and Dot reuse its
list checks.

Shapes follow Keras's rules. The batch sizes must agree. The other axes broadcast as in
NumPy, aligned from the right: (None, 1) + (None, 5) -> (None, 5), and an input of lower rank
gets length-1 axes inserted after the batch axis, (None, 3) + (None, 4, 3) -> (None, 4, 3).

Backward of a broadcast: an input that was stretched along an axis received the same value
at every position of that axis, so its gradient is dout summed over that axis.
"""

import numpy as np

from minikeras import backend
from minikeras.layers.layer import Layer


class Merge(Layer):
    """Base class of the elementwise merge layers. Subclasses write the two maths methods:

        _merge_forward(inputs) -> (out, cache)     inputs: same-rank arrays (batch, ...)
        _merge_backward(dout, cache) -> [dx_i]     each dx_i shaped like out (broadcast)

    and this class handles the list checks, rank alignment and un-broadcasting.
    """

    supports_masking = True
    # compute_mask only combines the inputs' masks (models/graph.py: no mask is made from none).
    combines_masks = True

    # Subtract and Dot take exactly two inputs; the others take any number from one up.
    exact_inputs = None

    # ------------------------------------------------------------------ shapes

    def _check_list(self, input_shape):
        """input_shape: a list of shapes. Raises Keras's errors for anything else."""
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(shape, (list, tuple)) for shape in input_shape):
            raise ValueError(
                "A merge layer should be called on a list of inputs. "
                f"Received: input_shape={_plain(input_shape)} (not a list of shapes)"
            )
        if self.exact_inputs is not None and len(input_shape) != self.exact_inputs:
            raise ValueError(
                f"A `{type(self).__name__}` layer should be called on exactly "
                f"{self.exact_inputs} inputs. Received: input_shape={_plain(input_shape)}"
            )
        batch_sizes = {shape[0] for shape in input_shape if shape} - {None}
        if len(batch_sizes) > 1:
            raise ValueError(
                "Cannot merge tensors with different batch sizes. "
                f"Received tensors with shapes {_plain(input_shape)}"
            )
        return batch_sizes

    def build(self, input_shape):
        """Checks the shapes (a merge layer has no weights)."""
        self.compute_output_shape(input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        """input_shape: list of (batch, ...) shapes. Returns the broadcast (batch, ...)."""
        batch_sizes = self._check_list(input_shape)
        output = tuple(input_shape[0][1:])
        for shape in input_shape[1:]:
            output = _broadcast_shapes(output, tuple(shape[1:]))
        batch = batch_sizes.pop() if batch_sizes else None
        return (batch,) + output

    # ------------------------------------------------------------------- maths

    # Maximum, Minimum and Multiply compute differently where an input is masked (Keras's
    # rule); the other merges ignore masks in their maths.
    masks_values = False

    def forward(self, x, training=False, mask=None):
        """x: list of arrays (batch, ...). Returns (out, cache), out: the broadcast shape.

        mask: None, or one mask (batch, steps) or None per input (used by Maximum, Minimum
        and Multiply only).
        cache: (the subclass's cache, the input shapes when some input is broadcast, else
        None: the common case of equal shapes needs no un-broadcasting).
        """
        shape = x[0].shape
        if all(xi.shape == shape for xi in x):
            aligned, shapes = x, None
        else:
            rank = max(xi.ndim for xi in x)
            # Keras's alignment: insert length-1 axes right after the batch axis.
            aligned = [xi.reshape(xi.shape[:1] + (1,) * (rank - xi.ndim) + xi.shape[1:])
                       for xi in x]
            shapes = [(xi.shape, ai.shape) for xi, ai in zip(x, aligned)]
        masked = self.masks_values and mask is not None and any(m is not None for m in mask)
        if masked:
            out, merge_cache = self._masked_merge_forward(
                aligned, [_mask_like(m, xi) for m, xi in zip(mask, aligned, strict=True)])
        else:
            out, merge_cache = self._merge_forward(aligned)
        return out, (merge_cache, shapes, masked)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/dout. Returns ([dL/dx_i, shaped like each input], []): no weights."""
        merge_cache, shapes, masked = cache
        if not need_input_gradient:
            return None, []
        if masked:
            dxs = self._masked_backward(dout, merge_cache)
        else:
            dxs = self._merge_backward(dout, merge_cache)
        if shapes is None:
            return dxs, []
        return [_unbroadcast(dx, aligned).reshape(shape)
                for dx, (shape, aligned) in zip(dxs, shapes, strict=True)], []

    def _merge_forward(self, inputs):
        raise NotImplementedError

    def _merge_backward(self, dout, cache):
        raise NotImplementedError

    def _masked_backward(self, dout, cache):
        """The backward of _masked_merge_forward; the same rule unless a subclass says."""
        return self._merge_backward(dout, cache)

    # --------------------------------------------------------------- calling

    def __call__(self, inputs, training=False):
        """On a list of arrays: computes the merge directly (symbolic tensors: a graph node)."""
        if isinstance(inputs, (list, tuple)) and any(backend.is_keras_tensor(x) for x in inputs):
            return super().__call__(inputs, training=training)
        if not isinstance(inputs, (list, tuple)):
            shape = getattr(inputs, "shape", None)
            self.compute_output_shape(tuple(shape) if shape is not None else inputs)  # raises
        arrays = [self._as_input_array(x) for x in inputs]
        shapes = [x.shape for x in arrays]
        if not self.built:
            self.build(shapes)
        else:
            self.compute_output_shape(shapes)
        return self.forward(arrays, training=training)[0]

    def compute_mask(self, inputs, mask=None):
        """Keras's rule for the elementwise merges: the output step is kept if any input's is;
        no mask when any input has none."""
        if mask is None or any(m is None for m in mask):
            return None
        return np.logical_or.reduce([np.asarray(m, dtype=bool) for m in mask])


def _plain(shapes):
    """Shapes printed as Keras prints them: tuples of ints, lists kept as lists."""
    if isinstance(shapes, list):
        return [_plain(shape) for shape in shapes]
    if isinstance(shapes, tuple) and all(d is None or isinstance(d, (int, np.integer))
                                         for d in shapes):
        return tuple(None if d is None else int(d) for d in shapes)
    if isinstance(shapes, tuple):
        return [_plain(shape) for shape in shapes]
    return shapes


def _mask_like(mask, x):
    """A (batch, steps) mask spread over x's feature axes (None stays None), as Keras does."""
    if mask is None:
        return None
    mask = np.asarray(mask, dtype=bool)
    if mask.ndim < x.ndim:
        mask = mask.reshape(mask.shape + (1,) * (x.ndim - mask.ndim))
    return np.broadcast_to(mask, x.shape)


def _broadcast_shapes(shape1, shape2):
    """Two shapes without the batch axis, aligned from the right: NumPy's broadcast, with
    None (unknown) staying unknown. Raises Keras's error for a mismatch."""
    if len(shape1) < len(shape2):
        shape1, shape2 = shape2, shape1
    if not shape2:
        return shape1
    output = list(shape1[:len(shape1) - len(shape2)])
    for i, j in zip(shape1[len(shape1) - len(shape2):], shape2, strict=True):
        if i is None or j is None:
            output.append(None)
        elif i == 1 or j == 1:
            output.append(i * j)            # the one that is not 1 (or 1)
        elif i != j:
            raise ValueError(
                "Inputs have incompatible shapes. "
                f"Received shapes {_plain(tuple(shape1))} and {_plain(tuple(shape2))}"
            )
        else:
            output.append(i)
    return tuple(output)


def _unbroadcast(grad, shape):
    """Sums grad over the axes along which an input of `shape` (same rank) was stretched."""
    axes = tuple(axis for axis, (g, s) in enumerate(zip(grad.shape, shape, strict=True))
                 if s == 1 and g != 1)
    if axes:
        return grad.sum(axis=axes, keepdims=True)
    return grad


# ------------------------------------------------ Maximum and Minimum share these two


def select_forward_masked(inputs, masks, beats):
    """select_forward with masks, following Keras's rule step by step: a masked entry of the
    next input is replaced by the running result, a masked entry of the running result by the
    next input, and the result stays masked only where both were. Every step only selects, so
    each output entry still comes from exactly one input: `winner` records which, and the
    gradient goes there (ties keep the earlier one, as before)."""
    shape = np.broadcast_shapes(*(x.shape for x in inputs))
    best = np.broadcast_to(inputs[0], shape)
    winner = np.zeros(shape, dtype=np.intp)
    best_mask = None if masks[0] is None else np.broadcast_to(masks[0], shape)
    for i, (x, mask) in enumerate(zip(inputs[1:], masks[1:]), start=1):
        x = np.broadcast_to(x, shape)
        x_winner = np.full(shape, i, dtype=np.intp)
        if mask is not None:
            mask = np.broadcast_to(mask, shape)
            x = np.where(mask, x, best)
            x_winner = np.where(mask, x_winner, winner)
        if best_mask is not None:
            best = np.where(best_mask, best, x)
            winner = np.where(best_mask, winner, x_winner)
        best_mask = best_mask | mask if mask is not None and best_mask is not None else None
        takes_over = beats(x, best)
        best = np.where(takes_over, x, best)
        winner = np.where(takes_over, x_winner, winner)
    return np.array(best), (winner, len(inputs))


def select_forward(inputs, beats):
    """Keeps, elementwise, the input that `beats(x, best)` all earlier ones.

    A later input must beat strictly to take over, so a tie keeps the earlier input: the
    winner is what TensorFlow's max/min gradient follows. Returns (out, (winner, n_inputs)),
    winner: the index of the chosen input at each position (shape of out).
    """
    shape = np.broadcast_shapes(*(x.shape for x in inputs))
    best = np.broadcast_to(inputs[0], shape)
    winner = np.zeros(shape, dtype=np.intp)
    for i, x in enumerate(inputs[1:], start=1):
        takes_over = beats(x, best)
        best = np.where(takes_over, x, best)
        winner[takes_over] = i
    # best is a read-only broadcast view when a single input was given: return a real array.
    return np.array(best), (winner, len(inputs))


def selected_gradients(dout, cache):
    """dout goes to the winning input at each position, zero to the others."""
    winner, n_inputs = cache
    zero = np.zeros((), dtype=dout.dtype)
    return [np.where(winner == i, dout, zero) for i in range(n_inputs)]
