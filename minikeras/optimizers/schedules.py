"""`keras.optimizers.schedules`: learning rates that change with the step count.

A schedule is called with the optimizer's `iterations` (0 for the first update) and returns
the learning rate of that step. As Keras does, the value is returned as a float32 scalar.
Passing one to an optimizer: `SGD(learning_rate=ExponentialDecay(0.1, 1000, 0.96))`.
"""

import math

import numpy as np


class LearningRateSchedule:
    """Base class: subclasses implement `__call__(step) -> learning rate` and
    `get_config()` (their constructor arguments)."""

    def __call__(self, step):
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override "
            "`__call__(self, step)`."
        )

    def get_config(self):
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override `get_config()` "
            "in order to be serializable."
        )

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _check_decay_steps(name, value):
    is_number = isinstance(value, (int, float, np.integer, np.floating))
    if not is_number or isinstance(value, bool) or not value > 0:
        raise ValueError(f"Argument `{name}` must be > 0. Received: {name}={value!r}")


class ExponentialDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate * decay_rate ^ (step / decay_steps)

    With staircase=True the exponent is floor(step / decay_steps): the rate drops in stairs.

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: > 0; the learning rate is multiplied by decay_rate every decay_steps.
        decay_rate: the factor.
        staircase: decay in discrete intervals (default False).
        name: "ExponentialDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="ExponentialDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return np.float32(self.initial_learning_rate * self.decay_rate ** p)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


class PiecewiseConstantDecay(LearningRateSchedule):
    """A step function: values[0] while step <= boundaries[0], values[i] while
    boundaries[i-1] < step <= boundaries[i], values[-1] once step > boundaries[-1].

    Args:
        boundaries: increasing step counts, one fewer than values.
        values: the learning rate on each interval.
        name: "PiecewiseConstant".
    """

    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                "The length of boundaries should be 1 less than the length of values. "
                f"Received: boundaries={boundaries} of length {len(boundaries)}, and "
                f"values={values} of length {len(values)}."
            )
        if any(later < earlier for earlier, later in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"Argument `boundaries` must be increasing. Received: boundaries={boundaries}"
            )
        self.boundaries = boundaries
        self.values = values
        self.name = name

    def __call__(self, step):
        # Keras compares the step with the boundaries in the step's own type (so integer
        # steps see boundaries truncated to integers).
        step = np.asarray(step)
        boundaries = np.asarray(self.boundaries).astype(step.dtype)
        # Number of boundaries strictly below the step = index of the interval.
        interval = int(np.searchsorted(boundaries, step, side="left"))
        return np.float32(self.values[interval])

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """lr(step) = (initial - end) * (1 - s / decay_steps) ^ power + end, with
    s = min(step, decay_steps): from initial_learning_rate down to end_learning_rate in
    decay_steps steps, then constant.

    With cycle=True, decay_steps is instead stretched to the first multiple of itself that is
    >= step (decay_steps itself at step 0), so the decay restarts from a lower level.

    Args:
        initial_learning_rate, decay_steps (> 0), end_learning_rate (default 0.0001),
        power (default 1.0, linear), cycle (default False), name: "PolynomialDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001,
                 power=1.0, cycle=False, name="PolynomialDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        step = float(step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            decay_steps *= 1.0 if step == 0 else math.ceil(step / decay_steps)
        else:
            step = min(step, decay_steps)
        p = step / decay_steps
        span = self.initial_learning_rate - self.end_learning_rate
        return np.float32(span * (1 - p) ** self.power + self.end_learning_rate)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "end_learning_rate": self.end_learning_rate,
                "power": self.power, "cycle": self.cycle, "name": self.name}


class InverseTimeDecay(LearningRateSchedule):
    """lr(step) = initial_learning_rate / (1 + decay_rate * step / decay_steps)

    With staircase=True, step / decay_steps is floored.

    Args:
        initial_learning_rate, decay_steps (> 0), decay_rate, staircase (default False),
        name: "InverseTimeDecay".
    """

    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False,
                 name="InverseTimeDecay"):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = name

    def __call__(self, step):
        p = float(step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return np.float32(self.initial_learning_rate / (1 + self.decay_rate * p))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "decay_rate": self.decay_rate,
                "staircase": self.staircase, "name": self.name}


def _cosine(fraction, alpha):
    """Half a cosine from 1 (fraction 0) down to alpha (fraction 1)."""
    return (1 - alpha) * 0.5 * (1 + math.cos(math.pi * fraction)) + alpha


class CosineDecay(LearningRateSchedule):
    """Cosine decay (Loshchilov and Hutter's SGDR without restarts), with optional linear
    warm-up.

    Without warm-up (warmup_target None), with s = min(step, decay_steps):

        lr(step) = initial_learning_rate * ((1 - alpha) * 0.5 (1 + cos(pi s / decay_steps))
                                            + alpha)

    With warm-up: for step < warmup_steps, a straight line from initial_learning_rate to
    warmup_target; afterwards the decay above, from warmup_target, with s = step -
    warmup_steps (capped at decay_steps).

    Args:
        initial_learning_rate: the learning rate at step 0.
        decay_steps: > 0, length of the decay.
        alpha: final learning rate as a fraction of the starting one (default 0.0).
        name: "CosineDecay".
        warmup_target: learning rate reached at the end of the warm-up, or None (no warm-up).
        warmup_steps: length of the warm-up (default 0).
    """

    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        _check_decay_steps("decay_steps", decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_target = warmup_target
        self.warmup_steps = warmup_steps

    def __call__(self, step):
        step = float(step)
        if self.warmup_target is None:
            step = min(step, self.decay_steps)
            return np.float32(self.initial_learning_rate
                            * _cosine(step / self.decay_steps, self.alpha))
        step = min(step, self.decay_steps + self.warmup_steps)
        if step < self.warmup_steps:
            rise = self.warmup_target - self.initial_learning_rate
            return np.float32(rise * step / self.warmup_steps + self.initial_learning_rate)
        fraction = (step - self.warmup_steps) / self.decay_steps
        return np.float32(self.warmup_target * _cosine(fraction, self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_steps": self.decay_steps, "alpha": self.alpha, "name": self.name,
                "warmup_target": self.warmup_target, "warmup_steps": self.warmup_steps}


class CosineDecayRestarts(LearningRateSchedule):
    """Cosine decay with warm restarts (SGDR, Loshchilov and Hutter, 2017).

    The first period lasts first_decay_steps; each next one is t_mul times longer and
    starts m_mul times lower. Within period i (from 0), at fraction f of it:

        lr = initial_learning_rate * ((1 - alpha) * m_mul^i * 0.5 (1 + cos(pi f)) + alpha)

    With x = step / first_decay_steps, the period is i = floor(x) and f = x - i when
    t_mul = 1; otherwise i = floor(log(1 - x (1 - t_mul)) / log(t_mul)) and
    f = (x - (1 - t_mul^i) / (1 - t_mul)) / t_mul^i.

    Args:
        initial_learning_rate, first_decay_steps (> 0), t_mul (default 2.0),
        m_mul (default 1.0), alpha (default 0.0), name: "SGDRDecay".
    """

    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0,
                 alpha=0.0, name="SGDRDecay"):
        _check_decay_steps("first_decay_steps", first_decay_steps)
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def __call__(self, step):
        x = float(step) / self.first_decay_steps
        if self.t_mul == 1.0:
            period = math.floor(x)
            fraction = x - period
        else:
            period = math.floor(math.log(1 - x * (1 - self.t_mul)) / math.log(self.t_mul))
            elapsed = (1 - self.t_mul**period) / (1 - self.t_mul)
            fraction = (x - elapsed) / self.t_mul**period
        cosine = self.m_mul**period * 0.5 * (1 + math.cos(math.pi * fraction))
        return np.float32(self.initial_learning_rate
                        * ((1 - self.alpha) * cosine + self.alpha))

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "first_decay_steps": self.first_decay_steps, "t_mul": self.t_mul,
                "m_mul": self.m_mul, "alpha": self.alpha, "name": self.name}


_SCHEDULES = {
    cls.__name__: cls
    for cls in (ExponentialDecay, PiecewiseConstantDecay, PolynomialDecay, InverseTimeDecay,
                CosineDecay, CosineDecayRestarts)
}


def serialize(learning_rate_schedule):
    """A schedule as Keras writes it in a config."""
    return {"module": "keras.optimizers.schedules",
            "class_name": type(learning_rate_schedule).__name__,
            "config": learning_rate_schedule.get_config(), "registered_name": None}


def deserialize(config, custom_objects=None):
    """The schedule described by `serialize`'s dict (class names are looked up among the
    built-in schedules and `custom_objects`, nothing else)."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "Expected a dict with a 'class_name' key describing a learning rate schedule. "
            f"Received: config={config!r}"
        )
    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or _SCHEDULES.get(class_name)
    if cls is None:
        raise ValueError(
            f"Unknown learning rate schedule: {class_name!r}. Valid names: "
            f"{sorted(_SCHEDULES)}"
        )
    return cls.from_config(dict(config.get("config", {})))


__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "serialize",
]
