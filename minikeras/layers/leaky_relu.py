"""`LeakyReLU`: x where x > 0, else negative_slope * x."""

import warnings

from minikeras.activations.activations import leaky_relu
from minikeras.layers.base_activation_layer import ActivationLayer, non_negative_number


class LeakyReLU(ActivationLayer):
    """out = x for x > 0, else negative_slope * x; d out / dx = 1 or negative_slope.

    Args:
        negative_slope: the slope for x <= 0 (Keras 3's default 0.3). Keras 2's `alpha` is
            still accepted, with Keras's deprecation warning.

    Shapes: x any shape -> out of the same shape.
    """

    function = leaky_relu

    def __init__(self, negative_slope=0.3, **kwargs):
        if "alpha" in kwargs:
            negative_slope = kwargs.pop("alpha")
            warnings.warn("Argument `alpha` is deprecated. Use `negative_slope` instead.",
                          stacklevel=2)
        super().__init__(**kwargs)
        self.negative_slope = non_negative_number(
            "LeakyReLU", "negative_slope", negative_slope, what="Leaky ReLU")

    def _arguments(self):
        return {"negative_slope": self.negative_slope}

    def get_config(self):
        config = super().get_config()
        config["negative_slope"] = self.negative_slope
        return config
