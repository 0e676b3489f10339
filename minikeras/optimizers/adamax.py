"""`Adamax`: Adam with the second moment replaced by an infinity norm."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import absolutes, dense


class Adamax(Optimizer):
    """At step t (counting from 1), for gradient g (Kingma and Ba, 2014, section 7.1):

        m = m + (1 - beta_1) (g - m)                 first moment ("momentum")
        u = max(beta_2 u, |g|)                       decaying infinity norm ("norm")
        w = w - lr m / ((1 - beta_1^t) (u + epsilon))

    For an Embedding's SparseRows gradient, |g| is taken per occurrence of an id and summed
    per row, |g_1| + |g_2| (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State: m and u, interleaved variable by variable as Keras creates them.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment, in [0, 1) (default 0.9).
        beta_2: decay rate of the infinity norm, in [0, 1) (default 0.999).
        epsilon: small constant keeping the division finite (default 1e-7).
        name: optimizer name (default "adamax", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, high_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0, high_open=True)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [self.add_slot(v) for v in variables]
        self.norms = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return [a for pair in zip(self.momentums, self.norms) for a in pair]

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        beta_1_power = dtype(np.float32(self.beta_1)) ** dtype(self.iterations + 1)
        m, u = self.momentums[i], self.norms[i]
        g_abs = absolutes(gradient)        # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        m += (gradient - m) * (1 - self.beta_1)
        np.maximum(self.beta_2 * u, g_abs, out=u)
        variable.value -= (lr * m) / ((1 - beta_1_power) * (u + self.epsilon))

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
