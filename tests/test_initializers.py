"""Initialisers: shapes, dtypes, the statistics Keras's formulas promise, seeding, names."""

import math

import numpy as np
import pytest

import minikeras as keras
from minikeras import initializers

SHAPE = (400, 300)          # fan_in 400, fan_out 300: 120,000 draws, statistics to ~1%


@pytest.mark.parametrize("name, std", [
    ("glorot_uniform", math.sqrt(2 / 700)),
    ("glorot_normal", math.sqrt(2 / 700)),
    ("he_normal", math.sqrt(2 / 400)),
    ("he_uniform", math.sqrt(2 / 400)),
    ("lecun_normal", math.sqrt(1 / 400)),
    ("lecun_uniform", math.sqrt(1 / 400)),
    ("random_normal", 0.05),
    ("random_uniform", 0.1 / math.sqrt(12)),
])
def test_variance_matches_the_formula(name, std):
    values = initializers.get(name)(SHAPE, dtype="float32")
    assert values.shape == SHAPE and values.dtype == np.float32
    assert abs(values.mean()) < 0.02 * std        # ~7 standard errors of the mean
    assert values.std() == pytest.approx(std, rel=0.02)


@pytest.mark.parametrize("name, limit", [
    ("glorot_uniform", math.sqrt(6 / 700)), ("he_uniform", math.sqrt(6 / 400)),
    ("lecun_uniform", math.sqrt(3 / 400)), ("random_uniform", 0.05),
])
def test_uniform_limits(name, limit):
    values = initializers.get(name)(SHAPE)
    assert values.max() <= limit and values.min() >= -limit
    assert values.max() > 0.99 * limit


@pytest.mark.parametrize("name", ["glorot_normal", "he_normal", "lecun_normal",
                                  "truncated_normal"])
def test_truncated_normals_stay_within_two_standard_deviations(name):
    init = initializers.get(name)
    values = init(SHAPE)
    stddev = 0.05 if name == "truncated_normal" else values.std() / 0.8796
    assert np.abs(values).max() <= 2.0 * stddev * 1.02


def test_conv_kernel_fans_include_the_receptive_field():
    values = initializers.HeNormal(seed=1)((3, 3, 16, 32))
    assert values.std() == pytest.approx(math.sqrt(2 / (3 * 3 * 16)), rel=0.03)


def test_orthogonal_and_identity():
    q = initializers.Orthogonal(gain=2.0, seed=0)((30, 20))
    np.testing.assert_allclose(q.T @ q, 4.0 * np.eye(20), atol=1e-5)
    wide = initializers.Orthogonal(seed=0)((5, 12))
    np.testing.assert_allclose(wide @ wide.T, np.eye(5), atol=1e-5)
    np.testing.assert_array_equal(initializers.Identity(gain=3.0)((2, 3)),
                                  [[3, 0, 0], [0, 3, 0]])


def test_constants():
    np.testing.assert_array_equal(initializers.get("ones")((2, 2)), np.ones((2, 2)))
    np.testing.assert_array_equal(initializers.get("zeros")((3,)), np.zeros(3))
    np.testing.assert_array_equal(initializers.Constant(0.5)((2,)), [0.5, 0.5])


def test_seeded_initializer_repeats_and_global_seed_reproduces():
    init = initializers.GlorotUniform(seed=7)
    np.testing.assert_array_equal(init((4, 3)), init((4, 3)))
    keras.utils.set_random_seed(11)
    first = keras.layers.Dense(3)
    first.build((None, 4))
    keras.utils.set_random_seed(11)
    second = keras.layers.Dense(3)
    second.build((None, 4))
    np.testing.assert_array_equal(first.kernel.value, second.kernel.value)


def test_float64_weights():
    values = initializers.get("he_normal")((3, 3), dtype="float64")
    assert values.dtype == np.float64


def test_serialize_round_trip_and_unknown_name():
    init = initializers.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform",
                                        seed=3)
    again = initializers.deserialize(initializers.serialize(init))
    np.testing.assert_array_equal(again((5, 4)), init((5, 4)))
    with pytest.raises(ValueError, match=r"'glorot_uniformx'.*'glorot_uniform'"):
        initializers.get("glorot_uniformx")
    with pytest.raises(ValueError, match=r"Received: mode='fan_middle'"):
        initializers.VarianceScaling(mode="fan_middle")


def test_keras_lowercase_aliases():
    assert initializers.he_normal is initializers.HeNormal
    assert initializers.OrthogonalInitializer is initializers.Orthogonal
    assert set(initializers.__all__) <= set(dir(initializers))
    layer = keras.layers.Dense(2, kernel_initializer=initializers.glorot_uniform(seed=1))
    layer.build((None, 3))
    assert layer.kernel.shape == (3, 2)
