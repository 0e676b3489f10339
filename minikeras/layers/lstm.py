"""`LSTM`: long short-term memory, gates i, f, c, o in Keras's kernel order."""

import numpy as np

from minikeras.layers.base_rnn import BaseRNN


class LSTM(BaseRNN):
    """Long short-term memory (Hochreiter and Schmidhuber, 1997), as Keras computes it:

        z = x_t @ kernel + h_{t-1} @ recurrent_kernel + bias      (batch, 4 units)
        i, f, o = recurrent_activation(z_i, z_f, z_o);  g = activation(z_c)
        c_t = f * c_{t-1} + i * g;   h_t = o * activation(c_t)

    Args (as Keras's): units, activation ("tanh"), recurrent_activation ("sigmoid"), use_bias,
        kernel_initializer, recurrent_initializer ("orthogonal"), bias_initializer,
        unit_forget_bias (True: the forget gate's bias starts at 1), regularizers,
        constraints, dropout, recurrent_dropout, seed, return_sequences, return_state,
        go_backwards, stateful, unroll, use_cudnn ("auto" or False),
        zero_output_for_mask, implementation (1: one dropout mask per gate).

    Shapes: x (batch, timesteps, features) -> (batch, timesteps, units) or (batch, units);
    states [h, c] each (batch, units). Weights (in Keras's cell): kernel (features, 4 units),
    recurrent_kernel (units, 4 units), bias (4 units,), column blocks in the order i, f, c, o.
    """

    gate_count = 4
    state_count = 2
    cell_name = "lstm_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", unit_forget_bias=True, kernel_regularizer=None,
                 recurrent_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, recurrent_constraint=None, bias_constraint=None,
                 dropout=0.0, recurrent_dropout=0.0, seed=None, return_sequences=False,
                 return_state=False, go_backwards=False, stateful=False, unroll=False,
                 use_cudnn="auto", zero_output_for_mask=False, implementation=2, **kwargs):
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
            return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, implementation, **kwargs)
        self.unit_forget_bias = bool(unit_forget_bias)
        self.use_cudnn = _check_use_cudnn(use_cudnn, self.name)

    def _build_bias(self):
        bias = super()._build_bias()
        if self.unit_forget_bias:
            # Keras: bias_initializer for the i block, ones for f, bias_initializer for c, o.
            units = self.units
            dtype = bias.value.dtype
            bias.assign(np.concatenate([
                self.bias_initializer((units,), dtype=dtype),
                np.ones((units,), dtype),
                self.bias_initializer((2 * units,), dtype=dtype),
            ]))
        return bias

    def _step(self, xw_t, states, recurrent_masks):
        """xw_t: x_t @ kernel + bias (batch, 4 units); states [h_prev, c_prev].
        Returns (h, [h, c], h_in, cache)."""
        h_prev, c_prev = states
        u = self.units
        h_in = self._masked_h(h_prev, recurrent_masks)
        z = xw_t + self._recurrent_product(h_in)                       # (batch, 4 units)
        gates, gates_cache = self._recurrent_act.forward(z)     # i, f, o used from here
        g, g_cache = self._act.forward(z[:, 2 * u:3 * u])
        i, f, o = gates[:, :u], gates[:, u:2 * u], gates[:, 3 * u:]
        c = f * c_prev + i * g
        c_act, c_cache = self._act.forward(c)
        h = o * c_act
        return h, [h, c], h_in, (gates_cache, g_cache, c_cache, i, f, o, g, c_act, c_prev,
                                 h_in.ndim)

    def _step_backward(self, dstates, cache, recurrent_masks):
        """dstates: [dL/dh, dL/dc]. Returns (dL/dxw_t, dL/d(h_in @ recurrent_kernel),
        [dL/dh_prev, dL/dc_prev])."""
        gates_cache, g_cache, c_cache, i, f, o, g, c_act, c_prev, h_in_ndim = cache
        dh, dc_next = dstates
        u = self.units
        dc = dc_next + self._act.backward(dh * o, c_cache)      # h = o * act(c)
        dgates = np.empty((dh.shape[0], 4 * u), dh.dtype)
        dgates[:, :u] = dc * g                                        # di
        dgates[:, u:2 * u] = dc * c_prev                              # df
        dgates[:, 2 * u:3 * u] = 0.0
        dgates[:, 3 * u:] = dh * c_act                                # do
        dz = self._recurrent_act.backward(dgates, gates_cache)
        dz[:, 2 * u:3 * u] = self._act.backward(dc * i, g_cache)  # dg -> dz_c
        dh_in = self._recurrent_product_backward(dz, h_in_ndim)
        dh_prev = self._masked_h_backward(dh_in, recurrent_masks)
        return dz, dz, [dh_prev, dc * f]

    def get_config(self):
        config = super().get_config()
        config["unit_forget_bias"] = self.unit_forget_bias
        return config


def _check_use_cudnn(use_cudnn, layer_name):
    if use_cudnn is True:
        raise ValueError(
            f"use_cudnn=True was specified for layer {layer_name!r}, but minikeras runs on "
            "NumPy without cuDNN. Received: use_cudnn=True. Pass use_cudnn='auto' or False."
        )
    if use_cudnn not in ("auto", False):
        raise ValueError(
            f"`use_cudnn` must be 'auto', True or False (layer {layer_name!r}). "
            f"Received: use_cudnn={use_cudnn!r}"
        )
    return use_cudnn

