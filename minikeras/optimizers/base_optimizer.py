"""`Optimizer`: what every optimizer shares.

One training step, in the order Keras applies it:

    1. clip the gradients (clipnorm, else global_clipnorm, else clipvalue);
    2. weight decay: w -= w * weight_decay * learning_rate;
    3. the optimizer's own rule, `update_step(gradient, variable, learning_rate)`;
    4. each variable's constraint, if any;
    5. iterations += 1.

The learning rate may be a float or a schedule, a function of `iterations`.
"""

import numpy as np

from minikeras.optimizers import schedules
from minikeras.utils.naming import to_snake_case


class Optimizer:
    """Base class of optimizers.

    Args:
        learning_rate: a float or a `LearningRateSchedule`.
        weight_decay: decoupled weight decay factor, or None.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient entry to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        name: optimizer name.
    """

    def __init__(self, learning_rate=0.001, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs:
            raise TypeError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if use_ema or gradient_accumulation_steps or loss_scale_factor:
            raise NotImplementedError(
                "minikeras optimizers do not support use_ema, loss_scale_factor or "
                "gradient_accumulation_steps."
            )
        if sum(arg is not None for arg in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        for arg_name, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm),
                                ("weight_decay", weight_decay)):
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ValueError(
                    f"`{arg_name}` must be a non-negative number. Received: "
                    f"{arg_name}={value!r}"
                )
        self.name = name or to_snake_case(type(self).__name__)
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self._learning_rate = _check_learning_rate(learning_rate)
        self.iterations = 0
        self.built = False
        self._variables = []

    # ------------------------------------------------------------ learning rate

    @property
    def learning_rate(self):
        """The learning rate for the coming step (a schedule is evaluated at `iterations`)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return float(self._learning_rate(self.iterations))
        return self._learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        self._learning_rate = _check_learning_rate(value)

    # -------------------------------------------------------------------- state

    def build(self, variables):
        """Creates the per-variable state (moments and the like). Subclasses extend it."""
        self._variables = list(variables)
        self.built = True

    def add_slot(self, variable):
        """A zero array shaped like `variable`, for the optimizer's per-variable state."""
        return np.zeros(variable.shape, dtype=variable.dtype)

    def _index(self, variable):
        for i, known in enumerate(self._variables):
            if known is variable:
                return i
        raise KeyError(f"The optimizer was not built with variable {variable.path!r}.")

    @property
    def variables(self):
        """The optimizer's state as arrays: iterations, learning rate, then per-variable
        state (subclasses list theirs in `state_arrays`), in Keras's order."""
        return [np.array(self.iterations), np.array(self.learning_rate, dtype="float32")] + [
            a for a in self.state_arrays()]

    def state_arrays(self):
        return []

    # -------------------------------------------------------------------- steps

    def apply_gradients(self, grads_and_vars):
        """Applies one update from (gradient, variable) pairs."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, variables=None):
        """Applies one update. grads[i]: array shaped like variables[i]."""
        if variables is None:
            variables = self._variables
        if not self.built:
            self.build(variables)
        pairs = [(g, v) for g, v in zip(grads, variables) if g is not None]
        grads = self._clip_gradients([g for g, _ in pairs])
        variables = [v for _, v in pairs]
        learning_rate = self.learning_rate
        if self.weight_decay:
            for variable in variables:
                variable.value -= variable.value * (self.weight_decay * learning_rate)
        for grad, variable in zip(grads, variables):
            self.update_step(grad.astype(variable.value.dtype, copy=False), variable,
                             learning_rate)
        for variable in variables:
            if variable.constraint is not None:
                variable.value[...] = variable.constraint(variable.value)
        self.iterations += 1

    def update_step(self, gradient, variable, learning_rate):
        """Updates `variable.value` in place from `gradient` (same shape)."""
        raise NotImplementedError

    def _clip_gradients(self, grads):
        if self.clipnorm:
            return [_clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm:
            global_norm = np.sqrt(sum(np.sum(np.square(g, dtype=np.float64)) for g in grads))
            scale = self.global_clipnorm / max(global_norm, self.global_clipnorm)
            return [g * g.dtype.type(scale) for g in grads]
        if self.clipvalue:
            return [np.clip(g, -self.clipvalue, self.clipvalue) for g in grads]
        return grads

    # ------------------------------------------------------------ configuration

    def get_config(self):
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"])
        return cls(**config)


def _clip_by_norm(g, clipnorm):
    """Scales g down so its L2 norm is at most clipnorm."""
    norm = np.sqrt(np.sum(g * g))
    if norm <= clipnorm:
        return g
    return g * g.dtype.type(clipnorm / norm)


def _check_learning_rate(value):
    if isinstance(value, schedules.LearningRateSchedule):
        return value
    if isinstance(value, bool) or not isinstance(value, (int, float, np.floating)) or value < 0:
        raise ValueError(
            "Argument `learning_rate` should be a non-negative float or a "
            f"LearningRateSchedule. Received: learning_rate={value!r}"
        )
    return float(value)
