"""`SGD`: gradient descent, with optional momentum and Nesterov momentum."""

from minikeras.optimizers.base_optimizer import Optimizer


class SGD(Optimizer):
    """Plain:     w -= lr * g
    Momentum:  m = momentum * m - lr * g;  w += m
    Nesterov:  m = momentum * m - lr * g;  w += momentum * m - lr * g

    Args:
        learning_rate: float or schedule (default 0.01).
        momentum: float in [0, 1].
        nesterov: use Nesterov momentum.
    """

    def __init__(self, learning_rate=0.01, momentum=0.0, nesterov=False, name="SGD", **kwargs):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not isinstance(momentum, (int, float)) or not 0 <= momentum <= 1:
            raise ValueError(
                f"`momentum` must be a float between [0, 1]. Received: momentum={momentum!r}"
            )
        self.momentum = float(momentum)
        self.nesterov = bool(nesterov)

    def build(self, variables):
        super().build(variables)
        self.momentums = [self.add_slot(v) for v in variables] if self.momentum else []

    def state_arrays(self):
        return list(self.momentums)

    def update_step(self, gradient, variable, learning_rate):
        if not self.momentum:
            variable.value -= learning_rate * gradient
            return
        m = self.momentums[self._index(variable)]
        m *= self.momentum
        m -= learning_rate * gradient
        if self.nesterov:
            variable.value += self.momentum * m - learning_rate * gradient
        else:
            variable.value += m

    def get_config(self):
        config = super().get_config()
        config.update({"momentum": self.momentum, "nesterov": self.nesterov})
        return config
