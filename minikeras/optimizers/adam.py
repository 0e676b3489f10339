"""`Adam`: adaptive moment estimation, in Keras's "epsilon hat" form."""

import math

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer


class Adam(Optimizer):
    """At step t (counting from 1), for gradient g:

        m = m + (1 - beta_1) (g - m)                 first moment
        v = v + (1 - beta_2) (g^2 - v)               second moment
        alpha = lr sqrt(1 - beta_2^t) / (1 - beta_1^t)
        w -= alpha m / (sqrt(v) + epsilon)

    Keras folds the bias corrections into alpha, so epsilon is added to the uncorrected
    sqrt(v) ("epsilon hat" in the Adam paper). With amsgrad, v is replaced by its running max.

    Args:
        learning_rate (0.001), beta_1 (0.9), beta_2 (0.999), epsilon (1e-7), amsgrad (False).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7,
                 amsgrad=False, name="adam", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.amsgrad = bool(amsgrad)

    def build(self, variables):
        super().build(variables)
        self.momentums = [self.add_slot(v) for v in variables]
        self.velocities = [self.add_slot(v) for v in variables]
        self.velocity_hats = [self.add_slot(v) for v in variables] if self.amsgrad else []

    def state_arrays(self):
        return self.momentums + self.velocities + self.velocity_hats

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        m, v = self.momentums[i], self.velocities[i]
        t = self.iterations + 1
        alpha = learning_rate * math.sqrt(1 - self.beta_2**t) / (1 - self.beta_1**t)
        m += (gradient - m) * (1 - self.beta_1)
        v += (gradient * gradient - v) * (1 - self.beta_2)
        if self.amsgrad:
            v_hat = self.velocity_hats[i]
            np.maximum(v_hat, v, out=v_hat)
            v = v_hat
        variable.value -= (m * alpha) / (np.sqrt(v) + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2, "epsilon": self.epsilon,
                       "amsgrad": self.amsgrad})
        return config
