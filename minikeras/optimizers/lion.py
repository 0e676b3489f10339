"""`Lion`: EvoLved Sign Momentum (Chen et al., 2023): steps of equal size in every entry."""

import numpy as np

from minikeras.optimizers.base_optimizer import Optimizer, check_number
from minikeras.sparse_rows import dense


class Lion(Optimizer):
    """For gradient g:

        w = w - lr sign(beta_1 m + (1 - beta_1) g)   direction from an interpolation
        m = beta_2 m + (1 - beta_2) g                then the momentum update ("momentum")

    Every entry moves by exactly lr (or 0), so Lion wants a smaller learning rate than Adam
    and a larger weight decay.

    An Embedding's SparseRows gradient is summed per row first: the rule is linear in g
    before the sign, so this is what Keras computes on TensorFlow too.

    State (per variable): m.

    Args:
        learning_rate: float, schedule or callable (default 0.001).
        beta_1: interpolation factor, in (0, 1] (default 0.9).
        beta_2: decay rate of the momentum, in [0, 1] (default 0.99).
        name: optimizer name (default "lion", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.001, beta_1=0.9, beta_2=0.99, name=None, **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = check_number("beta_1", beta_1, 0.0, 1.0, low_open=True)
        self.beta_2 = check_number("beta_2", beta_2, 0.0, 1.0)

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        self.momentums = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return list(self.momentums)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        beta_1, beta_2 = dtype(np.float32(self.beta_1)), dtype(np.float32(self.beta_2))
        m = self.momentums[self._index(variable)]
        gradient = dense(gradient)         # linear in g: Keras on TensorFlow sums the rows too
        variable.value -= lr * np.sign(m * beta_1 + gradient * (1 - beta_1))
        m[...] = m * beta_2 + gradient * (1 - beta_2)

    def get_config(self):
        config = super().get_config()
        config.update({"beta_1": self.beta_1, "beta_2": self.beta_2})
        return config
