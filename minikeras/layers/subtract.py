"""`Subtract`: out = x_1 - x_2, elementwise."""

from minikeras.layers.base_merge import Merge


class Subtract(Merge):
    """Subtracts the second of exactly two tensors from the first.

    Shapes: [(batch, ...), (batch, ...)] -> (batch, ...). No weights.
    """

    exact_inputs = 2

    def _merge_forward(self, inputs):
        return inputs[0] - inputs[1], None

    def _merge_backward(self, dout, cache):
        return [dout, -dout]        # d(x1 - x2)/dx1 = 1, d(x1 - x2)/dx2 = -1


def subtract(inputs, **kwargs):
    """`Subtract(**kwargs)(inputs)`: inputs[0] - inputs[1]."""
    return Subtract(**kwargs)(inputs)
