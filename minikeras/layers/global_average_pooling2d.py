"""`GlobalAveragePooling2D`: the mean of every channel over height and width."""

from minikeras.layers.base_pooling import BaseGlobalPooling2D


class GlobalAveragePooling2D(BaseGlobalPooling2D):
    """out[n, c] = mean over (y, x) of x[n, y, x, c]; see BaseGlobalPooling2D for arguments."""

    def forward(self, x, training=False):
        """x: (batch, h, w, c) or (batch, c, h, w). Returns (out, cache)."""
        axes = self._spatial_axes
        out = x.mean(axis=axes, keepdims=self.keepdims)
        # backward only needs the input's shape: every pixel gets dout / (h * w)
        return out, x.shape

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, c) (or keepdims shape). Returns (dx, [])."""
        x_shape = cache
        axes = self._spatial_axes
        count = x_shape[axes[0]] * x_shape[axes[1]]
        share = self._restore_dims(dout) / count
        dx = share.repeat(x_shape[axes[0]], axis=axes[0]).repeat(x_shape[axes[1]], axis=axes[1])
        return dx.astype(dout.dtype, copy=False), []
