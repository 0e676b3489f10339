"""`SGD`: gradient descent, with optional momentum and Nesterov momentum."""

import numpy as np

from minikeras.optimizers.base_optimizer import FlatLayout, Optimizer, check_number
from minikeras.sparse_rows import SparseRows, dense


class SGD(Optimizer):
    """Gradient descent. For gradient g and learning rate lr:

        plain (momentum = 0):   w = w - lr g
        momentum:               v = momentum v - lr g;   w = w + v
        Nesterov:               v = momentum v - lr g;   w = w + momentum v - lr g

    Nesterov's form looks one step ahead along the velocity v.

    An Embedding's SparseRows gradient is summed per row first (dense): the rule is linear in
    g, so this is what Keras computes on TensorFlow too.

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
            # v in one flat array, the per-variable arrays being views of it (_update_steps).
            self._flat_v, self.momentums = self._layout.slots()
        else:
            self.momentums = [self.add_slot(v) for v in variables]

    def state_arrays(self):
        return list(self.momentums)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.value.dtype.type
        lr = dtype(learning_rate)
        gradient = dense(gradient)
        if self.momentum == 0:
            variable.value -= gradient * lr
            return
        momentum = dtype(np.float32(self.momentum))
        v = self.momentums[self._index(variable)]
        v[...] = v * momentum - gradient * lr
        if self.nesterov:
            variable.value += v * momentum - gradient * lr
        else:
            variable.value += v

    def _update_steps(self, grads, variables, learning_rate):
        """update_step's rule, run once on flat arrays holding every variable (see
        FlatLayout): the same float operations on each element, without the per-variable
        call overhead. Falls back to update_step when the flat layout does not apply."""
        layout = self._layout
        # A subclass with its own update_step gets it called, variable by variable.
        own_rule = type(self).update_step is SGD.update_step
        # A sparse gradient (an Embedding's) takes update_step's route, variable by variable.
        sparse = any(isinstance(g, SparseRows) for g in grads)
        if layout is None or not own_rule or sparse or not layout.covers(variables):
            super()._update_steps(grads, variables, learning_rate)
            return
        dtype = layout.dtype.type
        lr = dtype(learning_rate)
        g = layout.gather(grads)
        if self.momentum == 0:
            np.multiply(g, lr, out=layout.step)     # w -= g lr
            layout.subtract_from_values(layout.step_views)
            return
        momentum = dtype(np.float32(self.momentum))
        g_lr = np.multiply(g, lr, out=layout.scratch)
        v = self._flat_v                            # v = v momentum - g lr
        v *= momentum
        v -= g_lr
        if self.nesterov:
            np.multiply(v, momentum, out=layout.step)   # w += v momentum - g lr
            layout.step -= g_lr
            layout.add_to_values(layout.step_views)
        else:
            layout.add_to_values(self.momentums)        # w += v

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
