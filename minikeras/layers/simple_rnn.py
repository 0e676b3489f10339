"""`SimpleRNN`: h_t = activation(x_t @ kernel + h_{t-1} @ recurrent_kernel + bias)."""

from minikeras.layers.base_rnn import BaseRNN


class SimpleRNN(BaseRNN):
    """A fully connected recurrent layer whose output is fed back as the next step's state.

    Args (as Keras's): units, activation ("tanh"), use_bias, kernel_initializer
        ("glorot_uniform"), recurrent_initializer ("orthogonal"), bias_initializer ("zeros"),
        kernel/recurrent/bias/activity regularizers, kernel/recurrent/bias constraints,
        dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
        stateful, unroll, zero_output_for_mask.

    Shapes: x (batch, timesteps, features) -> (batch, timesteps, units) or (batch, units).
    Weights (in Keras's cell): kernel (features, units), recurrent_kernel (units, units),
    bias (units,).
    """

    cell_name = "simple_rnn_cell"

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, seed=None,
                 zero_output_for_mask=False, **kwargs):
        super().__init__(
            units, activation, None, use_bias, kernel_initializer, recurrent_initializer,
            bias_initializer, kernel_regularizer, recurrent_regularizer, bias_regularizer,
            activity_regularizer, kernel_constraint, recurrent_constraint, bias_constraint,
            dropout, recurrent_dropout, seed, return_sequences, return_state, go_backwards,
            stateful, unroll, zero_output_for_mask, implementation=2, **kwargs)

    def _step(self, xw_t, states, recurrent_masks):
        """xw_t: x_t @ kernel + bias (batch, units); states [h_prev].
        Returns (h, [h], h_in, cache)."""
        h_in = self._masked_h(states[0], recurrent_masks)
        h, act_cache = self._act.forward(xw_t + self._recurrent_product(h_in))
        return h, [h], h_in, (act_cache, h_in.ndim)

    def _step_backward(self, dstates, cache, recurrent_masks):
        """dstates: [dL/dh]. Returns (dL/dxw_t, dL/d(h_in @ recurrent_kernel), [dL/dh_prev])."""
        act_cache, h_in_ndim = cache
        dz = self._act.backward(dstates[0], act_cache)          # (batch, units)
        dh_in = self._recurrent_product_backward(dz, h_in_ndim)
        return dz, dz, [self._masked_h_backward(dh_in, recurrent_masks)]
