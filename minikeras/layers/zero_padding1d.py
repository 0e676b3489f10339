"""`ZeroPadding1D`: adds zero steps before and after a sequence."""

import numpy as np

from minikeras.backend import standardize_data_format
from minikeras.layers import base_conv1d
from minikeras.layers.layer import Layer
from minikeras.utils.argument_validation import int_tuple


class ZeroPadding1D(Layer):
    """Pads the steps axis with zeros.

    Args:
        padding: int p (p steps on each side) or (before, after).
        data_format: "channels_last" (batch, steps, c), "channels_first" (batch, c, steps) or
            None (the backend default).

    Shapes: (batch, steps, c) -> (batch, before + steps + after, c). No weights.
    """

    def __init__(self, padding=1, data_format=None, **kwargs):
        super().__init__(**kwargs)
        self.data_format = standardize_data_format(data_format)
        self.padding = int_tuple("padding", padding, 2, owner=f"layer {self.name!r}",
                                 allow_zero=True)

    @property
    def _steps_axis(self):
        return 2 if self.data_format == "channels_first" else 1

    def build(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        self.built = True

    def compute_output_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        shape = list(input_shape)
        if shape[self._steps_axis] is not None:
            shape[self._steps_axis] += sum(self.padding)
        return tuple(shape)

    def forward(self, x, training=False):
        """x: (batch, steps, c) or (batch, c, steps). Returns (padded, None)."""
        base_conv1d.check_rank(self, x.shape)
        widths = [(0, 0)] * 3
        widths[self._steps_axis] = self.padding
        return np.pad(x, widths), None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """The gradient of zero padding is dout without the padded steps. Returns (dx, [])."""
        before, after = self.padding
        steps = [slice(None)] * 3
        steps[self._steps_axis] = slice(before, dout.shape[self._steps_axis] - after)
        return np.ascontiguousarray(dout[tuple(steps)]), []

    def get_config(self):
        config = super().get_config()
        config.update({"padding": self.padding, "data_format": self.data_format})
        return config
