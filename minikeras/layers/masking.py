"""`Masking`: marks time steps whose features all equal `mask_value` as padding."""

import numpy as np

from minikeras.layers.layer import Layer


class Masking(Layer):
    """A step is masked when every feature equals mask_value; masked steps become zeros and
    the mask (batch, timesteps) goes to the layers after it (RNNs skip those steps).

    Args:
        mask_value: the padding value (default 0.0).

    Shapes: x (batch, timesteps, features) -> out of the same shape.
    """

    supports_masking = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = mask_value

    def compute_mask(self, inputs, mask=None):
        """(batch, timesteps) booleans: True where some feature differs from mask_value."""
        return np.any(np.asarray(inputs) != self.mask_value, axis=-1)

    def forward(self, x, training=False):
        """x: (batch, timesteps, features). Returns (out, keep), keep (batch, timesteps, 1)."""
        keep = np.any(x != self.mask_value, axis=-1, keepdims=True)
        return x * keep, keep

    def backward(self, dout, keep, from_logits=False, need_input_gradient=True):
        return dout * keep, []

    def get_config(self):
        config = super().get_config()
        config["mask_value"] = self.mask_value
        return config
