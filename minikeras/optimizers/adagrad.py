"""`Adagrad`: per-parameter learning rates that shrink as squared gradients accumulate."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense, squares


class Adagrad(Optimizer):
    """For gradient g (Duchi et al., 2011):

        G = G + g^2                                  sum of all squared gradients so far
        w = w - lr g / sqrt(G + epsilon)

    G starts at `initial_accumulator_value`, not 0, so the first steps are not huge.

    For an Embedding's SparseRows gradient, g^2 is taken per occurrence of an id and summed
    per row (as Keras on TensorFlow); elsewhere g is the rows' sum.

    State (per variable): G ("accumulator").

    Args:
        learning_rate: float, schedule or callable (default 0.001; the paper's form uses 1.0).
        initial_accumulator_value: starting value of G, >= 0 (default 0.1).
        epsilon: small constant keeping the division finite (default 1e-7).
        name: optimizer name (default "adagrad", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, initial_accumulator_value=0.1, epsilon=1e-7,
                 name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.initial_accumulator_value = check_number(
            "initial_accumulator_value", initial_accumulator_value, 0.0)
        self.epsilon = check_number("epsilon", epsilon, 0.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.accumulators = [self.add_slot(v, self.initial_accumulator_value) for v in variables]

    def state_arrays(self):
        return list(self.accumulators)

    def update_step(self, gradient, variable, learning_rate):
        lr = variable.value.dtype.type(learning_rate)
        accumulator = self.accumulators[self._index(variable)]
        accumulator += squares(gradient)   # per occurrence for SparseRows, then summed per row
        gradient = dense(gradient)
        variable.value -= lr * gradient / np.sqrt(accumulator + self.epsilon)

    def get_config(self):
        config = super().get_config()
        config.update({"initial_accumulator_value": self.initial_accumulator_value,
                       "epsilon": self.epsilon})
        return config
