"""`ELU`: the exponential linear unit as a layer."""

import numbers

from minikeras.activations.activations import elu
from minikeras.layers.base_activation_layer import ActivationLayer


class ELU(ActivationLayer):
    """out = x for x > 0, else alpha * (exp(x) - 1).

    Args:
        alpha: the scale of the negative part.

    Shapes: x any shape -> out of the same shape.
    """

    function = elu

    def __init__(self, alpha=1.0, **kwargs):
        super().__init__(**kwargs)
        if isinstance(alpha, bool) or not isinstance(alpha, numbers.Real):
            raise ValueError(f"`alpha` of an ELU layer must be a number. Received: alpha={alpha!r}")
        self.alpha = float(alpha)

    def _arguments(self):
        return {"alpha": self.alpha}

    def get_config(self):
        config = super().get_config()
        config["alpha"] = self.alpha
        return config
