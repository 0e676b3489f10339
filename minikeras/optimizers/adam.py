"""`Adam`: adaptive moment estimation, in Keras's "epsilon hat" form."""

import numpy as np

from minikeras.optimizers.base_optimizer import FlatLayout, Optimizer, check_number
from minikeras.sparse_rows import SparseRows, dense, squares


class Adam(Optimizer):
    """At step t (counting from 1), for gradient g:

        m = m + (1 - beta_1) (g - m)                 first moment (running mean of g)
        v = v + (1 - beta_2) (g^2 - v)               second moment (running mean of g^2)
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w = w - alpha m / (sqrt(v) + epsilon)

    The bias corrections are folded into alpha, so epsilon is added to the uncorrected
    sqrt(v) ("epsilon hat" in the Adam paper). With amsgrad, v_hat = max(v_hat, v) (the
    running maximum) replaces v in the last line.

    For an Embedding's SparseRows gradient (one row per occurrence of an id), g^2 is taken per
    occurrence and summed per row, as Keras does on TensorFlow: a repeated id adds
    g_1^2 + g_2^2 to v, not (g_1 + g_2)^2; everywhere else g is the rows' sum.

    State (per variable): m ("momentum") and v ("velocity"), interleaved variable by variable
    as Keras creates them, then v_hat ("velocity_hat") for every variable when amsgrad.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment, in [0, 1) (default 0.9).
        beta_2: decay rate of the second moment, in [0, 1) (default 0.999).
        epsilon: small constant keeping the division finite (default 1e-7).
        amsgrad: use the AMSGrad variant (default False).
        name: optimizer name (default "adam", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        self.amsgrad = amsgrad

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        variables = list(variables)
        self._layout = FlatLayout(variables) if FlatLayout.fits(variables) else None
        if self._layout is not None:
            # m, v (and v_hat) each in one flat array, the per-variable arrays being views of
            # it, so that _update_steps can update every variable at once.
            self._flat_m, self.momentums = self._layout.slots()
            self._flat_v, self.velocities = self._layout.slots()
            self._flat_v_hat, self.velocity_hats = (self._layout.slots() if self.amsgrad
                                                    else (None, []))
        else:
            self.momentums = [self.add_slot(v) for v in variables]
            self.velocities = [self.add_slot(v) for v in variables]
            self.velocity_hats = [self.add_slot(v) for v in variables] if self.amsgrad else []

    def state_arrays(self):
        interleaved = [a for pair in zip(self.momentums, self.velocities) for a in pair]
        return interleaved + self.velocity_hats

    def _alpha(self, learning_rate, dtype):
        """alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t) for the coming step t, in dtype."""
        t = dtype(self.iterations + 1)
        return (dtype(learning_rate) * np.sqrt(1 - dtype(np.float32(self.beta_2)) ** t)
                / (1 - dtype(np.float32(self.beta_1)) ** t))

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        m, v = self.momentums[i], self.velocities[i]
        alpha = self._alpha(learning_rate, variable.value.dtype.type)
        g_squared = squares(gradient)      # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        m += (gradient - m) * (1 - self.beta_1)
        v += (g_squared - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = self.velocity_hats[i]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable.value -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def _update_steps(self, grads, variables, learning_rate):
        """update_step's rule, run once on the flat arrays holding every variable's m and v
        (see FlatLayout) instead of once per variable: the same float operations on each
        element, in the same order, without the per-variable call overhead. Falls back to
        update_step variable by variable when the flat layout does not apply."""
        layout = self._layout
        # A subclass with its own update_step gets it called, variable by variable.
        own_rule = type(self).update_step is Adam.update_step
        # A sparse gradient (an Embedding's) takes update_step's route, variable by variable.
        sparse = any(isinstance(g, SparseRows) for g in grads)
        if layout is None or not own_rule or sparse or not layout.covers(variables):
            super()._update_steps(grads, variables, learning_rate)
            return
        alpha = self._alpha(learning_rate, layout.dtype.type)
        g, m, v = layout.gather(grads), self._flat_m, self._flat_v
        tmp = layout.scratch
        np.subtract(g, m, out=tmp)              # m += (g - m) (1 - beta_1)
        tmp *= 1 - self.beta_1
        m += tmp
        np.square(g, out=tmp)                   # v += (g^2 - v) (1 - beta_2)
        tmp -= v
        tmp *= 1 - self.beta_2
        v += tmp
        if self.amsgrad:
            np.maximum(self._flat_v_hat, v, out=self._flat_v_hat)
            v = self._flat_v_hat
        np.sqrt(v, out=tmp)                     # w -= (m alpha) / (sqrt(v) + epsilon)
        tmp += self.epsilon
        np.multiply(m, alpha, out=layout.step)
        layout.step /= tmp
        layout.subtract_from_values(layout.step_views)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
