"""`TimeDistributed`: applies one layer to every time step of a sequence."""

import numpy as np

from minikeras.layers.layer import Layer


class TimeDistributed(Layer):
    """Applies `layer` to each slice x[:, t] with the same weights.

    The steps are folded into the batch: x (batch, T, ...) is reshaped to (batch * T, ...),
    run through `layer` once, and the result is reshaped back, so backward is `layer`'s own.

    Args:
        layer: the layer to apply (for example Dense).

    Shapes: x (batch, timesteps, ...) -> (batch, timesteps, *layer's output shape).
    """

    supports_masking = True

    def __init__(self, layer, **kwargs):
        from minikeras.saving.serialization import deserialize_layer

        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if not isinstance(layer, Layer):
            raise ValueError(
                "Please initialize `TimeDistributed` layer with a `keras.layers.Layer` "
                f"instance. Received: {layer}"
            )
        super().__init__(**kwargs)
        self.layer = layer

    @property
    def splits_batches(self):
        return self.layer.splits_batches

    @property
    def trainable_weights(self):
        return self.layer.trainable_weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return self.layer.non_trainable_weights if self.trainable else self.layer.weights

    def _saveable_children(self):
        return [("layer", self.layer)]

    def _child_input_shape(self, input_shape):
        if len(input_shape) < 3:
            raise ValueError(
                "`TimeDistributed` Layer should be passed an `input_shape` with at least 3 "
                f"dimensions, received: {tuple(input_shape)}"
            )
        return (input_shape[0],) + tuple(input_shape[2:])

    def build(self, input_shape):
        self.layer._maybe_build(self._child_input_shape(tuple(input_shape)))
        self.built = True

    def compute_output_shape(self, input_shape):
        child = self.layer.compute_output_shape(self._child_input_shape(tuple(input_shape)))
        return (input_shape[0], input_shape[1]) + tuple(child[1:])

    def compute_mask(self, inputs, mask=None):
        return mask

    def forward(self, x, training=False):
        """x: (batch, T, ...). Returns (out, cache), out (batch, T, ...layer's output)."""
        x = np.asarray(x)
        if x.ndim < 3:
            raise ValueError(
                f"Layer {self.name!r} (TimeDistributed) expects inputs of rank >= 3. "
                f"Received: input shape {x.shape}"
            )
        batch, steps = x.shape[:2]
        out, cache = self.layer.forward(x.reshape((batch * steps,) + x.shape[2:]), training)
        return out.reshape((batch, steps) + out.shape[1:]), (cache, x.shape)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: (batch, T, ...). Returns (dx of x's shape, the layer's grads)."""
        inner_cache, x_shape = cache
        folded = dout.reshape((x_shape[0] * x_shape[1],) + dout.shape[2:])
        options = {"from_logits": True} if from_logits else {}
        dx, grads = self.layer.backward(folded, inner_cache, **options)
        if dx is not None:
            dx = dx.reshape(x_shape)
        return dx, (grads if self.trainable else [])

    def output_logits(self, cache):
        inner_cache, x_shape = cache
        logits = self.layer.output_logits(inner_cache)
        if logits is None:
            return None
        return logits.reshape(x_shape[:2] + logits.shape[1:])

    def get_config(self):
        from minikeras.saving.serialization import serialize_layer

        config = super().get_config()
        config["layer"] = serialize_layer(self.layer)
        return config
