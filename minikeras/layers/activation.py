"""`Activation`: applies an activation function as a layer of its own."""

from minikeras.layers.layer import ActivationMixin, Layer, activation_of


class Activation(ActivationMixin, Layer):
    """out = activation(x), any shape.

    Args:
        activation: name or minikeras activation function.
    """

    supports_masking = True     # passes its input's mask on, as in Keras

    def __init__(self, activation, **kwargs):
        super().__init__(**kwargs)
        self.activation = activation_of(activation)

    def compute_output_shape(self, input_shape):
        return self.activation.compute_output_shape(input_shape)

    def forward(self, x, training=False):
        """x: any shape. Returns (a, cache), a of x's shape."""
        return self._activate(x)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        return self._activation_backward(da, cache, from_logits), []

    def output_logits(self, cache):
        return self._logits_from(cache)

    def get_config(self):
        config = super().get_config()
        config["activation"] = self.activation.__name__
        return config
