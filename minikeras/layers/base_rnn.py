"""What SimpleRNN, LSTM and GRU share: the loop over time, masks, dropout, states.

A recurrent layer reads a sequence x (batch, timesteps, features) one step at a time:

    xw = x @ kernel + bias              all steps at once: one GEMM   (T, batch, gates*units)
    for t in 0..T-1:                    the only Python loop
        states = cell_step(xw[t], states)          uses h_prev @ recurrent_kernel
    backward:   the same loop in reverse (backpropagation through time), collecting
                dL/d(xw) and dL/d(h_prev @ recurrent_kernel) for every step, then
    dkernel = x.T @ dxw,  dx = dxw @ kernel.T,  drecurrent_kernel = h_prev.T @ drec
                                        one GEMM each, over all steps

Each subclass states its cell's maths in `_step` and `_step_backward`, side by side.

Stateful layers (stateful=True) start each call from the states the previous call ended with;
no gradient flows back into the previous batch (truncated backpropagation through time).

Masks (Keras's rules): on a masked step the states are carried over unchanged and the output
is the previous step's output (zeros before the first step), or zeros when
`zero_output_for_mask=True` (what Bidirectional asks for with return_sequences).

Dropout while training (Keras's rules): one keep-mask per sample and feature, drawn once per
call and used at every step. With `recurrent_dropout` (or implementation=1), every gate gets
its own input mask and its own mask on the previous h.
"""

import numpy as np

from minikeras import activations, backend, constraints, initializers, random, regularizers
from minikeras.backend.keras_tensor import KerasTensor
from minikeras.kernels import parallel
from minikeras.layers.layer import Layer, activation_of, maybe_serialize
from minikeras.utils.argument_validation import positive_int

# The loop applies its activations to small (batch, units) arrays hundreds of times per
# batch, where the shared tanh/sigmoid (built to match TensorFlow's saturation bit for bit)
# spent ~40% of an LSTM's time. With FAST_ACTIVATIONS, tanh and sigmoid run as the plain
# formulas below instead (the same values to float rounding: tests/test_rnn_layers.py
# compares both paths); False runs the shared activation functions.
FAST_ACTIVATIONS = True


class _PlainTanh:
    """y = tanh(z); dy/dz = 1 - y^2 (NumPy's tanh, no saturation clamp)."""

    @staticmethod
    def forward(z):
        y = np.tanh(z)
        return y, y

    @staticmethod
    def backward(dy, y):
        return dy * (1.0 - y * y)


class _TanhSigmoid:
    """y = sigmoid(z) = (1 + tanh(z / 2)) / 2, three passes and no overflow; dy/dz = y (1 - y)."""

    @staticmethod
    def forward(z):
        y = np.tanh(z * 0.5)
        y *= 0.5
        y += 0.5
        return y, y

    @staticmethod
    def backward(dy, y):
        return dy * y * (1.0 - y)


def loop_function(activation):
    """The activation the time loop runs: the fast tanh/sigmoid above when FAST_ACTIVATIONS
    is on and `activation` is Keras's built-in one, else the activation itself."""
    if FAST_ACTIVATIONS:
        if activation is activations.tanh:
            return _PlainTanh
        if activation is activations.sigmoid:
            return _TanhSigmoid
    return activation


class RecurrentCell(Layer):
    """Holds a recurrent layer's weights under the name Keras gives its cell ("lstm_cell"),
    so that `.keras` and `.weights.h5` files keep Keras's layout (layers/lstm/cell/vars/0..2).
    The maths lives in the recurrent layer itself."""

    def forward(self, x, training=False):
        raise NotImplementedError("A recurrent cell's maths runs inside its layer.")


class BaseRNN(Layer):
    """Base class of SimpleRNN, LSTM and GRU (not public: Keras's generic `RNN(cell)` is not
    implemented).

    Subclasses set `gate_count` (blocks of `units` columns in the kernels), `state_count`,
    `cell_name`, and implement `_step`, `_step_backward`, `_build_bias`, `_bias_gradient`.

    Shapes: x (batch, timesteps, features) -> (batch, timesteps, units) with
    return_sequences, else (batch, units); with return_state, a list [output, *final_states],
    each state (batch, units).
    """

    supports_masking = True
    gate_count = 1
    state_count = 1
    cell_name = "rnn_cell"
    # The loop over time makes many small products (batch x units): with OpenBLAS's own
    # threads each took ~100x longer on a busy machine (their workers spin and wait), so a
    # model holding an RNN trains with BLAS on one thread (Model._all_cores), and the big
    # products over all steps are split over the cores by kernels/parallel.py instead.
    splits_batches = True

    def __init__(self, units, activation, recurrent_activation, use_bias, kernel_initializer,
                 recurrent_initializer, bias_initializer, kernel_regularizer,
                 recurrent_regularizer, bias_regularizer, activity_regularizer,
                 kernel_constraint, recurrent_constraint, bias_constraint, dropout,
                 recurrent_dropout, seed, return_sequences, return_state, go_backwards,
                 stateful, unroll, zero_output_for_mask, implementation, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        self.units = positive_int("units", units, owner=f"layer {self.name!r}")
        self.activation = activation_of(activation)
        self.recurrent_activation = (None if recurrent_activation is None
                                     else activation_of(recurrent_activation))
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.recurrent_initializer = initializers.get(recurrent_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.recurrent_regularizer = regularizers.get(recurrent_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.recurrent_constraint = constraints.get(recurrent_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.dropout = _rate("dropout", dropout, self.name)
        self.recurrent_dropout = _rate("recurrent_dropout", recurrent_dropout, self.name)
        if implementation not in (1, 2):
            raise ValueError(
                f"`implementation` must be 1 or 2 (layer {self.name!r}). "
                f"Received: implementation={implementation!r}"
            )
        # Keras switches to implementation 1 (one dropout mask per gate) with recurrent dropout.
        self.implementation = 1 if self.recurrent_dropout > 0 else int(implementation)
        self.seed = seed
        self._rng = np.random.default_rng(seed) if seed is not None else None
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        # stateful: each batch starts from the states the previous batch ended with (no
        # gradient flows back into the previous batch); reset_states() zeroes them.
        self.stateful = bool(stateful)
        self.states = None
        self.unroll = bool(unroll)        # same maths either way; accepted for Keras scripts
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.cell = RecurrentCell(name=backend.unique_name(self.cell_name), dtype=self.dtype)

    # ------------------------------------------------------------------ weights

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return self.cell.trainable_weights

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.cell.weights
        return self.cell.non_trainable_weights

    def _saveable_children(self):
        """Sub-objects in Keras's weight-file layout: the cell holds the weights."""
        return [("cell", self.cell)]

    def build(self, input_shape):
        input_shape = sequence_shape(input_shape)
        if len(input_shape) != 3:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim=3, found ndim={len(input_shape)}. Full shape received: "
                f"{tuple(input_shape)}"
            )
        features = input_shape[-1]
        if features is None:
            raise ValueError(
                f"The last dimension of the input to layer {self.name!r} must be known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._expected_last_dim = int(features)
        width = self.gate_count * self.units
        cell = self.cell
        self.kernel = cell.add_weight(
            (features, width), self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint)
        self.recurrent_kernel = cell.add_weight(
            (self.units, width), self.recurrent_initializer, name="recurrent_kernel",
            regularizer=self.recurrent_regularizer, constraint=self.recurrent_constraint)
        self.bias = self._build_bias() if self.use_bias else None
        cell.built = True
        if self.stateful:
            if input_shape[0] is None:
                raise ValueError(
                    f"When using `stateful=True` in a RNN (layer {self.name!r}), the batch "
                    "size must be static. Found dynamic batch size: "
                    f"sequence.shape={tuple(input_shape)}. Give it with "
                    "Input(batch_shape=(batch, timesteps, features))."
                )
            self.states = [np.zeros((input_shape[0], self.units), self.dtype)
                           for _ in range(self.state_count)]
        self.built = True

    def reset_states(self):
        """Zeroes the states a stateful layer carries from batch to batch."""
        self.reset_state()

    def reset_state(self):
        if self.states is not None:
            self.states = [np.zeros_like(state) for state in self.states]

    def _build_bias(self):
        return self.cell.add_weight(
            (self.gate_count * self.units,), self.bias_initializer, name="bias",
            regularizer=self.bias_regularizer, constraint=self.bias_constraint)

    def _input_bias(self):
        """The bias added to x @ kernel, (gates*units,) or None."""
        return None if self.bias is None else self.bias.value

    def compute_output_shape(self, input_shape):
        input_shape = sequence_shape(input_shape)
        batch, steps = input_shape[0], input_shape[1]
        if self.return_sequences:
            output = (batch, steps, self.units)
        else:
            output = (batch, self.units)
        if self.return_state:
            return [output] + [(batch, self.units)] * self.state_count
        return output

    def compute_mask(self, inputs, mask=None):
        if isinstance(mask, (list, tuple)):
            mask = mask[0]
        output_mask = mask if self.return_sequences else None
        if self.return_state:
            return [output_mask] + [None] * self.state_count
        return output_mask

    # -------------------------------------------------------------------- calling

    def __call__(self, x, training=False, mask=None, initial_state=None):
        """On arrays: applies the layer (x, and optionally a mask and initial states). On
        symbolic tensors: records the call; initial states become extra inputs."""
        x = with_initial_state(x, initial_state)
        if is_symbolic(x):
            return self._call_symbolic(x)
        self._maybe_build(np.shape(x[0] if isinstance(x, (list, tuple)) else x))
        out, _ = self.forward(x, training=training, mask=mask)
        return out

    def _split_inputs(self, x, initial_state):
        """x, or [x, *initial_states] (a layer called on several tensors) -> (x, states)."""
        if isinstance(x, (list, tuple)):
            if initial_state is not None:
                raise ValueError(
                    f"Layer {self.name!r} received initial states both in its inputs and "
                    "as `initial_state`. Pass them one way."
                )
            x, initial_state = x[0], list(x[1:]) or None
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self.dtype)
        if x.ndim != 3:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"ndim=3, found ndim={x.ndim}. Full shape received: {x.shape}"
            )
        self._maybe_build(x.shape)
        if x.shape[-1] != self._expected_last_dim:
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected "
                f"axis -1 of input shape to have value {self._expected_last_dim}, but "
                f"received input with shape {x.shape}"
            )
        batch = x.shape[0]
        if initial_state is None and self.stateful:
            if self.states[0].shape[0] != batch:
                raise ValueError(
                    f"If an RNN is stateful, the batch size of the input sequences must be "
                    f"the same as the batch size of the initial state (layer "
                    f"{self.name!r}). Expected batch size: {self.states[0].shape[0]}. "
                    f"Received batch size: {batch}"
                )
            return x, [state.astype(x.dtype) for state in self.states], False
        if initial_state is None:
            states = [np.zeros((batch, self.units), x.dtype) for _ in range(self.state_count)]
            return x, states, False
        if not isinstance(initial_state, (list, tuple)):
            initial_state = [initial_state]
        if len(initial_state) != self.state_count:
            raise ValueError(
                f"Layer {self.name!r} expects {self.state_count} initial state(s) of shape "
                f"{(batch, self.units)}. Received: {len(initial_state)} state(s) with shapes "
                f"{[np.shape(s) for s in initial_state]}"
            )
        states = [np.asarray(s, dtype=x.dtype) for s in initial_state]
        for s in states:
            if s.shape != (batch, self.units):
                raise ValueError(
                    f"Layer {self.name!r} expects initial states of shape "
                    f"{(batch, self.units)}. Received: initial_state shapes "
                    f"{[s.shape for s in states]}"
                )
        return x, states, True

    def _check_mask(self, mask, x):
        if isinstance(mask, (list, tuple)):         # masks of [x, *initial_states]
            mask = mask[0]
        if mask is None:
            return None
        mask = np.asarray(mask)
        if mask.shape != x.shape[:2]:
            raise ValueError(
                f"Layer {self.name!r} expects a mask of shape (batch, timesteps) = "
                f"{x.shape[:2]}. Received: mask.shape={mask.shape}"
            )
        return mask.astype(bool)

    def _dropout_masks(self, x, training):
        """Keep-masks scaled by 1/(1-rate), drawn once per call (None when off).

        Returns (input_masks, recurrent_masks): input_masks (1, batch, features) shared by the
        gates or (gates, batch, features) one per gate; recurrent_masks (gates, batch, units).
        """
        if not training:
            return None, None
        rng = self._rng or random.generator()
        per_gate = self.implementation == 1
        batch, features = x.shape[0], x.shape[2]
        input_masks = recurrent_masks = None
        if 0.0 < self.dropout < 1.0:
            count = self.gate_count if per_gate else 1
            keep = rng.random((count, batch, features)) >= self.dropout
            input_masks = (keep / (1.0 - self.dropout)).astype(x.dtype)
        if 0.0 < self.recurrent_dropout < 1.0:
            keep = rng.random((self.gate_count, batch, self.units)) >= self.recurrent_dropout
            recurrent_masks = (keep / (1.0 - self.recurrent_dropout)).astype(x.dtype)
        return input_masks, recurrent_masks

    # ----------------------------------------------------------------------- maths

    def forward(self, x, training=False, mask=None, initial_state=None):
        """x: (batch, timesteps, features), or [x, *initial_states] each (batch, units).
        mask: (batch, timesteps) booleans or None. Returns (out, cache)."""
        with parallel.one_blas_thread():       # see splits_batches
            return self._forward(x, training, mask, initial_state)

    def _forward(self, x, training, mask, initial_state):
        self._act = loop_function(self.activation)
        self._recurrent_act = loop_function(self.recurrent_activation)
        inputs_were_list = isinstance(x, (list, tuple))
        x, states, _ = self._split_inputs(x, initial_state)
        mask = self._check_mask(mask, x)
        if self.go_backwards:
            x = x[:, ::-1]
            mask = None if mask is None else mask[:, ::-1]
        xs = np.ascontiguousarray(x.transpose(1, 0, 2))         # (T, batch, features)
        steps_mask = None if mask is None else np.ascontiguousarray(mask.T)[:, :, None]
        input_masks, recurrent_masks = self._dropout_masks(xs.swapaxes(0, 1), training)

        xw = self._project_inputs(xs, input_masks)              # (T, batch, gates*units)
        steps, batch = xs.shape[0], xs.shape[1]
        outputs = np.empty((steps, batch, self.units), xs.dtype)
        recurrent_inputs = None                                 # h fed to recurrent_kernel
        step_caches = []
        previous_output = np.zeros((batch, self.units), xs.dtype)
        for t in range(steps):
            h, new_states, recurrent_input, step_cache = self._step(
                xw[t], states, recurrent_masks)
            if recurrent_inputs is None:
                recurrent_inputs = np.empty((steps,) + recurrent_input.shape, xs.dtype)
            recurrent_inputs[t] = recurrent_input
            step_caches.append(step_cache)
            if steps_mask is not None:
                keep = steps_mask[t]                             # (batch, 1)
                new_states = [np.where(keep, new, old) for new, old in zip(new_states, states)]
                h = np.where(keep, h, 0.0 if self.zero_output_for_mask else previous_output)
            outputs[t] = h
            previous_output = h
            states = new_states

        if self.stateful:
            self.states = [state.copy() for state in states]
        if self.return_sequences:
            out = outputs.transpose(1, 0, 2)                     # (batch, T, units)
        else:
            out = outputs[-1] if steps else previous_output
        if self.return_state:
            out = [out] + list(states)
        cache = (xs, xw.shape, steps_mask, input_masks, recurrent_masks, recurrent_inputs,
                 step_caches, inputs_were_list)
        return out, cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(output) (a list [doutput, *dstates] with return_state; None entries
        mean zero). Returns (dx, [dkernel, drecurrent_kernel, dbias])."""
        with parallel.one_blas_thread():
            return self._backward(dout, cache, need_input_gradient)

    def _backward(self, dout, cache, need_input_gradient):
        (xs, xw_shape, steps_mask, input_masks, recurrent_masks, recurrent_inputs,
         step_caches, inputs_were_list) = cache
        steps, batch = xw_shape[0], xw_shape[1]
        dtype = xs.dtype
        if self.return_state:
            doutput = dout[0]
            dstates = [np.zeros((batch, self.units), dtype) if d is None else d
                       for d in dout[1:]]
        else:
            doutput = dout
            dstates = [np.zeros((batch, self.units), dtype) for _ in range(self.state_count)]
        if doutput is None:
            doutput = np.zeros((batch, steps, self.units) if self.return_sequences
                               else (batch, self.units), dtype)
        # dL/d(output_t) from the loss, by step; without return_sequences only the last
        # step's output is used (None elsewhere: nothing to add).
        if self.return_sequences:
            doutputs = doutput.transpose(1, 0, 2)                # (T, batch, units)
        else:
            doutputs = [None] * steps
            if steps:
                doutputs[-1] = doutput

        dxw = np.empty(xw_shape, dtype)                          # dL/d(x @ kernel + bias)
        drec = None            # dL/d(h_in @ recurrent_kernel), when it differs from dxw
        doutput_carried = None    # dL/d(output_t) from later masked steps that repeated it
        for t in reversed(range(steps)):
            dh_out = _plus(doutputs[t], doutput_carried)
            if steps_mask is not None:
                keep = steps_mask[t]
                if not self.zero_output_for_mask and dh_out is not None:
                    doutput_carried = np.where(keep, 0.0, dh_out)
                dcarried = [np.where(keep, 0.0, d) for d in dstates]
                dnew = [np.where(keep, d, 0.0) for d in dstates]
                if dh_out is not None:
                    dnew[0] = dnew[0] + np.where(keep, dh_out, 0.0)
            else:
                dnew = list(dstates)
                dnew[0] = _plus(dnew[0], dh_out)
            dxw_t, drec_t, dstates = self._step_backward(dnew, step_caches[t],
                                                         recurrent_masks)
            dxw[t] = dxw_t
            if drec_t is not dxw_t:            # GRU: the two differ; LSTM, SimpleRNN: same
                if drec is None:
                    drec = np.empty(xw_shape, dtype)
                drec[t] = drec_t
            if steps_mask is not None:
                dstates = [d + c for d, c in zip(dstates, dcarried)]
        if drec is None:
            drec = dxw

        dkernel, dx = self._project_inputs_backward(xs, dxw, input_masks, need_input_gradient)
        drecurrent = self._recurrent_kernel_gradient(recurrent_inputs, drec)
        grads = [dkernel, drecurrent]
        if self.use_bias:
            grads.append(self._bias_gradient(dxw, drec))
        if dx is not None:
            dx = dx.transpose(1, 0, 2)                            # (batch, T, features)
            if self.go_backwards:
                dx = dx[:, ::-1]
            dx = np.ascontiguousarray(dx)
            if inputs_were_list:
                dx = [dx] + list(dstates)
        if not self.trainable:
            grads = []
        return dx, grads

    # One GEMM for all steps' input projections, and one each for their gradients.

    def _project_inputs(self, xs, input_masks):
        """xs: (T, batch, features) -> x @ kernel + bias: (T, batch, gates*units)."""
        kernel = self.kernel.value
        steps, batch, features = xs.shape
        if input_masks is None:
            xw = parallel.matmul(xs.reshape(-1, features), kernel)
        elif input_masks.shape[0] == 1:
            xw = parallel.matmul((xs * input_masks[0]).reshape(-1, features), kernel)
        else:
            xw = np.concatenate([parallel.matmul((xs * m).reshape(-1, features), k)
                                 for m, k in zip(input_masks, self._gate_blocks(kernel))],
                                axis=-1)
        bias = self._input_bias()
        if bias is not None:
            xw += bias
        return xw.reshape(steps, batch, -1)

    def _project_inputs_backward(self, xs, dxw, input_masks, need_input_gradient):
        """dkernel = x.T @ dxw (over all steps and samples); dx = dxw @ kernel.T."""
        kernel = self.kernel.value
        features = xs.shape[-1]
        dxw2 = dxw.reshape(-1, dxw.shape[-1])                    # (T*batch, gates*units)
        dx = None
        if input_masks is None or input_masks.shape[0] == 1:
            x_in = xs if input_masks is None else xs * input_masks[0]
            dkernel = parallel.matmul_transposed_a(x_in.reshape(-1, features), dxw2)
            if need_input_gradient:
                dx = parallel.matmul(dxw2, kernel.T).reshape(xs.shape)
                if input_masks is not None:
                    dx *= input_masks[0]
            return dkernel, dx
        dblocks = [d.reshape(-1, self.units) for d in self._gate_blocks(dxw)]
        dkernel = np.concatenate(
            [parallel.matmul_transposed_a((xs * m).reshape(-1, features), d)
             for m, d in zip(input_masks, dblocks)], axis=1)
        if need_input_gradient:
            dx = sum(parallel.matmul(d, k.T).reshape(xs.shape) * m for m, d, k in
                     zip(input_masks, dblocks, self._gate_blocks(kernel)))
        return dkernel, dx

    def _recurrent_product(self, h_in):
        """h_in: (batch, units), or (gates, batch, units) one per gate (recurrent dropout).
        Returns h_in @ recurrent_kernel: (batch, gates*units)."""
        kernel = self.recurrent_kernel.value
        if h_in.ndim == 2:
            return h_in @ kernel
        return np.concatenate([h @ k for h, k in zip(h_in, self._gate_blocks(kernel))],
                              axis=-1)

    def _recurrent_product_backward(self, drec, h_in_ndim):
        """dL/d(h_in @ recurrent_kernel) -> dL/dh_in, shaped like h_in."""
        kernel = self.recurrent_kernel.value
        if h_in_ndim == 2:
            return drec @ kernel.T
        return np.stack([d @ k.T for d, k in
                         zip(self._gate_blocks(drec), self._gate_blocks(kernel))])

    def _recurrent_kernel_gradient(self, recurrent_inputs, drec):
        """sum over steps of h_in.T @ drec: one GEMM (or one per gate with per-gate h_in)."""
        width = drec.shape[-1]
        if recurrent_inputs is None:                              # no time steps
            return np.zeros((self.units, width), drec.dtype)
        if recurrent_inputs.ndim == 3:                            # (T, batch, units)
            return parallel.matmul_transposed_a(recurrent_inputs.reshape(-1, self.units),
                                                drec.reshape(-1, width))
        blocks = self._gate_blocks(drec)                          # h_in: (T, gates, batch, units)
        return np.concatenate(
            [recurrent_inputs[:, g].reshape(-1, self.units).T @ d.reshape(-1, self.units)
             for g, d in enumerate(blocks)], axis=1)

    def _gate_blocks(self, array):
        """Splits the last axis into the gates' blocks of `units` columns."""
        return np.split(array, self.gate_count, axis=-1)

    @staticmethod
    def _masked_h(h, recurrent_masks):
        """h (batch, units) as the recurrent kernel sees it: one copy per gate under
        recurrent dropout."""
        if recurrent_masks is None:
            return h
        return h * recurrent_masks

    @staticmethod
    def _masked_h_backward(dh_in, recurrent_masks):
        if recurrent_masks is None:
            return dh_in
        return (dh_in * recurrent_masks).sum(axis=0)

    def _bias_gradient(self, dxw, drec):
        return dxw.sum(axis=(0, 1))

    # ------------------------------------------------------------------- config

    def get_config(self):
        config = super().get_config()
        config.update({
            "return_sequences": self.return_sequences,
            "return_state": self.return_state,
            "go_backwards": self.go_backwards,
            "stateful": self.stateful,
            "unroll": self.unroll,
            "zero_output_for_mask": self.zero_output_for_mask,
            "units": self.units,
            "activation": self.activation.__name__,
        })
        if self.recurrent_activation is not None:
            config["recurrent_activation"] = self.recurrent_activation.__name__
        config.update({
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "recurrent_initializer": initializers.serialize(self.recurrent_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": maybe_serialize(regularizers.serialize,
                                                  self.kernel_regularizer),
            "recurrent_regularizer": maybe_serialize(regularizers.serialize,
                                                     self.recurrent_regularizer),
            "bias_regularizer": maybe_serialize(regularizers.serialize, self.bias_regularizer),
            "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                    self.activity_regularizer),
            "kernel_constraint": maybe_serialize(constraints.serialize, self.kernel_constraint),
            "recurrent_constraint": maybe_serialize(constraints.serialize,
                                                    self.recurrent_constraint),
            "bias_constraint": maybe_serialize(constraints.serialize, self.bias_constraint),
            "dropout": self.dropout,
            "recurrent_dropout": self.recurrent_dropout,
            "seed": self.seed,
        })
        return config


def _plus(a, b):
    """a + b where None stands for zero (a new array whenever both are given)."""
    if a is None:
        return b
    if b is None:
        return a
    return a + b


def sequence_shape(input_shape):
    """The sequence's shape from a layer's input shape, or from the list of shapes of
    [sequence, *initial_states] (a call with initial_state on symbolic tensors)."""
    if isinstance(input_shape, list) and input_shape and isinstance(input_shape[0],
                                                                     (tuple, list)):
        return tuple(input_shape[0])
    return tuple(input_shape)


def with_initial_state(x, initial_state):
    """x, or [x, *initial_state] when initial states are given as an argument."""
    if initial_state is None:
        return x
    if isinstance(x, (list, tuple)):
        raise ValueError(
            "Initial states were passed both in the inputs and as `initial_state`. "
            "Pass them one way."
        )
    states = list(initial_state) if isinstance(initial_state, (list, tuple)) \
        else [initial_state]
    return [x] + states


def is_symbolic(x):
    items = x if isinstance(x, (list, tuple)) else [x]
    return any(isinstance(item, KerasTensor) for item in items)


def _rate(name, value, layer_name):
    """A dropout rate: a number, clipped into [0, 1] as Keras does."""
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)):
        raise ValueError(
            f"`{name}` must be a float between 0 and 1 (layer {layer_name!r}). "
            f"Received: {name}={value!r}"
        )
    return min(1.0, max(0.0, float(value)))
