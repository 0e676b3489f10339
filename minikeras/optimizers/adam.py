"""`Adam`: adaptive moment estimation, in Keras's "epsilon hat" form."""

import numpy as np

from minikeras.optimizers.base_optimizer import FlatLayout, Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class Adam(Optimizer):
    """At step t (counting from 1), for gradient g:

        m = m + (1 - beta_1) (g - m)                 first moment (running mean of g)
        v = v + (1 - beta_2) (g^2 - v)               second moment (running mean of g^2)
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w = w - alpha m / (sqrt(v) + epsilon)

    The bias corrections are folded into alpha, so epsilon is added to the uncorrected
    sqrt(v) ("epsilon hat" in the Adam paper). With amsgrad, v_hat = max(v_hat, v) (the
    running maximum) replaces v in the last line.

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
            # it, so that update_step can run once on every variable packed together.
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
        m, v = self.slot(self.momentums, variable), self.slot(self.velocities, variable)
        alpha = self._alpha(learning_rate, variable.value.dtype.type)
        # Two work arrays shaped like the variable (reused: no fresh memory at every step).
        tmp, step = self.scratch(variable)
        # An Embedding's gradient comes as rows per occurrence of an id (SparseRows): as
        # Keras on TensorFlow, g^2 sums each occurrence's square, g is the summed rows.
        g_squared = squares(gradient, out=step)
        gradient = dense(gradient)
        np.subtract(gradient, m, out=tmp)           # m += (g - m) (1 - beta_1)
        tmp *= 1 - self.beta_1
        m += tmp
        np.subtract(g_squared, v, out=tmp)          # v += (g^2 - v) (1 - beta_2)
        tmp *= 1 - self.beta_2
        v += tmp
        if self.amsgrad:
            v_hat = self.slot(self.velocity_hats, variable)
            np.maximum(v_hat, v, out=v_hat)         # v_hat = max(v_hat, v), used instead of v
            v = v_hat
        np.sqrt(v, out=tmp)                         # w -= (m alpha) / (sqrt(v) + epsilon)
        tmp += self.epsilon
        np.multiply(m, alpha, out=step)
        step /= tmp
        variable.value -= step

    def _packs_variables(self):
        # Elementwise: it may run once on every variable packed end to end (FlatLayout).
        # A subclass with its own update_step gets it called variable by variable.
        return type(self).update_step is Adam.update_step

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
