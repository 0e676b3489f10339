"""`Softmax`: softmax as a layer, along one axis or several, with an optional mask."""

import numpy as np

from minikeras.activations.activations import softmax
from minikeras.layers.layer import Layer


class Softmax(Layer):
    """out = exp(x) / sum(exp(x)) along `axis`; masked entries give 0 and take no share.

    Args:
        axis: an int, or a list/tuple of ints to normalise over several axes at once.

    Call: forward(x, training, mask) with mask broadcastable to x (True or > 0.5 = keep).
    Shapes: x any shape -> out of the same shape.
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        axes = axis if isinstance(axis, (list, tuple)) else (axis,)
        if not axes or any(isinstance(a, bool) or not isinstance(a, (int, np.integer))
                           for a in axes):
            raise ValueError(
                f"`axis` of a Softmax layer must be an int or a list of ints. Received: "
                f"axis={axis!r}"
            )
        self.axis = list(axis) if isinstance(axis, (list, tuple)) else int(axis)
        self._axes = tuple(int(a) for a in axes)
        self.supports_masking = True
        self.built = True

    def forward(self, x, training=False, mask=None):
        """x: any shape; mask: None or broadcastable to x. Returns (out, cache)."""
        keep = None
        if mask is not None:
            keep = _keep_mask(mask, x)
            # Keras puts a large negative number where the mask is off (-1e9; -3e4 in
            # float16), so those entries get (almost) no share, then zeroes them.
            x = np.where(keep, x, -3e4 if x.dtype == np.float16 else -1e9).astype(x.dtype)
        if len(self._axes) == 1:
            out, cache = softmax.forward(x, axis=self._axes[0])
            y = cache[0]
        else:
            shifted = x - x.max(axis=self._axes, keepdims=True)
            e = np.exp(shifted)
            y = e / e.sum(axis=self._axes, keepdims=True)
            out = y
        if keep is not None:
            out = np.where(keep, out, 0).astype(x.dtype)
        return out, (y, keep)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dx = y * (dy - sum(dy * y)) along the axes, with dy and dx zero where masked."""
        y, keep = cache
        if keep is not None:
            dout = np.where(keep, dout, 0).astype(dout.dtype)
        dx = y * (dout - (dout * y).sum(axis=self._axes, keepdims=True))
        if keep is not None:
            dx = np.where(keep, dx, 0).astype(dx.dtype)
        return dx, []


    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def _keep_mask(mask, x):
    """A mask broadcastable to x as booleans (Keras: True, or > 0.5 for numbers)."""
    mask = np.asarray(mask)
    if mask.ndim > x.ndim or any(m != 1 and m != d
                                 for m, d in zip(mask.shape[::-1], x.shape[::-1])):
        raise ValueError(
            "The `mask` must be broadcastable to `inputs`. Received: "
            f"inputs.shape={x.shape}, mask.shape={mask.shape}"
        )
    return mask if mask.dtype == bool else mask > 0.5
