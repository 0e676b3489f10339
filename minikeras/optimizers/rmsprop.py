"""`RMSprop`: divide the gradient by a running root mean square of recent gradients."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class RMSprop(Optimizer):
    """For gradient g (Hinton's lecture 6e, as Keras implements it):

        v = rho v + (1 - rho) g^2                    running mean of g^2 ("velocity")
        plain:     d = v + epsilon
        centered:  a = rho a + (1 - rho) g           running mean of g ("average_gradient")
                   d = v - a^2 + epsilon             an estimate of the variance of g
        step = lr g / sqrt(d)
        no momentum:  w = w - step
        momentum:     u = momentum u + step;  w = w - u     ("momentum", plain not Nesterov)

    For an Embedding's SparseRows gradient, g^2 is taken per occurrence of an id and summed
    per row (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State: v for every variable, then u for every variable (momentum > 0), then a for every
    variable (centered): Keras's order.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        rho: discount factor of the running means, in [0, 1] (default 0.9).
        momentum: in [0, 1] (default 0.0, no momentum).
        epsilon: small constant keeping the division finite (default 1e-7).
        centered: normalise by the estimated variance instead of the second moment
            (default False).
        name: optimizer name (default "rm_sprop", Keras's snake case of the class, made
            unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, rho=0.9, momentum=0.0, epsilon=1e-7,
                 centered=False, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = check_number("rho", rho, 0.0, 1.0)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)
        self.centered = centered

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.velocities = [self.add_slot(v) for v in variables]
        self.momentums = [self.add_slot(v) for v in variables] if self.momentum > 0 else []
        self.average_gradients = [self.add_slot(v) for v in variables] if self.centered else []

    def state_arrays(self):
        return self.velocities + self.momentums + self.average_gradients

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        lr = variable.value.dtype.type(learning_rate)
        rho = self.rho
        g_squared = squares(gradient)      # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        v = self.velocities[i]
        v[...] = rho * v + (1 - rho) * g_squared
        if self.centered:
            a = self.average_gradients[i]
            a[...] = rho * a + (1 - rho) * gradient
            denominator = v - np.square(a) + self.epsilon
        else:
            denominator = v + self.epsilon
        step = lr * gradient / np.sqrt(denominator)
        if self.momentum > 0:
            u = self.momentums[i]
            u[...] = self.momentum * u + step
            variable.value -= u
        else:
            variable.value -= step

    def get_config(self):
        config = super().get_config()
        config.update({"rho": self.rho, "momentum": self.momentum, "epsilon": self.epsilon,
                       "centered": self.centered})
        return config
