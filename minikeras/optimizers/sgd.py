"""`SGD`: gradient descent, with optional momentum and Nesterov momentum."""

import numpy as np

from minikeras.optimizers.base_optimizer import FlatLayout, Optimizer, check_number
from minikeras.sparse_rows import dense


class SGD(Optimizer):
    """Gradient descent. For gradient g and learning rate lr:

        plain (momentum = 0):   w = w - lr g
        momentum:               v = momentum v - lr g;   w = w + v
        Nesterov:               v = momentum v - lr g;   w = w + momentum v - lr g

    Nesterov's form looks one step ahead along the velocity v.

    State (per variable, only when momentum > 0): the velocity v ("momentum").

    Args:
        learning_rate: float, schedule or callable (default 0.01).
        momentum: float in [0, 1] (default 0.0, plain gradient descent).
        nesterov: use Nesterov momentum (default False).
        name: optimizer name (default "sgd", made unique).
        **kwargs: the common arguments, see `Optimizer` (weight_decay, clipnorm,
            clipvalue, global_clipnorm, use_ema, gradient_accumulation_steps...).
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name=None,
                 **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.momentum = check_number("momentum", momentum, 0.0, 1.0)
        self.nesterov = nesterov

    def build(self, variables):
        if self.built:
            return
        super().build(variables)
        variables = list(variables)
        self._layout = FlatLayout(variables) if FlatLayout.fits(variables) else None
        self._flat_v = None
        if self.momentum == 0:
            self.momentums = []
        elif self._layout is not None:
            # v in one flat array, the per-variable arrays being views of it, so that
            # update_step can run once on every variable packed together.
            self._flat_v, self.momentums = self._layout.slots()
        else:
            self.momentums = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return list(self.momentums)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        # Two work arrays shaped like the variable (reused: no fresh memory at every step).
        g_lr, step = self.scratch(variable)
        np.multiply(dense(gradient), lr, out=g_lr)     # (an Embedding's rows summed)
        if self.momentum == 0:
            variable.value -= g_lr                  # w -= lr g
            return
        momentum = dtype(np.float32(self.momentum))
        v = self.slot(self.momentums, variable)
        v *= momentum                               # v = momentum v - lr g
        v -= g_lr
        if self.nesterov:
            np.multiply(v, momentum, out=step)      # w += momentum v - lr g
            step -= g_lr
            variable.value += step
        else:
            variable.value += v                     # w += v

    def _packs_variables(self):
        # Elementwise: it may run once on every variable packed end to end (FlatLayout).
        # A subclass's own update_step is called variable by variable.
        return type(self).update_step is SGD.update_step

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
