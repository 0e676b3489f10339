"""`Multiply`: out = x_1 * x_2 * ... * x_n, elementwise."""

import numpy as np

from minikeras.layers.base_merge import Merge


class Multiply(Merge):
    """Multiplies a list of tensors elementwise.

    Shapes: [(batch, ...), ...] -> (batch, ...). No weights.
    """

    def _merge_forward(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out * x
        return out, inputs

    def _merge_backward(self, dout, inputs):
        # d(x_1 ... x_n)/dx_i = the product of the other inputs. Multiplying them (instead of
        # dividing out by x_i) stays right where an input is zero.
        dxs = []
        for i in range(len(inputs)):
            dx = dout
            for j, x in enumerate(inputs):
                if j != i:
                    dx = dx * x
            dxs.append(dx)
        return dxs

    masks_values = True

    def _masked_merge_forward(self, inputs, masks):
        """Keras's rule: a masked entry counts as 1 in the product; when every input has a
        mask, entries masked in all of them are 0. Returns (out, cache)."""
        factors = [x if m is None else np.where(m, x, np.ones((), x.dtype))
                   for x, m in zip(inputs, masks, strict=True)]
        out, _ = self._merge_forward(factors)
        kept = None
        if all(m is not None for m in masks):
            kept = np.logical_or.reduce(masks)
            out = np.where(kept, out, np.zeros((), out.dtype))
        return out, (factors, masks, kept)

    def _masked_backward(self, dout, cache):
        """dL/dx_i = dout * (the other factors), where x_i is not masked (a masked entry was
        replaced by the constant 1) and where the output is kept."""
        factors, masks, kept = cache
        if kept is not None:
            dout = np.where(kept, dout, np.zeros((), dout.dtype))
        dxs = self._merge_backward(dout, factors)
        return [dx if m is None else np.where(m, dx, np.zeros((), dx.dtype))
                for dx, m in zip(dxs, masks, strict=True)]


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)
