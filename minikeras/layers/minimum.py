"""`Minimum`: out = min(x_1, ..., x_n), elementwise."""

from minikeras.layers.base_merge import (
    Merge,
    select_forward,
    select_forward_masked,
    selected_gradients,
)


class Minimum(Merge):
    """The elementwise minimum of a list of tensors.

    The gradient of each output element goes to one input: the first one holding the minimum
    (on ties, the earlier input), as TensorFlow routes it for min(min(x_1, x_2), x_3) ...

    Shapes: [(batch, ...), ...] -> (batch, ...). No weights.
    """

    masks_values = True

    def _merge_forward(self, inputs):
        return select_forward(inputs, beats=lambda x, best: x < best)

    def _masked_merge_forward(self, inputs, masks):
        return select_forward_masked(inputs, masks, beats=lambda x, best: x < best)

    def _merge_backward(self, dout, cache):
        return selected_gradients(dout, cache)


def minimum(inputs, **kwargs):
    """`Minimum(**kwargs)(inputs)`: the elementwise minimum of a list of tensors."""
    return Minimum(**kwargs)(inputs)
