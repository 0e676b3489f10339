"""`Bidirectional`: one recurrent layer reads the sequence forwards, a copy reads it
backwards, and their outputs are merged."""

import numpy as np

from minikeras.layers.base_rnn import BaseRNN, is_symbolic, sequence_shape, with_initial_state
from minikeras.layers.layer import Layer

_MERGE_MODES = ("sum", "mul", "ave", "concat", None)


class Bidirectional(Layer):
    """Runs `layer` and a backwards copy of it on the same input and merges the two outputs.

    Args:
        layer: a recurrent layer (SimpleRNN, LSTM, GRU). Its config is copied into
            `forward_layer` (named "forward_<name>") and, with go_backwards flipped, into
            `backward_layer` ("backward_<name>"), as Keras does.
        merge_mode: "concat" (default), "sum", "mul", "ave", or None (a list of both outputs).
        backward_layer: optional recurrent layer to use as the backward one.
        weights: optional initial weights, forward layer's first.

    Shapes: x (batch, timesteps, features) -> (batch, [timesteps,] 2 units) with "concat",
    (batch, [timesteps,] units) otherwise. With return_sequences the backward output is
    flipped back into the input's time order before merging. With return_state the output is
    [merged, *forward_states, *backward_states].
    """

    supports_masking = True
    splits_batches = True        # it runs recurrent layers (see BaseRNN.splits_batches)

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        from minikeras.saving.serialization import deserialize_layer

        if isinstance(layer, dict):
            layer = deserialize_layer(layer)
        if isinstance(backward_layer, dict):
            backward_layer = deserialize_layer(backward_layer)
        if not isinstance(layer, BaseRNN):
            raise ValueError(
                "Please initialize `Bidirectional` layer with a recurrent layer "
                f"(SimpleRNN, LSTM or GRU). Received: layer={layer!r}"
            )
        if backward_layer is not None and not isinstance(backward_layer, BaseRNN):
            raise ValueError(
                "`backward_layer` needs to be a recurrent layer (SimpleRNN, LSTM or GRU). "
                f"Received: backward_layer={backward_layer!r}"
            )
        if merge_mode not in _MERGE_MODES:
            raise ValueError(
                f"Invalid merge mode. Received: {merge_mode}. Merge mode should be one of "
                '{"sum", "mul", "ave", "concat", None}'
            )
        super().__init__(**kwargs)
        self.forward_layer = _copy(layer, name=f"forward_{_strip(layer.name, 'forward_')}")
        if backward_layer is None:
            self.backward_layer = _copy(
                layer, name=f"backward_{_strip(layer.name, 'backward_')}",
                go_backwards=not layer.go_backwards)
        else:
            self.backward_layer = backward_layer
        fwd, bwd = self.forward_layer, self.backward_layer
        if fwd.go_backwards == bwd.go_backwards:
            raise ValueError(
                "Forward layer and backward layer should have different `go_backwards` "
                f"value. Received: forward_layer.go_backwards {fwd.go_backwards}, "
                f"backward_layer.go_backwards={bwd.go_backwards}"
            )
        for attribute in ("stateful", "return_sequences", "return_state"):
            if getattr(fwd, attribute) != getattr(bwd, attribute):
                raise ValueError(
                    "Forward layer and backward layer are expected to have the same value "
                    f'for attribute "{attribute}", got "{getattr(fwd, attribute)}" for '
                    f'forward layer and "{getattr(bwd, attribute)}" for backward layer'
                )
        # Keras: masked steps of returned sequences are zeros, so the merge sees zeros there.
        for sub in (fwd, bwd):
            sub.zero_output_for_mask = sub.return_sequences
        self.merge_mode = merge_mode
        self.return_sequences = fwd.return_sequences
        self.return_state = fwd.return_state
        self.stateful = fwd.stateful
        self._initial_weights = weights

    def reset_states(self):
        self.forward_layer.reset_states()
        self.backward_layer.reset_states()

    def reset_state(self):
        self.reset_states()

    # ------------------------------------------------------------------ weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self.forward_layer.trainable_weights + self.backward_layer.trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.forward_layer.weights + self.backward_layer.weights
        return (self.forward_layer.non_trainable_weights
                + self.backward_layer.non_trainable_weights)

    def _saveable_children(self):
        return [("backward_layer", self.backward_layer), ("forward_layer", self.forward_layer)]

    def build(self, input_shape):
        input_shape = sequence_shape(input_shape)
        self.forward_layer._maybe_build(input_shape)
        self.backward_layer._maybe_build(input_shape)
        self._expected_last_dim = self.forward_layer._expected_last_dim
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None
        self.built = True

    def compute_output_shape(self, input_shape):
        shape = self.forward_layer.compute_output_shape(sequence_shape(input_shape))
        states = []
        if self.return_state:
            shape, states = shape[0], list(shape[1:])
        if self.merge_mode == "concat":
            output = tuple(shape[:-1]) + (shape[-1] * 2,)
        elif self.merge_mode is None:
            output = [tuple(shape), tuple(shape)]
        else:
            output = tuple(shape)
        if self.return_state:
            outputs = output if self.merge_mode is None else [output]
            return outputs + states * 2
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        if self.return_sequences:
            output_mask = [mask, mask] if self.merge_mode is None else mask
        else:
            output_mask = [None, None] if self.merge_mode is None else None
        if self.return_state:
            state_masks = [None] * (2 * self.forward_layer.state_count)
            if isinstance(output_mask, list):
                return output_mask + state_masks
            return [output_mask] + state_masks
        return output_mask

    # -------------------------------------------------------------------- maths

    def __call__(self, x, training=False, mask=None, initial_state=None):
        x = with_initial_state(x, initial_state)
        if is_symbolic(x):
            return self._call_symbolic(x)
        self._maybe_build(np.shape(x[0] if isinstance(x, (list, tuple)) else x))
        return self.forward(x, training=training, mask=mask)[0]

    def forward(self, x, training=False, mask=None, initial_state=None):
        """x: (batch, timesteps, features), or [x, *forward_states, *backward_states].
        Returns (out, cache)."""
        inputs_were_list = isinstance(x, (list, tuple))
        if inputs_were_list:
            x, initial_state = x[0], (list(x[1:]) or None)
        forward_state = backward_state = None
        if initial_state is not None:
            half = len(initial_state) // 2
            forward_state, backward_state = initial_state[:half], initial_state[half:]
        y, fwd_cache = self.forward_layer.forward(x, training, mask=mask,
                                                  initial_state=forward_state)
        y_rev, bwd_cache = self.backward_layer.forward(x, training, mask=mask,
                                                       initial_state=backward_state)
        states = []
        if self.return_state:
            states = y[1:] + y_rev[1:]
            y, y_rev = y[0], y_rev[0]
        if self.return_sequences:
            y_rev = y_rev[:, ::-1]                      # back into the input's time order
        if self.merge_mode == "concat":
            out = np.concatenate([y, y_rev], axis=-1)
        elif self.merge_mode == "sum":
            out = y + y_rev
        elif self.merge_mode == "ave":
            out = (y + y_rev) / 2
        elif self.merge_mode == "mul":
            out = y * y_rev
        else:
            out = [y, y_rev]
        if self.return_state:
            out = (out if self.merge_mode is None else [out]) + states
        return out, (y, y_rev, fwd_cache, bwd_cache, inputs_were_list)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(out) (a list for merge_mode None or return_state; None entries are
        zeros). Returns (dx, forward grads + backward grads)."""
        y, y_rev, fwd_cache, bwd_cache, inputs_were_list = cache
        dstates = []
        if self.merge_mode is None:
            dy, dy_rev = dout[0], dout[1]
            dstates = list(dout[2:])
        else:
            if self.return_state:
                dout, dstates = dout[0], list(dout[1:])
            if self.merge_mode == "concat":
                half = y.shape[-1]
                dy, dy_rev = dout[..., :half], dout[..., half:]
            elif self.merge_mode == "sum":
                dy, dy_rev = dout, dout
            elif self.merge_mode == "ave":
                dy = dy_rev = dout / 2
            else:                                       # mul: d(y * y_rev)
                dy, dy_rev = dout * y_rev, dout * y
        if dy is None:
            dy = np.zeros_like(y)
        if dy_rev is None:
            dy_rev = np.zeros_like(y_rev)
        if self.return_sequences:
            dy_rev = dy_rev[:, ::-1]                    # into the backward layer's order
        if self.return_state:
            half = len(dstates) // 2
            dy, dy_rev = [dy] + dstates[:half], [dy_rev] + dstates[half:]
        dx_f, grads_f = self.forward_layer.backward(dy, fwd_cache)
        dx_b, grads_b = self.backward_layer.backward(dy_rev, bwd_cache)
        if inputs_were_list:
            # the RNNs saw x and their own initial states
            dx = [dx_f[0] + dx_b[0]] + dx_f[1:] + dx_b[1:]
        else:
            dx = dx_f + dx_b
        if not self.trainable:
            return dx, []
        return dx, grads_f + grads_b

    # ------------------------------------------------------------------- config

    def get_config(self):
        from minikeras.saving.serialization import serialize_layer

        config = super().get_config()
        config.update({
            "merge_mode": self.merge_mode,
            "layer": serialize_layer(self.forward_layer),
            "backward_layer": serialize_layer(self.backward_layer),
        })
        return config


def _strip(name, prefix):
    return name[len(prefix):] if name.startswith(prefix) else name


def _copy(layer, **changes):
    """A fresh, unbuilt layer with `layer`'s config and some arguments changed."""
    config = layer.get_config()
    config.update(changes)
    return type(layer).from_config(config)
