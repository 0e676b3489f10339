"""`ReLU`: the rectified linear unit as a layer, with Keras's three arguments."""

import numbers

from minikeras.activations.activations import relu
from minikeras.layers.base_activation_layer import ActivationLayer, non_negative_number


class ReLU(ActivationLayer):
    """out = min(x, max_value) where x >= threshold, else negative_slope * (x - threshold).

    Args:
        max_value: the largest output (None: unbounded); must be >= 0.
        negative_slope: slope below the threshold; >= 0.
        threshold: where the unit turns on; >= 0.

    Shapes: x any shape -> out of the same shape. The maths and its derivative are
    minikeras.activations.relu's.
    """

    function = relu

    def __init__(self, max_value=None, negative_slope=0.0, threshold=0.0, **kwargs):
        super().__init__(**kwargs)
        if max_value is not None and (isinstance(max_value, bool) or not isinstance(
                max_value, numbers.Real) or max_value < 0):
            raise ValueError(
                "max_value of a ReLU layer cannot be a negative value. "
                f"Received: max_value={max_value!r}"
            )
        self.max_value = None if max_value is None else float(max_value)
        self.negative_slope = non_negative_number("ReLU", "negative_slope", negative_slope)
        self.threshold = non_negative_number("ReLU", "threshold", threshold)

    def _arguments(self):
        return {"max_value": self.max_value, "negative_slope": self.negative_slope,
                "threshold": self.threshold}

    def get_config(self):
        config = super().get_config()
        config.update(self._arguments())
        return config
