"""`Ftrl`: Follow The Regularized Leader (McMahan et al., 2013), for shallow sparse models."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class Ftrl(Optimizer):
    """For gradient g, with p = -learning_rate_power (1/2 by default), l1, l2 the
    regularization strengths and s the shrinkage strength:

        l2' = l2 + beta / (2 lr)
        n_new = n + g^2                                    ("accumulator")
        z = z + (g + 2 s w) - (n_new^p - n^p) / lr * w     ("linear")
        w = (clip(z, -l1, l1) - z) / (n_new^p / lr + 2 l2')
        n = n_new

    so w is 0 while |z| <= l1 (sparsity) and otherwise -(z - sign(z) l1) / (...).

    For an Embedding's SparseRows gradient, g^2 (in n) is taken per occurrence of an id and
    summed per row (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State: n and z, interleaved variable by variable as Keras creates them.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        learning_rate_power: <= 0 (default -0.5); 0 gives a fixed learning rate.
        initial_accumulator_value: starting value of n, >= 0 (default 0.1).
        l1_regularization_strength: >= 0 (default 0.0).
        l2_regularization_strength: >= 0 (default 0.0).
        l2_shrinkage_regularization_strength: >= 0 (default 0.0), an L2 penalty added to the
            gradient (magnitude penalty), unlike the stabilising l2 above.
        beta: the paper's beta (default 0.0).
        name: optimizer name (default "ftrl", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, learning_rate_power=-0.5,
                 initial_accumulator_value=0.1, l1_regularization_strength=0.0,
                 l2_regularization_strength=0.0, l2_shrinkage_regularization_strength=0.0,
                 beta=0.0, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.learning_rate_power = check_number("learning_rate_power", learning_rate_power,
                                                high=0.0)
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.l1_regularization_strength = check_number(
            "l1_regularization_strength", l1_regularization_strength, 0.0)
        self.l2_regularization_strength = check_number(
            "l2_regularization_strength", l2_regularization_strength, 0.0)
        self.l2_shrinkage_regularization_strength = check_number(
            "l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength, 0.0)
        self.beta = check_number("beta", beta)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.accumulators = [self.add_slot(v, self.initial_accumulator_value) for v in variables]
        self.linears = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return [a for pair in zip(self.accumulators, self.linears) for a in pair]

    def update_step(self, gradient, variable, learning_rate):
        i = self._index(variable)
        lr = variable.value.dtype.type(learning_rate)
        n, z = self.accumulators[i], self.linears[i]
        w = variable.value
        power = -self.learning_rate_power
        l1 = self.l1_regularization_strength
        l2 = self.l2_regularization_strength + self.beta / (2.0 * lr)
        n_new = n + squares(gradient)      # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        shrunk_gradient = gradient + 2 * self.l2_shrinkage_regularization_strength * w
        z += shrunk_gradient - (np.power(n_new, power) - np.power(n, power)) / lr * w
        quadratic = np.power(n_new, power) / lr + 2 * l2
        w[...] = (np.clip(z, -l1, l1) - z) / quadratic
        n[...] = n_new

    def get_config(self):
        config = super().get_config()
        config.update({
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        })
        return config
