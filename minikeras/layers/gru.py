"""`GRU`: gated recurrent unit, gates z, r, h in Keras's kernel order."""

import numpy as np

from minikeras.layers.base_rnn import BaseRNN
from minikeras.layers.lstm import _check_use_cudnn


class GRU(BaseRNN):
    """Gated recurrent unit (Cho et al., 2014), as Keras computes it:

        xz, xr, xh = x_t @ kernel + input_bias                       (batch, units) each
        reset_after=True (Keras 3's default):
            rz, rr, rh = h_{t-1} @ recurrent_kernel + recurrent_bias
            z = recurrent_activation(xz + rz);  r = recurrent_activation(xr + rr)
            hh = activation(xh + r * rh)
        reset_after=False:
            hh = activation(xh + (r * h_{t-1}) @ recurrent_kernel_h)
        h_t = z * h_{t-1} + (1 - z) * hh

    Args (as Keras's): units, activation ("tanh"), recurrent_activation ("sigmoid"),
        use_bias, kernel_initializer, recurrent_initializer ("orthogonal"), bias_initializer,
        regularizers, constraints, dropout, recurrent_dropout, seed, return_sequences,
        return_state, go_backwards, stateful, unroll, reset_after, use_cudnn,
        zero_output_for_mask, implementation.

    Shapes: x (batch, timesteps, features) -> (batch, timesteps, units) or (batch, units).
    Weights (in Keras's cell): kernel (features, 3 units), recurrent_kernel (units, 3 units),
    bias (2, 3 units) with reset_after (row 0 input bias, row 1 recurrent bias), else
    (3 units,).
    """

    gate_count = 3
    cell_name = "gru_cell"

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, dropout=0.0,
                 recurrent_dropout=0.0, seed=None, return_sequences=False, return_state=False,
                 go_backwards=False, stateful=False, unroll=False, reset_after=True,
                 use_cudnn="auto", zero_output_for_mask=False, implementation=2, **kwargs):
        super().__init__(
            units, activation, recurrent_activation, use_bias, kernel_initializer,
            recurrent_initializer, bias_initializer, kernel_regularizer,
            recurrent_regularizer, bias_regularizer, activity_regularizer, kernel_constraint,
            recurrent_constraint, bias_constraint, dropout, recurrent_dropout, seed,
            return_sequences, return_state, go_backwards, stateful, unroll,
            zero_output_for_mask, implementation, **kwargs)
        self.reset_after = bool(reset_after)
        self.use_cudnn = _check_use_cudnn(use_cudnn, self.name)

    def _build_bias(self):
        shape = (2, 3 * self.units) if self.reset_after else (3 * self.units,)
        return self.cell.add_weight(
            shape, self.bias_initializer, name="bias",
            regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _input_bias(self):
        if self.bias is None:
            return None
        return self.bias.value[0] if self.reset_after else self.bias.value

    def _step(self, xw_t, states, recurrent_masks):
        """xw_t: x_t @ kernel + input_bias (batch, 3 units); states [h_prev].
        Returns (h, [h], h_in, cache); h_in is what multiplies recurrent_kernel, per gate
        (3, batch, units) when the gates see different copies of h."""
        h_prev = states[0]
        u = self.units
        h_in = self._masked_h(h_prev, recurrent_masks)
        if self.reset_after:
            inner = self._recurrent_product(h_in)                     # (batch, 3 units)
            if self.use_bias:
                inner = inner + self.bias.value[1]
            zr, zr_cache = self._recurrent_act.forward(xw_t[:, :2 * u] + inner[:, :2 * u])
            r = zr[:, u:]
            inner_h = inner[:, 2 * u:]
            hh, hh_cache = self._act.forward(xw_t[:, 2 * u:] + r * inner_h)
        else:
            kernel = self.recurrent_kernel.value
            h_zr = h_in if h_in.ndim == 2 else h_in[:2]
            h_h = h_in if h_in.ndim == 2 else h_in[2]
            if h_zr.ndim == 2:
                inner_zr = h_zr @ kernel[:, :2 * u]
            else:
                inner_zr = np.concatenate([h_zr[0] @ kernel[:, :u], h_zr[1] @ kernel[:, u:2 * u]],
                                          axis=1)
            zr, zr_cache = self._recurrent_act.forward(xw_t[:, :2 * u] + inner_zr)
            r = zr[:, u:]
            inner_h = h_h                       # kept for the backward: d(r * h_h)
            hh, hh_cache = self._act.forward(xw_t[:, 2 * u:] + (r * h_h) @ kernel[:, 2 * u:])
            # Per gate, the recurrent kernel's three blocks see h, h and r * h.
            h_zr_full = np.broadcast_to(h_zr, (2,) + h_prev.shape) if h_zr.ndim == 2 else h_zr
            h_in = np.concatenate([h_zr_full, (r * h_h)[None]], axis=0)
        z = zr[:, :u]
        h = z * h_prev + (1.0 - z) * hh
        return h, [h], h_in, (zr_cache, hh_cache, z, r, hh, inner_h, h_prev)

    def _step_backward(self, dstates, cache, recurrent_masks):
        """dstates: [dL/dh]. Returns (dL/dxw_t, dL/d(h_in @ recurrent_kernel [+ recurrent
        bias]), [dL/dh_prev])."""
        zr_cache, hh_cache, z, r, hh, inner_h, h_prev = cache
        dh = dstates[0]
        u = self.units
        dz_gate = dh * (h_prev - hh)
        dhh_pre = self._act.backward(dh * (1.0 - z), hh_cache)   # dL/d(xh + ...)
        batch = dh.shape[0]
        dzr = np.empty((batch, 2 * u), dh.dtype)
        dzr[:, :u] = dz_gate
        dxw = np.empty((batch, 3 * u), dh.dtype)
        drec = np.empty((batch, 3 * u), dh.dtype)
        dxw[:, 2 * u:] = dhh_pre
        if self.reset_after:
            dzr[:, u:] = dhh_pre * inner_h                             # dr
            dzr_pre = self._recurrent_act.backward(dzr, zr_cache)
            dxw[:, :2 * u] = dzr_pre
            drec[:, :2 * u] = dzr_pre
            drec[:, 2 * u:] = dhh_pre * r                              # d(inner_h)
            dh_in = self._recurrent_product_backward(drec, 2 if recurrent_masks is None else 3)
            dh_prev = self._masked_h_backward(dh_in, recurrent_masks)
        else:
            kernel = self.recurrent_kernel.value
            h_h = inner_h
            drh = dhh_pre @ kernel[:, 2 * u:].T                        # dL/d(r * h_h)
            dzr[:, u:] = drh * h_h                                     # dr
            dzr_pre = self._recurrent_act.backward(dzr, zr_cache)
            dxw[:, :2 * u] = dzr_pre
            drec[:, :2 * u] = dzr_pre
            drec[:, 2 * u:] = dhh_pre
            dh_zr = dzr_pre[:, :u] @ kernel[:, :u].T, dzr_pre[:, u:] @ kernel[:, u:2 * u].T
            dh_h = drh * r
            if recurrent_masks is None:
                dh_prev = dh_zr[0] + dh_zr[1] + dh_h
            else:
                dh_prev = (dh_zr[0] * recurrent_masks[0] + dh_zr[1] * recurrent_masks[1]
                           + dh_h * recurrent_masks[2])
        return dxw, drec, [dh_prev + dh * z]

    def _bias_gradient(self, dxw, drec):
        dinput_bias = dxw.sum(axis=(0, 1))
        if not self.reset_after:
            return dinput_bias
        return np.stack([dinput_bias, drec.sum(axis=(0, 1))])

    def get_config(self):
        config = super().get_config()
        config["reset_after"] = self.reset_after
        return config
