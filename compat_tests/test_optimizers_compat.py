"""Optimizers and learning-rate schedules against Keras 3 (TensorFlow backend).

Three levels: the same random gradients fed to both optimizers for a few steps (weights and
optimizer state must agree to float32 round-off); schedule values step by step; and the
two-circles model trained 20 epochs from the same weights (every History key within 1e-4).
SGD/Adam variants already run in test_two_circles.py and are not repeated here.
"""

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import (
    assert_histories_close,
    build_pair,
    fit_both,
    per_module,
    two_circles,
    two_circles_model,
)
from minikeras.variables import Variable

X, Y = two_circles(n=400)


def schedules_of(k):
    return k.optimizers.schedules


# ------------------------------------------------ same gradients, step by step

STEP_CASES = {
    "sgd_momentum": lambda k: k.optimizers.SGD(0.1, momentum=0.9),
    "sgd_nesterov_clipnorm": lambda k: k.optimizers.SGD(0.1, momentum=0.9, nesterov=True,
                                                        clipnorm=0.5),
    "adam_amsgrad": lambda k: k.optimizers.Adam(0.01, beta_2=0.9, amsgrad=True),
    "rmsprop": lambda k: k.optimizers.RMSprop(0.01),
    "rmsprop_centered_momentum": lambda k: k.optimizers.RMSprop(0.01, rho=0.8, momentum=0.9,
                                                                centered=True),
    "adagrad": lambda k: k.optimizers.Adagrad(0.1, initial_accumulator_value=0.3),
    "adadelta": lambda k: k.optimizers.Adadelta(1.0, rho=0.9),
    "adamw": lambda k: k.optimizers.AdamW(0.01, weight_decay=0.1),
    "adamax": lambda k: k.optimizers.Adamax(0.01, beta_1=0.8),
    "nadam": lambda k: k.optimizers.Nadam(0.01),
    "nadam_global_clipnorm": lambda k: k.optimizers.Nadam(0.01, global_clipnorm=0.5),
    "ftrl": lambda k: k.optimizers.Ftrl(0.1, l1_regularization_strength=0.01,
                                        l2_regularization_strength=0.01,
                                        l2_shrinkage_regularization_strength=0.01, beta=0.1),
    "lion_clipvalue": lambda k: k.optimizers.Lion(0.01, clipvalue=0.3),
    "adafactor": lambda k: k.optimizers.Adafactor(0.1, beta_2_decay=-0.5, clip_threshold=0.5),
    "lamb": lambda k: k.optimizers.Lamb(0.01, beta_1=0.8),
    "sgd_weight_decay": lambda k: k.optimizers.SGD(0.1, weight_decay=0.1),
    "exponential": lambda k: k.optimizers.SGD(
        schedules_of(k).ExponentialDecay(0.1, 7, 0.5, staircase=True)),
    "piecewise": lambda k: k.optimizers.SGD(
        schedules_of(k).PiecewiseConstantDecay([5, 10], [0.1, 0.05, 0.01])),
    "polynomial": lambda k: k.optimizers.SGD(
        schedules_of(k).PolynomialDecay(0.1, 7, 0.01, power=2.0, cycle=True)),
    "inverse_time": lambda k: k.optimizers.SGD(
        schedules_of(k).InverseTimeDecay(0.1, 7, 0.5, staircase=True)),
    "cosine_warmup": lambda k: k.optimizers.SGD(
        schedules_of(k).CosineDecay(0.01, 10, alpha=0.1, warmup_target=0.1, warmup_steps=8)),
    "cosine_restarts": lambda k: k.optimizers.SGD(
        schedules_of(k).CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.8, alpha=0.05)),
    "weight_decay_schedule": lambda k: k.optimizers.Adam(
        schedules_of(k).ExponentialDecay(0.05, 5, 0.5), weight_decay=0.2),
    "adam_ema": lambda k: k.optimizers.Adam(0.01, use_ema=True, ema_momentum=0.9),
    "sgd_ema_overwrite": lambda k: k.optimizers.SGD(0.1, use_ema=True, ema_momentum=0.8,
                                                    ema_overwrite_frequency=5),
    "sgd_accumulation": lambda k: k.optimizers.SGD(0.1, momentum=0.9,
                                                   gradient_accumulation_steps=3),
    "nadam_accumulation_schedule": lambda k: k.optimizers.Nadam(
        schedules_of(k).ExponentialDecay(0.1, 4, 0.5), gradient_accumulation_steps=2,
        weight_decay=0.1),
    "adam_ema_accumulation_clipnorm": lambda k: k.optimizers.Adam(
        0.01, use_ema=True, ema_overwrite_frequency=2, gradient_accumulation_steps=2,
        clipnorm=0.3),
}


# float64 for a few: the rules are the same, only the round-off differs.
STEP_RUNS = [(name, "float32") for name in STEP_CASES] + [
    (name, "float64") for name in ("rmsprop_centered_momentum", "adamw", "nadam", "ftrl",
                                   "cosine_restarts")]


@pytest.mark.parametrize("name, dtype", STEP_RUNS, ids=[f"{n}-{d}" for n, d in STEP_RUNS])
def test_same_gradients_give_the_same_weights_and_state(name, dtype):
    make = STEP_CASES[name]
    keras.config.set_floatx(dtype)
    minikeras.backend.set_floatx(dtype)
    rng = np.random.default_rng(0)
    shapes = [(3, 4), (4,)]
    start = [rng.normal(size=s).astype(dtype) for s in shapes]
    ref_vars = [keras.Variable(a, name=f"w{i}") for i, a in enumerate(start)]
    our_vars = [Variable(a.copy(), name=f"w{i}") for i, a in enumerate(start)]
    reference, ours = make(keras), make(minikeras)
    for _ in range(12):
        grads = [rng.normal(size=s).astype(dtype) for s in shapes]
        reference.apply(grads, ref_vars)
        ours.apply(grads, our_vars)
    reference.finalize_variable_values(ref_vars)  # the EMA weights, when use_ema
    ours.finalize_variable_values(our_vars)
    assert ours.iterations == int(reference.iterations)
    for ref, got in zip(ref_vars, our_vars):
        np.testing.assert_allclose(got.value, ref.numpy(), rtol=1e-5, atol=1e-6)
    ref_state = [np.asarray(v.numpy()) for v in reference.variables]
    assert [a.shape for a in ours.variables] == [a.shape for a in ref_state]
    for ref, got in zip(ref_state, ours.variables):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


# -------------------------------------------------------------- schedules

SCHEDULES = {
    "exponential": lambda s: s.ExponentialDecay(0.1, 7, 0.5),
    "exponential_staircase": lambda s: s.ExponentialDecay(0.1, 7, 0.5, staircase=True),
    "piecewise": lambda s: s.PiecewiseConstantDecay([5, 10], [0.1, 0.05, 0.01]),
    "polynomial": lambda s: s.PolynomialDecay(0.1, 7, 0.01, power=0.5),
    "polynomial_cycle": lambda s: s.PolynomialDecay(0.1, 7, 0.01, power=2.0, cycle=True),
    "inverse_time": lambda s: s.InverseTimeDecay(0.1, 7, 0.5),
    "inverse_time_staircase": lambda s: s.InverseTimeDecay(0.1, 7, 0.5, staircase=True),
    "cosine": lambda s: s.CosineDecay(0.1, 20, alpha=0.1),
    "cosine_warmup": lambda s: s.CosineDecay(0.01, 10, alpha=0.1, warmup_target=0.1,
                                             warmup_steps=8),
    "cosine_restarts": lambda s: s.CosineDecayRestarts(0.1, 4, t_mul=2.0, m_mul=0.8,
                                                       alpha=0.05),
    "cosine_restarts_even": lambda s: s.CosineDecayRestarts(0.1, 4, t_mul=1.0, m_mul=0.5),
}


@pytest.mark.parametrize("make", SCHEDULES.values(), ids=SCHEDULES.keys())
def test_schedule_values_and_configs_match_keras(make):
    reference, ours = make(keras.optimizers.schedules), make(minikeras.optimizers.schedules)
    steps = np.arange(60, dtype="int64")
    expected = [float(reference(s)) for s in steps]
    np.testing.assert_allclose([float(ours(s)) for s in steps], expected, rtol=2e-6,
                               atol=1e-9)
    assert ours.get_config() == reference.get_config()
    assert (minikeras.optimizers.schedules.serialize(ours)
            == keras.optimizers.schedules.serialize(reference))


# ------------------------------------------------- names, configs, variables


NAMES = ["sgd", "rmsprop", "adagrad", "adadelta", "adam", "adamw", "adamax", "nadam", "ftrl",
         "lion", "adafactor", "Adam", "RMSprop", "ADAMW"]


@pytest.mark.parametrize("name", NAMES)
def test_string_names_variables_and_configs_match_keras(name):
    reference = two_circles_model(keras)
    ours = two_circles_model(minikeras)
    ref_opt, our_opt = keras.optimizers.get(name), minikeras.optimizers.get(name)
    assert type(our_opt).__name__ == type(ref_opt).__name__
    assert our_opt.name.split("_")[0] == ref_opt.name.split("_")[0]
    ref_opt.build(reference.trainable_variables)
    our_opt.build(ours.trainable_weights)
    assert [a.shape for a in our_opt.variables] == [tuple(v.shape) for v in ref_opt.variables]
    ref_config, our_config = ref_opt.get_config(), our_opt.get_config()
    ref_config.pop("name"), our_config.pop("name")
    assert our_config == ref_config


# ------------------------------------------------------ two circles, 20 epochs

FIT_CASES = {
    # Every optimizer with Keras's defaults, by name.
    "rmsprop": "rmsprop",
    "adagrad": "adagrad",
    "adadelta": "adadelta",
    "adamw": "adamw",
    "adamax": "adamax",
    "nadam": "nadam",
    "ftrl": "ftrl",
    "lion": "lion",
    "adafactor": "adafactor",
    # Non-default arguments, with the three kinds of clipping and weight decay spread over them.
    "rmsprop_centered_momentum": per_module(
        lambda k: k.optimizers.RMSprop(0.003, rho=0.8, momentum=0.5, centered=True)),
    "adagrad_clipnorm": per_module(
        lambda k: k.optimizers.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-5,
                                       clipnorm=0.5)),
    "adadelta_global_clipnorm": per_module(
        lambda k: k.optimizers.Adadelta(1.0, rho=0.9, global_clipnorm=0.5)),
    "adamw_amsgrad_exclude_bias": per_module(lambda k: _exclude_bias(
        k.optimizers.AdamW(0.01, weight_decay=0.1, beta_1=0.8, amsgrad=True))),
    "adamax_clipvalue": per_module(
        lambda k: k.optimizers.Adamax(0.01, beta_1=0.8, beta_2=0.99, clipvalue=0.05)),
    "nadam_weight_decay": per_module(
        lambda k: k.optimizers.Nadam(0.005, beta_1=0.8, weight_decay=0.05)),
    "ftrl_regularized": per_module(
        lambda k: k.optimizers.Ftrl(0.1, learning_rate_power=-0.3,
                                    l1_regularization_strength=0.001,
                                    l2_regularization_strength=0.01,
                                    l2_shrinkage_regularization_strength=0.01, beta=0.1)),
    "lion_weight_decay": per_module(
        lambda k: k.optimizers.Lion(0.0003, beta_1=0.8, weight_decay=0.1)),
    # Every schedule (steps 0..99: 20 epochs of 5 batches).
    "sgd_exponential_staircase": per_module(lambda k: k.optimizers.SGD(
        schedules_of(k).ExponentialDecay(0.1, 20, 0.5, staircase=True), momentum=0.9)),
    "adam_piecewise": per_module(lambda k: k.optimizers.Adam(
        schedules_of(k).PiecewiseConstantDecay([30, 60], [0.01, 0.005, 0.001]))),
    "rmsprop_inverse_time": per_module(lambda k: k.optimizers.RMSprop(
        schedules_of(k).InverseTimeDecay(0.01, 10, 0.5, staircase=True))),
    "adam_cosine_warmup": per_module(lambda k: k.optimizers.Adam(
        schedules_of(k).CosineDecay(0.001, 70, alpha=0.1, warmup_target=0.01,
                                    warmup_steps=20))),
    "sgd_polynomial_cycle": per_module(lambda k: k.optimizers.SGD(
        schedules_of(k).PolynomialDecay(0.1, 35, 0.01, power=2.0, cycle=True),
        momentum=0.9, nesterov=True)),
    "nadam_cosine_restarts": per_module(lambda k: k.optimizers.Nadam(
        schedules_of(k).CosineDecayRestarts(0.01, 15, t_mul=2.0, m_mul=0.8, alpha=0.05))),
}


def _exclude_bias(optimizer):
    optimizer.exclude_from_weight_decay(var_names=["bias"])
    return optimizer


@pytest.mark.parametrize("optimizer", FIT_CASES.values(), ids=FIT_CASES.keys())
def test_two_circles_history_matches_keras(optimizer):
    reference, ours = build_pair(two_circles_model)
    ref, got = fit_both(reference, ours, X, Y,
                        dict(loss="binary_crossentropy", optimizer=optimizer,
                             metrics=["accuracy"]),
                        epochs=20, batch_size=64, validation_split=0.2)
    assert_histories_close(ref, got)
    assert ours.optimizer.iterations == int(reference.optimizer.iterations) == 100


def test_two_circles_float64_rmsprop_centered_matches_keras():
    reference, ours = build_pair(two_circles_model, floatx="float64")
    optimizer = per_module(
        lambda k: k.optimizers.RMSprop(0.003, rho=0.8, momentum=0.5, centered=True))
    ref, got = fit_both(reference, ours, X.astype("float64"), Y.astype("float64"),
                        dict(loss="binary_crossentropy", optimizer=optimizer,
                             metrics=["accuracy"]),
                        epochs=20, batch_size=64, validation_split=0.2)
    assert_histories_close(ref, got)
    assert all(a.dtype == np.float64 for a in ours.optimizer.variables[1:])
