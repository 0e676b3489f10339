"""`Lamb`: Adam steps rescaled layer by layer to the size of the weights (You et al., 2019)."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class Lamb(Optimizer):
    """At step t (counting from 1), for gradient g of a variable w:

        m = m + (1 - beta_1) (g - m)                 first moment ("momentum")
        v = v + (1 - beta_2) (g^2 - v)               second moment ("velocity")
        r = (m / (1 - beta_1^t)) / (sqrt(v / (1 - beta_2^t)) + epsilon)    the Adam step
        ratio = ||w|| / ||r||   (1 when either norm is 0)                    trust ratio
        w = w - ratio lr r

    The norms are over the whole variable, so every layer moves by about lr times its size.

    For an Embedding's SparseRows gradient, g^2 is taken per occurrence of an id and summed
    per row (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State: m and v, interleaved variable by variable as Keras creates them.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: decay rate of the first moment, in [0, 1) (default 0.9).
        beta_2: decay rate of the second moment, in [0, 1) (default 0.999).
        epsilon: small constant keeping the division finite (default 1e-7).
        name: optimizer name (default "lamb", made unique).
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

    def state_arrays(self):
        return [a for pair in zip(self.momentums, self.velocities) for a in pair]

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        t = dtype(self.iterations + 1)
        beta_1_power = dtype(np.float32(self.beta_1)) ** t
        beta_2_power = dtype(np.float32(self.beta_2)) ** t
        m, v = self.momentums[i], self.velocities[i]
        g_squared = squares(gradient)      # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        m += (gradient - m) * (1 - self.beta_1)
        v += (g_squared - v) * (1 - self.beta_2)
        step = (m / (1 - beta_1_power)) / (np.sqrt(v / (1 - beta_2_power)) + self.epsilon)
        w_norm = np.sqrt(np.sum(np.square(variable.value)))
        step_norm = np.sqrt(np.sum(np.square(step)))
        ratio = w_norm / step_norm if w_norm > 0 and step_norm > 0 else dtype(1)
        variable.value -= ratio * lr * step

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon})
        return config
