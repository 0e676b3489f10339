"""`Multiply`: out = x_1 * x_2 * ... * x_n, elementwise."""

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


def multiply(inputs, **kwargs):
    """`Multiply(**kwargs)(inputs)`: the elementwise product of a list of tensors."""
    return Multiply(**kwargs)(inputs)
