"""`Add`: out = x_1 + x_2 + ... + x_n, elementwise."""

from minikeras.layers.base_merge import Merge


class Add(Merge):
    """Adds a list of tensors elementwise (shapes broadcast as in base_merge).

    Shapes: [(batch, ...), ...] -> (batch, ...). No weights.
    """

    def _merge_forward(self, inputs):
        out = inputs[0]
        for x in inputs[1:]:
            out = out + x           # a new array: the inputs stay untouched
        return out, len(inputs)

    def _merge_backward(self, dout, n_inputs):
        # d(x_1 + ... + x_n)/dx_i = 1: every input receives dout unchanged.
        return [dout] * n_inputs


def add(inputs, **kwargs):
    """`Add(**kwargs)(inputs)`: the sum of a list of tensors."""
    return Add(**kwargs)(inputs)
