"""`GlobalMaxPooling1D`: the maximum of every channel over the steps."""

from minikeras.layers.base_pooling1d import BaseGlobalPooling1D


class GlobalMaxPooling1D(BaseGlobalPooling1D):
    """out[n, c] = max over t of x[n, t, c]; see BaseGlobalPooling1D for the arguments.

    Keras 3's GlobalMaxPooling1D does not use masks (it does not declare support for them),
    so neither does this one: a padded step can hold the maximum. When several steps tie for
    a channel's maximum the gradient is shared equally among them, as TensorFlow's reduce_max
    gradient does.
    """

    # relu(max(x)) == max(relu(x)): a conv's relu may run after this (models/fusion.py)
    commutes_with_relu = True

    def forward(self, x, training=False):
        """x: (batch, steps, c) or (batch, c, steps). Returns (out, cache)."""
        axis = self._steps_axis
        peak = x.max(axis=axis, keepdims=True)
        winners = x == peak                       # the steps holding each channel's maximum
        out = peak if self.keepdims else peak.squeeze(axis)
        return out, winners

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, c) (or keepdims shape). Returns (dx, [])."""
        winners = cache
        ties = winners.sum(axis=self._steps_axis, keepdims=True)
        share = (self._restore_dims(dout) / ties).astype(dout.dtype, copy=False)
        return share * winners, []           # dout / ties on each tied maximum, 0 elsewhere
