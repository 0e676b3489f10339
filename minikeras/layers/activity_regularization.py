"""`ActivityRegularization`: passes x through and adds an L1/L2 penalty on it to the loss."""

from minikeras import regularizers
from minikeras.layers.layer import Layer


class ActivityRegularization(Layer):
    """out = x; the model's loss gains (l1 * sum|x| + l2 * sum x^2) / batch size, whose
    gradient the model adds on the way back (the base Layer's activity_regularizer).

    Args:
        l1, l2: the penalty factors.
    """

    def __init__(self, l1=0.0, l2=0.0, **kwargs):
        kwargs.pop("activity_regularizer", None)
        super().__init__(activity_regularizer=regularizers.L1L2(l1=l1, l2=l2), **kwargs)
        self.l1 = l1
        self.l2 = l2
        self.supports_masking = True
        self.built = True

    def forward(self, x, training=False):
        """x: any shape. Returns (x, None)."""
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []


    def get_config(self):
        config = super().get_config()
        config.pop("activity_regularizer", None)
        config.update({"l1": self.l1, "l2": self.l2})
        return config
