"""`GlobalMaxPooling2D`: the maximum of every channel over height and width."""

from minikeras.layers.base_pooling import BaseGlobalPooling2D


class GlobalMaxPooling2D(BaseGlobalPooling2D):
    """out[n, c] = max over (y, x) of x[n, y, x, c]; see BaseGlobalPooling2D for arguments.

    When several pixels tie for a channel's maximum the gradient is shared equally among
    them, as TensorFlow's reduce_max gradient does.
    """

    # relu(max(x)) == max(relu(x)): a conv's relu may run after this (models/fusion.py)
    commutes_with_relu = True

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or (batch, c, h, w). Returns (out, cache)."""
        axes = self._spatial_axes
        peak = x.max(axis=axes, keepdims=True)
        winners = x == peak                       # the pixels holding each channel's maximum
        out = peak if self.keepdims else peak.squeeze(axis=axes)
        return out, winners

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, c) (or keepdims shape). Returns (dx, [])."""
        winners = cache
        axes = self._spatial_axes
        ties = winners.sum(axis=axes, keepdims=True)
        share = (self._restore_dims(dout) / ties).astype(dout.dtype, copy=False)
        return share * winners, []           # dout / ties on each tied maximum, 0 elsewhere
