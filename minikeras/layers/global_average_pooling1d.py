"""`GlobalAveragePooling1D`: the mean of every channel over the steps (masked steps left out)."""

import numpy as np

from minikeras.layers.base_pooling1d import BaseGlobalPooling1D


class GlobalAveragePooling1D(BaseGlobalPooling1D):
    """out[n, c] = sum_t m[n, t] x[n, t, c] / sum_t m[n, t]; see BaseGlobalPooling1D.

    m is the input's mask (batch, steps) when it has one (from Embedding(mask_zero=True) or
    Masking), else all ones: padded steps do not count. As in Keras, a sequence whose steps are
    all masked gives 0 / 0 = nan.
    """

    supports_masking = True

    def forward(self, x, training=False, mask=None):
        """x: (batch, steps, c) or (batch, c, steps); mask: (batch, steps) or None.
        Returns (out, cache)."""
        axis = self._steps_axis
        if mask is None:
            # backward only needs the input's shape: every step gets dout / steps
            return x.mean(axis=axis, keepdims=self.keepdims), (x.shape, None)
        weights = np.expand_dims(np.asarray(mask, dtype=bool), 3 - axis).astype(x.dtype)
        counts = weights.sum(axis=axis, keepdims=True)            # real steps per sequence
        with np.errstate(invalid="ignore", divide="ignore"):      # all masked: nan, as Keras
            out = np.where(weights.astype(bool), x, 0).sum(axis=axis, keepdims=True) / counts
            shares = weights / counts             # d out / d x[n, t]: m[n, t] / sum_t m[n, t]
        if not self.keepdims:
            out = out.squeeze(axis)
        return out, (x.shape, shares)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, c) (or keepdims shape). Returns (dx, [])."""
        x_shape, shares = cache
        if shares is None:
            shares = 1.0 / x_shape[self._steps_axis]
        dx = np.broadcast_to(self._restore_dims(dout) * shares, x_shape)
        return np.ascontiguousarray(dx, dtype=dout.dtype), []
