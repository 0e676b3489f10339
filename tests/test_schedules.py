"""Learning-rate schedules at several steps against their closed forms, configs and errors."""

import math

import numpy as np
import pytest

from minikeras.optimizers import schedules

STEPS = [0, 1, 5, 9, 10, 11, 25, 100]


def close(schedule, expected, steps=STEPS):
    got = [float(schedule(s)) for s in steps]
    np.testing.assert_allclose(got, [expected(s) for s in steps], rtol=1e-6)


def test_exponential_decay_smooth_and_staircase():
    close(schedules.ExponentialDecay(0.1, 10, 0.5), lambda s: 0.1 * 0.5 ** (s / 10))
    close(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True),
          lambda s: 0.1 * 0.5 ** (s // 10))
    assert float(schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True)(19)) == \
        pytest.approx(0.05)


def test_piecewise_constant_boundaries_belong_to_the_interval_below():
    schedule = schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1])
    got = [float(schedule(s)) for s in [0, 4, 5, 6, 10, 11, 1000]]
    assert got == pytest.approx([1.0, 1.0, 1.0, 0.5, 0.5, 0.1, 0.1])


def test_polynomial_decay_linear_power_and_cycle():
    close(schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01),
          lambda s: (0.1 - 0.01) * (1 - min(s, 10) / 10) + 0.01)
    close(schedules.PolynomialDecay(0.1, 10, end_learning_rate=0.01, power=2.0),
          lambda s: (0.1 - 0.01) * (1 - min(s, 10) / 10) ** 2 + 0.01)

    def cycled(s):
        period = 10 * (1 if s == 0 else math.ceil(s / 10))
        return (0.1 - 0.01) * (1 - s / period) ** 0.5 + 0.01

    close(schedules.PolynomialDecay(0.1, 10, 0.01, power=0.5, cycle=True), cycled)
    # Default end is 0.0001.
    assert float(schedules.PolynomialDecay(0.1, 10)(50)) == pytest.approx(1e-4)


def test_inverse_time_decay_smooth_and_staircase():
    close(schedules.InverseTimeDecay(0.1, 10, 0.5), lambda s: 0.1 / (1 + 0.5 * s / 10))
    close(schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
          lambda s: 0.1 / (1 + 0.5 * (s // 10)))


def test_cosine_decay_reaches_alpha_and_stays():
    def cosine(s):
        s = min(s, 20)
        return 0.1 * ((1 - 0.2) * 0.5 * (1 + math.cos(math.pi * s / 20)) + 0.2)

    close(schedules.CosineDecay(0.1, 20, alpha=0.2), cosine)
    assert float(schedules.CosineDecay(0.1, 20, alpha=0.2)(10)) == pytest.approx(0.06)
    assert float(schedules.CosineDecay(0.1, 20)(1000)) == 0.0


def test_cosine_decay_with_linear_warmup():
    def warm(s):
        if s < 10:
            return 0.01 + (0.1 - 0.01) * s / 10
        s = min(s, 30) - 10
        return 0.1 * ((1 - 0.1) * 0.5 * (1 + math.cos(math.pi * s / 20)) + 0.1)

    schedule = schedules.CosineDecay(0.01, 20, alpha=0.1, warmup_target=0.1, warmup_steps=10)
    close(schedule, warm, steps=[0, 1, 5, 9, 10, 11, 20, 29, 30, 31, 100])
    assert float(schedule(10)) == pytest.approx(0.1)


def test_cosine_decay_restarts_geometric_periods():
    # Periods of 4, 8, 16 steps (t_mul=2), each restart 0.5 times lower (m_mul).
    def sgdr(s):
        start, length, i = 0, 4, 0
        while s >= start + length:
            start, length, i = start + length, length * 2, i + 1
        f = (s - start) / length
        return 0.1 * ((1 - 0.1) * 0.5**i * 0.5 * (1 + math.cos(math.pi * f)) + 0.1)

    schedule = schedules.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.5, alpha=0.1)
    close(schedule, sgdr, steps=list(range(0, 30)))
    assert float(schedule(4)) == pytest.approx(0.1 * (0.9 * 0.5 + 0.1))  # restart, lower


def test_cosine_decay_restarts_equal_periods():
    def sgdr(s):
        i, f = divmod(s, 5)
        return 0.2 * 0.8**i * 0.5 * (1 + math.cos(math.pi * f / 5))

    close(schedules.CosineDecayRestarts(0.2, 5, t_mul=1.0, m_mul=0.8), sgdr,
          steps=list(range(0, 23)))


def test_values_are_float32_scalars_like_keras():
    for schedule in (schedules.ExponentialDecay(0.1, 10, 0.5),
                     schedules.PiecewiseConstantDecay([1], [0.1, 0.2]),
                     schedules.CosineDecay(0.1, 10)):
        assert np.asarray(schedule(np.int64(3))).dtype == np.float32


ALL = [
    schedules.ExponentialDecay(0.1, 10, 0.5, staircase=True, name="e"),
    schedules.PiecewiseConstantDecay([5, 10], [1.0, 0.5, 0.1]),
    schedules.PolynomialDecay(0.1, 10, 0.01, power=2.0, cycle=True),
    schedules.InverseTimeDecay(0.1, 10, 0.5, staircase=True),
    schedules.CosineDecay(0.01, 20, alpha=0.1, warmup_target=0.1, warmup_steps=10),
    schedules.CosineDecayRestarts(0.1, 4, t_mul=3.0, m_mul=0.5, alpha=0.1),
]


@pytest.mark.parametrize("schedule", ALL, ids=lambda s: type(s).__name__)
def test_serialize_round_trip(schedule):
    config = schedules.serialize(schedule)
    assert config["module"] == "keras.optimizers.schedules"
    assert config["class_name"] == type(schedule).__name__
    rebuilt = schedules.deserialize(config)
    assert type(rebuilt) is type(schedule)
    assert rebuilt.get_config() == schedule.get_config()
    assert [float(rebuilt(s)) for s in STEPS] == [float(schedule(s)) for s in STEPS]


def test_keras_config_keys():
    assert set(schedules.CosineDecay(0.1, 10).get_config()) == {
        "initial_learning_rate", "decay_steps", "alpha", "name", "warmup_target",
        "warmup_steps"}
    assert set(schedules.CosineDecayRestarts(0.1, 10).get_config()) == {
        "initial_learning_rate", "first_decay_steps", "t_mul", "m_mul", "alpha", "name"}
    assert schedules.CosineDecayRestarts(0.1, 10).get_config()["name"] == "SGDRDecay"
    assert schedules.PiecewiseConstantDecay([1], [1.0, 0.5]).name == "PiecewiseConstant"


def test_custom_schedule_subclass_and_custom_objects():
    class Halving(schedules.LearningRateSchedule):
        def __init__(self, rate):
            self.rate = rate

        def __call__(self, step):
            return self.rate / 2**step

        def get_config(self):
            return {"rate": self.rate}

    config = schedules.serialize(Halving(1.0))
    rebuilt = schedules.deserialize(config, custom_objects={"Halving": Halving})
    assert rebuilt(3) == 0.125
    with pytest.raises(ValueError, match=r"Unknown learning rate schedule: 'Halving'"):
        schedules.deserialize(config)


@pytest.mark.parametrize("make, match", [
    (lambda: schedules.ExponentialDecay(0.1, 0, 0.5), "decay_steps=0"),
    (lambda: schedules.InverseTimeDecay(0.1, -1, 0.5), "decay_steps=-1"),
    (lambda: schedules.PolynomialDecay(0.1, 0), "decay_steps=0"),
    (lambda: schedules.CosineDecay(0.1, 0), "decay_steps=0"),
    (lambda: schedules.CosineDecayRestarts(0.1, 0), "first_decay_steps=0"),
    (lambda: schedules.PiecewiseConstantDecay([1, 2], [0.1, 0.2]), "1 less than"),
    (lambda: schedules.PiecewiseConstantDecay([5, 2], [0.1, 0.2, 0.3]), "increasing"),
    (lambda: schedules.deserialize({"config": {}}), "class_name"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_base_class_must_be_overridden():
    with pytest.raises(NotImplementedError, match="__call__"):
        schedules.LearningRateSchedule()(0)
    with pytest.raises(NotImplementedError, match="get_config"):
        schedules.LearningRateSchedule().get_config()
