"""`keras.optimizers.schedules`: learning rates that change with the step count."""


class LearningRateSchedule:
    """Base class: `schedule(step) -> learning rate`."""

    def __call__(self, step):
        raise NotImplementedError

    def get_config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


_SCHEDULES = {}


def serialize(schedule):
    return {"class_name": type(schedule).__name__, "config": schedule.get_config()}


def deserialize(config):
    cls = _SCHEDULES.get(config["class_name"])
    if cls is None:
        raise ValueError(f"Unknown learning rate schedule: {config['class_name']!r}")
    return cls.from_config(config.get("config", {}))
