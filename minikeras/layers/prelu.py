"""`PReLU`: a leaky ReLU whose negative slope `alpha` is learned, one per input entry."""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.layer import Layer, maybe_serialize


class PReLU(Layer):
    """out = max(x, 0) - alpha * max(-x, 0), alpha a trainable weight.

    Args:
        alpha_initializer, alpha_regularizer, alpha_constraint: for the weight `alpha`.
        shared_axes: axes (counted with the batch axis as 0) along which one alpha is shared,
            e.g. [1, 2] for one alpha per channel of an image.

    Shapes: x (batch, *dims) -> out of the same shape. Weight: alpha of dims, with 1 on the
    shared axes.
    """

    def __init__(self, alpha_initializer="Zeros", alpha_regularizer=None,
                 alpha_constraint=None, shared_axes=None, **kwargs):
        super().__init__(**kwargs)
        self.alpha_initializer = initializers.get(alpha_initializer)
        self.alpha_regularizer = regularizers.get(alpha_regularizer)
        self.alpha_constraint = constraints.get(alpha_constraint)
        if shared_axes is not None and not isinstance(shared_axes, (list, tuple)):
            shared_axes = [shared_axes]
        if shared_axes is not None and any(
                isinstance(a, bool) or not isinstance(a, (int, np.integer)) or a < 1
                for a in shared_axes):
            raise ValueError(
                "`shared_axes` of a PReLU layer must be positive axis numbers (the batch "
                f"axis is 0). Received: shared_axes={shared_axes!r}"
            )
        self.shared_axes = None if shared_axes is None else [int(a) for a in shared_axes]
        self.supports_masking = True

    def build(self, input_shape):
        shape = list(input_shape[1:])
        for axis in self.shared_axes or []:
            if axis > len(shape):
                raise ValueError(
                    f"`shared_axes` of PReLU layer {self.name!r} name axis {axis}, but its "
                    f"input has shape {tuple(input_shape)}. Received: "
                    f"shared_axes={self.shared_axes}"
                )
            shape[axis - 1] = 1
        if any(d is None for d in shape):
            raise ValueError(
                f"PReLU layer {self.name!r} needs the size of every unshared axis. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self.alpha = self.add_weight(shape, self.alpha_initializer, name="alpha",
                                     regularizer=self.alpha_regularizer,
                                     constraint=self.alpha_constraint)
        self.built = True

    def forward(self, x, training=False):
        """x: (batch, *dims). Returns (out, cache)."""
        alpha = self.alpha.value
        negative_part = np.minimum(x, 0)            # -relu(-x)
        out = np.maximum(x, 0) + alpha * negative_part
        return out.astype(x.dtype, copy=False), (x, negative_part)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dx = dout where x > 0, alpha * dout where x < 0 (0 at x = 0, as TF's relu);
        dalpha = sum of dout * min(x, 0) over the batch and the shared axes."""
        x, negative_part = cache
        dx = None
        if need_input_gradient:
            dx = dout * (x > 0) + dout * (x < 0) * self.alpha.value
        grads = []
        if self.trainable:
            dalpha = dout * negative_part                              # (batch, *dims)
            shared = (0,) + tuple(self.shared_axes or ())
            dalpha = dalpha.sum(axis=shared, keepdims=True)[0]         # alpha's shape
            grads.append(dalpha)
        return dx, grads

    def get_config(self):
        config = super().get_config()
        config.update({
            "alpha_initializer": initializers.serialize(self.alpha_initializer),
            "alpha_regularizer": maybe_serialize(regularizers.serialize,
                                                 self.alpha_regularizer),
            "alpha_constraint": maybe_serialize(constraints.serialize, self.alpha_constraint),
            "shared_axes": self.shared_axes,
        })
        return config
