"""`Average`: out = (x_1 + ... + x_n) / n, elementwise."""

from minikeras.layers.base_merge import Merge


class Average(Merge):
    """Averages a list of tensors elementwise.

    Shapes: [(batch, ...), ...] -> (batch, ...). No weights.
    """

    def _merge_forward(self, inputs):
        total = inputs[0]
        for x in inputs[1:]:
            total = total + x
        # Sum first, then divide, in the inputs' type: the order Keras computes in.
        return total / len(inputs), len(inputs)

    def _merge_backward(self, dout, n_inputs):
        dx = dout / n_inputs        # d(mean)/dx_i = 1/n for every input
        return [dx] * n_inputs


def average(inputs, **kwargs):
    """`Average(**kwargs)(inputs)`: the elementwise mean of a list of tensors."""
    return Average(**kwargs)(inputs)
