"""`Nadam`: Adam with Nesterov momentum, in Keras's momentum-schedule form (Dozat, 2015)."""

import numpy as np

from minikeras import backend
from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class Nadam(Optimizer):
    """At step t (counting from 1), for gradient g. The momentum factor follows a schedule,

        u_t = beta_1 (1 - 0.5 * 0.96^t)
        P_t = u_1 u_2 ... u_t                        ("u_product", shared by all variables)

    and then, per variable:

        m = m + (1 - beta_1) (g - m)                 first moment ("momentum")
        v = v + (1 - beta_2) (g^2 - v)               second moment ("velocity")
        m_hat = u_{t+1} m / (1 - P_t u_{t+1}) + (1 - u_t) g / (1 - P_t)
        v_hat = v / (1 - beta_2^t)
        w = w - lr m_hat / (sqrt(v_hat) + epsilon)

    m_hat mixes the next step's momentum with the current gradient: the Nesterov look-ahead.
    P_t is updated once per step, before any variable.

    For an Embedding's SparseRows gradient, g^2 is taken per occurrence of an id and summed
    per row (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State: m and v interleaved variable by variable as Keras creates them, then P (a scalar
    of the first variable's dtype, starting at 1).

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: base momentum, in [0, 1) (default 0.9).
        beta_2: decay rate of the second moment, in [0, 1) (default 0.999).
        epsilon: small constant keeping the division finite (default 1e-7).
        name: optimizer name (default "nadam", made unique).
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
        self.velocities = [self.add_slot(v) for v in variables]
        dtype = variables[0].value.dtype if variables else backend.floatx()
        self.u_product = np.ones((), dtype=dtype)

    def state_arrays(self):
        interleaved = [a for pair in zip(self.momentums, self.velocities) for a in pair]
        return interleaved + [self.u_product]

    def _momentum_factor(self, step, dtype):
        """u_step = beta_1 (1 - 0.5 * 0.96^step), in `dtype`."""
        return dtype(np.float32(self.beta_1)) * (1 - dtype(0.5) * dtype(0.96) ** dtype(step))

    def _update_steps(self, grads, variables, learning_rate):
        dtype = self.u_product.dtype.type
        t = dtype(self.iterations + 1)
        self.u_product[...] = self.u_product * self.beta_1 * (1 - 0.5 * dtype(0.96) ** t)
        super()._update_steps(grads, variables, learning_rate)

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        t = self.iterations + 1
        u_t = self._momentum_factor(t, dtype)
        u_next = self._momentum_factor(t + 1, dtype)
        product_t = dtype(self.u_product)
        product_next = product_t * u_next
        # Keras casts the betas to the variable's dtype before taking 1 - beta here (unlike
        # Adam), which changes the last bit in float32.
        beta_1, beta_2 = dtype(np.float32(self.beta_1)), dtype(np.float32(self.beta_2))
        m, v = self.momentums[i], self.velocities[i]
        g_squared = squares(gradient)      # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        m += (gradient - m) * (1 - beta_1)
        v += (g_squared - v) * (1 - beta_2)
        m_hat = u_next * m / (1 - product_next) + (1 - u_t) * gradient / (1 - product_t)
        v_hat = v / (1 - beta_2 ** dtype(t))
        variable.value -= (m_hat * lr) / (np.sqrt(v_hat) + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
