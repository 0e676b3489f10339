"""`Adadelta`: Adagrad's idea with running means instead of sums, and units-matched steps."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, per_occurrence, squares


class Adadelta(Optimizer):
    """For gradient g (Zeiler, 2012), with RMS(x) = sqrt(x + epsilon):

        E[g^2]  = rho E[g^2] + (1 - rho) g^2                  ("accumulated_grad")
        dw      = -RMS(E[dw^2]) / RMS(E[g^2]) * g             the step before the learning rate
        E[dw^2] = rho E[dw^2] + (1 - rho) dw^2                ("accumulated_delta_var")
        w = w + lr dw

    The paper has no learning rate (lr = 1.0); Keras's default is 0.001.

    For an Embedding's SparseRows gradient (one row per occurrence of an id), as Keras on
    TensorFlow: E[g^2] adds each occurrence's square, dw is computed per occurrence, E[dw^2]
    adds each occurrence's dw^2, and w moves by the occurrences' dw summed per row.

    State: E[g^2] and E[dw^2], interleaved variable by variable as Keras creates them.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: decay rate of the running means, in [0, 1] (default 0.95).
        epsilon: small constant keeping the division finite (default 1e-7).
        name: optimizer name (default "adadelta", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, rho=0.95, epsilon=1e-7, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = check_number("rho", rho, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.accumulated_grads = [self.add_slot(v) for v in variables]
        self.accumulated_delta_vars = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return [a for pair in zip(self.accumulated_grads, self.accumulated_delta_vars)
                for a in pair]

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        lr = variable.value.dtype.type(learning_rate)
        rho = self.rho
        mean_g2, mean_dw2 = self.accumulated_grads[i], self.accumulated_delta_vars[i]
        mean_g2[...] = rho * mean_g2 + (1 - rho) * squares(gradient)
        # dw per occurrence for SparseRows (its squares summed per row below), else dense.
        dw = per_occurrence(lambda g, dw2, g2: -(np.sqrt(dw2 + self.epsilon) * g)
                            / np.sqrt(g2 + self.epsilon), gradient, mean_dw2, mean_g2)
        mean_dw2[...] = rho * mean_dw2 + (1 - rho) * squares(dw)
        variable.value += lr * dense(dw)

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "epsilon": self.epsilon})
        return config
