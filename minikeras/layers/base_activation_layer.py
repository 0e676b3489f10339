"""Shared part of the activation layers (ReLU, LeakyReLU, ELU): a built-in activation function
applied with the layer's own arguments, its backward rule reused as it is."""

import numbers

from minikeras.layers.layer import Layer


class ActivationLayer(Layer):
    """out = function(x, **arguments), any shape; no weights.

    Subclasses set `function` (an ActivationFunction) and `_arguments()` (the keyword
    arguments it takes, from the layer's settings).
    """

    function = None

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.supports_masking = True
        self.built = True

    def _arguments(self):
        return {}

    def forward(self, x, training=False):
        """x: any shape. Returns (out, cache), out of x's shape."""
        return self.function.forward(x, **self._arguments())

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return self.function.backward(dout, cache), []


def non_negative_number(layer_name, name, value, what=None):
    """Keras's check of an activation layer's slope or threshold: a number >= 0."""
    if (value is None or isinstance(value, bool) or not isinstance(value, numbers.Real)
            or value < 0):
        raise ValueError(
            f"{name} of a {what or layer_name} layer cannot be None or a negative value. "
            f"Received: {name}={value!r}"
        )
    return float(value)
