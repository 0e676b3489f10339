"""Optimizers: each update rule on a tiny case worked out by hand (float64), the shared
steps (clipping, weight decay, constraints, schedules), state order, configs and errors."""

import math
import re
import warnings

import numpy as np
import pytest

from minikeras import backend, optimizers
from minikeras.optimizers import schedules
from minikeras.variables import Variable

EPS = 1e-7


@pytest.fixture(autouse=True)
def _float64():
    """Hand computations are in float64; every test gets it, and float32 back afterwards."""
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


def var(value, name="kernel"):
    return Variable(np.array(value, dtype="float64"), name=name)


def steps(optimizer, w0, grads):
    """Applies the gradients one step each to a fresh variable. Returns its final value."""
    w = var(w0)
    for g in grads:
        optimizer.apply([np.array(g, dtype="float64")], [w])
    return w.value


G = np.array([0.5, -2.0, 0.0])
W0 = np.array([1.0, 2.0, -3.0])


# ------------------------------------------------------------------ update rules


def test_sgd_plain_momentum_and_nesterov_two_steps():
    np.testing.assert_allclose(steps(optimizers.SGD(0.1), W0, [G, G]), W0 - 0.2 * G)
    # v1 = -lr g, v2 = 0.9 v1 - lr g = -1.9 lr g; w2 = w0 + v1 + v2 = w0 - 2.9 lr g
    np.testing.assert_allclose(steps(optimizers.SGD(0.1, momentum=0.9), W0, [G, G]),
                               W0 - 0.29 * G)
    # Nesterov: w += 0.9 v - lr g, so w1 = w0 - 1.9 lr g, w2 = w1 + 0.9 (-1.9 lr g) - lr g
    np.testing.assert_allclose(
        steps(optimizers.SGD(0.1, momentum=0.9, nesterov=True), W0, [G, G]),
        W0 - 0.1 * G * (1.9 + 0.9 * 1.9 + 1))


def F32(value):
    """A Python float rounded to float32, as Keras's casts of constant hyperparameters do."""
    return float(np.float32(value))


def _adam_textbook(grads, lr, b1=0.9, b2=0.999, eps=EPS, amsgrad=False):
    """Kingma and Ba's bias-corrected form, with epsilon hat written out explicitly.

    The bias corrections use the betas rounded to float32, as Keras does (it casts them
    through a float32 tensor); the moment updates use them exactly."""
    c1, c2 = F32(b1), F32(b2)
    w, m, v, v_max = W0.copy(), 0.0, 0.0, 0.0
    for t, g in enumerate(grads, start=1):
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        v_max = np.maximum(v_max, v)
        m_hat = m / (1 - c1**t)
        v_hat = (v_max if amsgrad else v) / (1 - c2**t)
        w = w - lr * m_hat / (np.sqrt(v_hat) + eps / math.sqrt(1 - c2**t))
    return w


def test_adam_matches_the_bias_corrected_textbook_form():
    grads = [G, -0.5 * G, 3 * G]
    np.testing.assert_allclose(steps(optimizers.Adam(0.01), W0, grads),
                               _adam_textbook(grads, 0.01), rtol=1e-12)
    # First step moves each entry with a nonzero gradient by lr against its sign.
    np.testing.assert_allclose(steps(optimizers.Adam(0.01), W0, [G]),
                               W0 - 0.01 * np.sign(G), rtol=1e-6)


def test_adam_amsgrad_uses_the_running_max_of_v():
    grads = [3 * G, 0.1 * G, 0.1 * G]
    got = steps(optimizers.Adam(0.01, beta_2=0.5, amsgrad=True), W0, grads)
    np.testing.assert_allclose(got, _adam_textbook(grads, 0.01, b2=0.5, amsgrad=True),
                               rtol=1e-12)
    assert not np.allclose(got, _adam_textbook(grads, 0.01, b2=0.5))


def test_adamw_is_adam_after_decaying_the_weights():
    w = steps(optimizers.AdamW(0.01, weight_decay=0.5), W0, [G])
    decayed = W0 - W0 * 0.5 * 0.01
    np.testing.assert_allclose(w, decayed - 0.01 * np.sign(G), rtol=1e-6)
    assert optimizers.AdamW().weight_decay == 0.004


def test_rmsprop_plain_one_step():
    w = steps(optimizers.RMSprop(0.01), W0, [G])
    np.testing.assert_allclose(w, W0 - 0.01 * G / np.sqrt(0.1 * G**2 + EPS))


def test_rmsprop_centered_with_momentum_two_steps():
    lr, rho, mom = 0.01, 0.8, 0.5
    g1, g2 = G, -2 * G
    v1 = (1 - rho) * g1**2
    a1 = (1 - rho) * g1
    u1 = lr * g1 / np.sqrt(v1 - a1**2 + EPS)
    v2 = rho * v1 + (1 - rho) * g2**2
    a2 = rho * a1 + (1 - rho) * g2
    u2 = mom * u1 + lr * g2 / np.sqrt(v2 - a2**2 + EPS)
    opt = optimizers.RMSprop(lr, rho=rho, momentum=mom, centered=True)
    np.testing.assert_allclose(steps(opt, W0, [g1, g2]), W0 - u1 - u2)


def test_adagrad_two_steps_from_the_initial_accumulator():
    g1, g2 = G, 2 * G
    w1 = W0 - 0.1 * g1 / np.sqrt(0.5 + g1**2 + EPS)
    w2 = w1 - 0.1 * g2 / np.sqrt(0.5 + g1**2 + g2**2 + EPS)
    opt = optimizers.Adagrad(0.1, initial_accumulator_value=0.5)
    np.testing.assert_allclose(steps(opt, W0, [g1, g2]), w2)


def test_adadelta_two_steps():
    lr, rho = 1.0, 0.9
    g1, g2 = G, -G
    eg = (1 - rho) * g1**2
    dw1 = -np.sqrt(0 + EPS) * g1 / np.sqrt(eg + EPS)
    edw = (1 - rho) * dw1**2
    eg = rho * eg + (1 - rho) * g2**2
    dw2 = -np.sqrt(edw + EPS) * g2 / np.sqrt(eg + EPS)
    opt = optimizers.Adadelta(lr, rho=rho)
    np.testing.assert_allclose(steps(opt, W0, [g1, g2]), W0 + lr * (dw1 + dw2))
    assert optimizers.Adadelta().learning_rate == 0.001


def test_adamax_two_steps():
    lr, b1, b2 = 0.01, 0.9, 0.999
    g1, g2 = G, 0.5 * G
    m1, u1 = (1 - b1) * g1, np.abs(g1)
    w1 = W0 - lr * m1 / ((1 - b1) * (u1 + EPS))
    m2, u2 = b1 * m1 + (1 - b1) * g2, np.maximum(b2 * u1, np.abs(g2))
    w2 = w1 - lr * m2 / ((1 - b1**2) * (u2 + EPS))
    np.testing.assert_allclose(steps(optimizers.Adamax(lr), W0, [g1, g2]), w2)


def test_nadam_two_steps_with_the_momentum_schedule():
    lr, b1, b2 = 0.01, F32(0.9), F32(0.999)   # Nadam uses its betas cast through float32

    def u(t):
        return b1 * (1 - 0.5 * 0.96**t)

    w, m, v, product = W0.copy(), 0.0, 0.0, 1.0
    for t, g in enumerate([G, -3 * G], start=1):
        product *= u(t)
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        m_hat = u(t + 1) * m / (1 - product * u(t + 1)) + (1 - u(t)) * g / (1 - product)
        w = w - lr * m_hat / (np.sqrt(v / (1 - b2**t)) + EPS)
    opt = optimizers.Nadam(lr)
    # rtol 1e-9: the u-product is kept in the optimizer's state dtype, rounding its last bits.
    np.testing.assert_allclose(steps(opt, W0, [G, -3 * G]), w, rtol=1e-9)
    np.testing.assert_allclose(opt.variables[-1], u(1) * u(2))  # u_product, shared


def test_ftrl_one_step_and_l1_sparsity():
    lr = 0.1
    n_new = 0.1 + G**2
    z = G - (np.sqrt(n_new) - np.sqrt(0.1)) / lr * W0
    np.testing.assert_allclose(steps(optimizers.Ftrl(lr), W0, [G]), -z / (np.sqrt(n_new) / lr))
    # A large l1 zeroes every weight whose |z| stays below it.
    w = steps(optimizers.Ftrl(lr, l1_regularization_strength=100.0), W0, [G])
    np.testing.assert_array_equal(w, 0.0)


def test_lion_two_steps():
    lr, b1, b2 = 0.01, 0.9, 0.99
    g1, g2 = G, -0.05 * G
    w1 = W0 - lr * np.sign((1 - b1) * g1)
    m1 = (1 - b2) * g1
    w2 = w1 - lr * np.sign(b1 * m1 + (1 - b1) * g2)
    np.testing.assert_allclose(steps(optimizers.Lion(lr), W0, [g1, g2]), w2)


def test_lamb_one_step_is_adam_scaled_by_the_trust_ratio():
    adam_step = G / (np.abs(G) + EPS)  # m_hat / (sqrt(v_hat) + eps) on the first step
    ratio = np.linalg.norm(W0) / np.linalg.norm(adam_step)
    np.testing.assert_allclose(steps(optimizers.Lamb(0.01), W0, [G]),
                               W0 - ratio * 0.01 * adam_step)


def test_adafactor_first_step_vector_and_factored_matrix():
    lr = 0.01
    # t = 1: rho = lr, beta = 1 - 1 = 0, so v = g^2 + eps_1 and u = g / sqrt(v) ~ sign(g).
    u = G / np.sqrt(G**2 + 1e-30)
    u = u / max(1.0, np.sqrt(np.mean(u**2)))
    alpha = max(1e-3, np.sqrt(np.mean(W0**2))) * lr
    np.testing.assert_allclose(steps(optimizers.Adafactor(lr), W0, [G]), W0 - alpha * u)

    w0 = np.array([[1.0, 2.0], [3.0, 4.0]])
    g = np.array([[1.0, -2.0], [0.5, 1.0]])
    g2 = g**2 + 1e-30
    rows, cols = g2.mean(axis=1), g2.mean(axis=0)   # R and C
    v = np.outer(rows / rows.mean(), cols)          # rank-1 estimate of g^2
    u = g / np.sqrt(v)
    u = u / max(1.0, np.sqrt(np.mean(u**2)))
    alpha = np.sqrt(np.mean(w0**2)) * lr
    opt = optimizers.Adafactor(lr)
    np.testing.assert_allclose(steps(opt, w0, [g]), w0 - alpha * u)
    assert [a.shape for a in opt.variables[2:]] == [(2,), (2,), (2, 2)]


# ---------------------------------------------------------- shared machinery


def test_clipnorm_clips_each_gradient_to_its_own_norm():
    a, b = var([0.0, 0.0]), var([0.0])
    optimizers.SGD(1.0, clipnorm=1.0).apply([np.array([3.0, 4.0]), np.array([0.5])], [a, b])
    np.testing.assert_allclose(a.value, [-0.6, -0.8])
    np.testing.assert_allclose(b.value, [-0.5])  # already short enough: unchanged


def test_global_clipnorm_scales_all_gradients_together():
    a, b = var([0.0]), var([0.0])
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([3.0]), np.array([4.0])], [a, b])
    np.testing.assert_allclose([a.value[0], b.value[0]], [-0.6, -0.8])
    a, b = var([0.0]), var([0.0])
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([np.inf]), np.array([1.0])],
                                                   [a, b])
    assert np.isnan(b.value[0])  # as Keras: a non-finite global norm gives NaN
    a = var([1.0])
    optimizers.SGD(1.0, global_clipnorm=1.0).apply([np.array([0.0])], [a])
    assert a.value[0] == 1.0


def test_clipvalue():
    w = steps(optimizers.SGD(1.0, clipvalue=1.0), [0.0, 0.0, 0.0], [[-5.0, 0.5, 2.0]])
    np.testing.assert_allclose(w, [1.0, -0.5, -1.0])


def test_gradients_are_not_modified():
    g = np.array([3.0, 4.0])
    kept = g.copy()
    for opt in (optimizers.SGD(0.1, clipnorm=1.0), optimizers.Adam(), optimizers.RMSprop(),
                optimizers.Nadam(), optimizers.Ftrl(), optimizers.Lion()):
        opt.apply([g], [var([1.0, 1.0])])
        np.testing.assert_array_equal(g, kept)


def test_weight_decay_comes_before_the_update_and_skips_excluded_variables():
    kernel, bias = var([2.0], "kernel"), var([2.0], "bias")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_names=["bias"])
    opt.apply([np.array([1.0]), np.array([1.0])], [kernel, bias])
    np.testing.assert_allclose(kernel.value, [2.0 - 2.0 * 0.5 * 0.1 - 0.1])
    np.testing.assert_allclose(bias.value, [2.0 - 0.1])
    other = var([2.0], "kernel")
    opt = optimizers.SGD(0.1, weight_decay=0.5)
    opt.exclude_from_weight_decay(var_list=[other])
    opt.apply([np.array([0.0])], [other])
    np.testing.assert_allclose(other.value, [2.0])


def test_constraint_applies_after_the_update():
    w = Variable(np.array([1.0, -1.0]), name="kernel", constraint=lambda x: np.clip(x, 0, 0.5))
    optimizers.SGD(1.0).apply([np.array([-1.0, -1.0])], [w])
    np.testing.assert_allclose(w.value, [0.5, 0.0])


def test_none_gradients_leave_their_variable_alone():
    a, b = var([1.0]), var([1.0])
    opt = optimizers.Adam(0.1)
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        opt.apply([None, np.array([1.0])], [a, b])
    assert a.value[0] == 1.0 and b.value[0] != 1.0 and opt.iterations == 1
    with pytest.raises(ValueError, match="No gradients"):
        opt.apply([None, None], [a, b])


def test_apply_without_variables_uses_the_built_ones_and_rejects_strangers():
    a = var([1.0])
    opt = optimizers.SGD(0.5)
    with pytest.raises(ValueError, match="must already be built"):
        opt.apply([np.array([1.0])])
    opt.build([a])
    opt.apply([np.array([1.0])])
    assert a.value[0] == 0.5
    with pytest.raises(ValueError, match="Unknown variable"):
        opt.apply([np.array([1.0])], [var([1.0])])
    opt.apply_gradients([(np.array([1.0]), a)])
    assert a.value[0] == 0.0 and opt.iterations == 2


def test_schedule_is_evaluated_at_the_step_count_before_the_update():
    lr = schedules.PiecewiseConstantDecay([0, 1], [1.0, 0.5, 0.25])
    opt = optimizers.SGD(lr)
    w = var([0.0])
    seen = []
    for _ in range(3):
        seen.append(float(opt.learning_rate))
        opt.apply([np.array([1.0])], [w])
    assert seen == [1.0, 0.5, 0.25]
    np.testing.assert_allclose(w.value, [-1.75])


def test_weight_decay_uses_the_scheduled_learning_rate():
    opt = optimizers.SGD(schedules.ExponentialDecay(0.1, 1, 0.5), weight_decay=1.0)
    w = var([1.0])
    opt.apply([np.array([0.0])], [w])
    opt.apply([np.array([0.0])], [w])
    np.testing.assert_allclose(w.value, [(1 - 0.1) * (1 - 0.05)], rtol=1e-6)


def test_callable_learning_rate_and_setter():
    opt = optimizers.SGD(lambda: 0.25)
    np.testing.assert_allclose(steps(opt, [0.0], [[1.0]]), [-0.25])
    opt = optimizers.SGD(0.1)
    opt.learning_rate = 0.3
    assert opt.learning_rate == pytest.approx(0.3)
    with pytest.raises(ValueError, match="learning_rate"):
        opt.learning_rate = -1.0
    scheduled = optimizers.SGD(schedules.ExponentialDecay(0.1, 10, 0.5))
    with pytest.raises(TypeError, match="LearningRateSchedule"):
        scheduled.learning_rate = 0.1


def test_learning_rate_supports_the_keras_variable_idioms():
    opt = optimizers.Adam(0.01)
    lr = opt.learning_rate
    assert float(lr) == 0.01 and round(lr, 3) == 0.01 and f"{lr:.3f}" == "0.010"
    assert lr.numpy() == 0.01
    opt.learning_rate.assign(0.5)  # Keras 3 code does this in callbacks
    assert float(opt.learning_rate) == 0.5 and opt.get_config()["learning_rate"] == 0.5
    seen = opt.learning_rate
    opt.learning_rate = opt.learning_rate * 0.5
    assert float(opt.learning_rate) == 0.25 and float(opt.variables[1]) == 0.25
    assert float(seen) == 0.5  # a snapshot: kept values do not change afterwards
    backend.set_floatx("float32")
    assert optimizers.Adam(0.01).learning_rate.dtype == np.float32


def test_state_follows_the_variable_dtype():
    backend.set_floatx("float32")
    w = Variable(np.ones(3, dtype="float32"), name="kernel")
    opt = optimizers.Nadam()
    opt.apply([np.ones(3, dtype="float64")], [w])
    assert w.value.dtype == np.float32
    assert [a.dtype for a in opt.variables] == [np.int64, np.float32] + [np.float32] * 3


# ------------------------------------------------------- variables (Keras order)

# Counts that Keras 3 reports for `optimizer.variables` on Dense(3) -> Dense(1) (4 weights):
# iterations, learning_rate, then the per-variable state.
KERAS_VARIABLE_COUNTS = {
    "sgd": 2, "rmsprop": 6, "adagrad": 6, "adadelta": 10, "adam": 10, "adamw": 10,
    "adamax": 10, "nadam": 11, "ftrl": 10, "lion": 6, "adafactor": 14, "lamb": 10,
}


def _dense_weights():
    return [var(np.ones((2, 3)), "kernel"), var(np.ones(3), "bias"),
            var(np.ones((3, 1)), "kernel"), var(np.ones(1), "bias")]


@pytest.mark.parametrize("name", sorted(KERAS_VARIABLE_COUNTS))
def test_variable_counts_match_keras(name):
    opt = optimizers.get(name)
    opt.build(_dense_weights())
    arrays = opt.variables
    assert len(arrays) == KERAS_VARIABLE_COUNTS[name]
    assert len(optimizers.get(name).variables) == 2  # before build: iterations and lr
    assert arrays[0].dtype == np.int64 and arrays[0].shape == ()
    assert arrays[1].shape == ()


def test_variable_counts_with_options_and_schedules():
    cases = [(optimizers.SGD(momentum=0.5), 6), (optimizers.Adam(amsgrad=True), 14),
             (optimizers.Adam(use_ema=True, gradient_accumulation_steps=2), 18),
             (optimizers.RMSprop(momentum=0.5), 10),
             (optimizers.RMSprop(momentum=0.5, centered=True), 14),
             (optimizers.Adam(schedules.ExponentialDecay(0.1, 10, 0.5)), 9)]
    for opt, count in cases:
        opt.build(_dense_weights())
        assert len(opt.variables) == count, opt


def test_adam_state_is_interleaved_per_variable_as_in_keras():
    a, b = var([1.0]), var([1.0, 1.0])
    opt = optimizers.Adam()
    opt.apply([np.array([2.0]), np.array([4.0, 4.0])], [a, b])
    iterations, lr, m_a, v_a, m_b, v_b = opt.variables
    assert iterations == 1 and lr == pytest.approx(0.001)
    np.testing.assert_allclose(m_a, [0.2])
    np.testing.assert_allclose(v_a, [0.004])
    np.testing.assert_allclose(m_b, [0.4, 0.4])
    np.testing.assert_allclose(v_b, [0.016, 0.016])


def test_rmsprop_state_is_grouped_by_kind_as_in_keras():
    a, b = var([1.0]), var([1.0, 1.0])
    opt = optimizers.RMSprop(momentum=0.5, centered=True)
    opt.build([a, b])
    shapes = [x.shape for x in opt.variables[2:]]
    assert shapes == [(1,), (2,)] * 3


def test_set_weights_and_own_variables_restore_the_state():
    grads = [G, -G, 2 * G]
    reference = optimizers.Adam(0.01)
    w_ref = var(W0)
    for g in grads:
        reference.apply([g], [w_ref])

    first = optimizers.Adam(0.01)
    w = var(W0)
    first.apply([grads[0]], [w])
    store = {}
    first.save_own_variables(store)
    assert sorted(store) == ["0", "1", "2", "3"]

    second = optimizers.Adam(0.01)
    second.build([w])
    second.load_own_variables(store)
    for g in grads[1:]:
        second.apply([g], [w])
    np.testing.assert_allclose(w.value, w_ref.value, rtol=1e-14)

    third = optimizers.Adam(0.01)
    with pytest.raises(ValueError, match="not been built"):
        third.set_weights(first.variables)
    third.build([w])
    third.set_weights(first.variables)
    assert third.iterations == 1
    with pytest.raises(ValueError, match="shape"):
        third.set_weights([np.zeros(()), np.zeros(()), np.zeros(5), np.zeros(3)])


# ------------------------------------------------------ names, get, configs


@pytest.mark.parametrize("identifier, cls", [
    ("sgd", optimizers.SGD), ("SGD", optimizers.SGD), ("adam", optimizers.Adam),
    ("Adam", optimizers.Adam), ("ADAM", optimizers.Adam), ("rmsprop", optimizers.RMSprop),
    ("RMSprop", optimizers.RMSprop), ("adagrad", optimizers.Adagrad),
    ("adadelta", optimizers.Adadelta), ("adamw", optimizers.AdamW),
    ("AdamW", optimizers.AdamW), ("adamax", optimizers.Adamax), ("nadam", optimizers.Nadam),
    ("ftrl", optimizers.Ftrl), ("lion", optimizers.Lion),
    ("adafactor", optimizers.Adafactor), ("lamb", optimizers.Lamb),
])
def test_get_accepts_keras_names_in_any_case(identifier, cls):
    assert type(optimizers.get(identifier)) is cls


def test_get_other_identifiers():
    opt = optimizers.Adam()
    assert optimizers.get(opt) is opt
    assert optimizers.get(None) is None
    got = optimizers.get({"class_name": "RMSprop", "config": {"rho": 0.5}})
    assert isinstance(got, optimizers.RMSprop) and got.rho == 0.5
    with pytest.raises(ValueError, match=r"'adam_w'.*'adamw'"):
        optimizers.get("adam_w")
    with pytest.raises(ValueError, match="Could not interpret"):
        optimizers.get(3)


def test_default_names_are_keras_snake_case_and_unique():
    assert re.fullmatch(r"rm_sprop(_\d+)?", optimizers.RMSprop().name)
    assert re.fullmatch(r"adam_w(_\d+)?", optimizers.AdamW().name)
    assert re.fullmatch(r"sgd(_\d+)?", optimizers.SGD().name)
    assert optimizers.Adam().name != optimizers.Adam().name
    assert optimizers.Adam(name="mine").name == "mine"


ALL_NON_DEFAULT = [
    optimizers.SGD(0.05, momentum=0.8, nesterov=True, clipnorm=1.0),
    optimizers.RMSprop(0.01, rho=0.8, momentum=0.5, epsilon=1e-5, centered=True),
    optimizers.Adagrad(0.1, initial_accumulator_value=0.5, epsilon=1e-6, clipvalue=0.5),
    optimizers.Adadelta(1.0, rho=0.9, epsilon=1e-6, global_clipnorm=2.0),
    optimizers.Adam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, amsgrad=True),
    optimizers.AdamW(0.01, weight_decay=0.1, amsgrad=True),
    optimizers.Adamax(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    optimizers.Nadam(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6, weight_decay=0.01),
    optimizers.Ftrl(0.1, learning_rate_power=-0.3, initial_accumulator_value=0.2,
                    l1_regularization_strength=0.1, l2_regularization_strength=0.2,
                    l2_shrinkage_regularization_strength=0.3, beta=0.4),
    optimizers.Lion(0.01, beta_1=0.8, beta_2=0.9),
    optimizers.Adafactor(0.01, beta_2_decay=-0.5, epsilon_1=1e-20, epsilon_2=1e-2,
                         clip_threshold=2.0, relative_step=False),
    optimizers.Lamb(0.01, beta_1=0.8, beta_2=0.99, epsilon=1e-6),
    optimizers.SGD(schedules.CosineDecay(0.1, 100, alpha=0.1, warmup_target=0.2,
                                         warmup_steps=5)),
]


@pytest.mark.parametrize("opt", ALL_NON_DEFAULT, ids=lambda o: type(o).__name__)
def test_config_round_trip(opt):
    serialized = optimizers.serialize(opt)
    assert serialized["module"] == "keras.optimizers"
    assert serialized["class_name"] == type(opt).__name__
    rebuilt = optimizers.deserialize(serialized)
    assert type(rebuilt) is type(opt)
    assert rebuilt.get_config() == opt.get_config()


def test_config_has_keras_keys_and_reads_keras_configs():
    config = optimizers.Adam().get_config()
    assert {"name", "learning_rate", "weight_decay", "clipnorm", "global_clipnorm",
            "clipvalue", "use_ema", "ema_momentum", "ema_overwrite_frequency",
            "loss_scale_factor", "gradient_accumulation_steps", "beta_1", "beta_2",
            "epsilon", "amsgrad"} == set(config)
    # As Keras 3 writes it (the learning rate held in float32).
    keras_config = {
        "module": "keras.optimizers", "class_name": "SGD", "registered_name": None,
        "config": {"name": "SGD", "learning_rate": {
            "module": "keras.optimizers.schedules", "class_name": "ExponentialDecay",
            "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5,
                       "staircase": False, "name": "ExponentialDecay"},
            "registered_name": None},
            "weight_decay": None, "clipnorm": None, "global_clipnorm": None,
            "clipvalue": None, "use_ema": False, "ema_momentum": 0.99,
            "ema_overwrite_frequency": None, "loss_scale_factor": None,
            "gradient_accumulation_steps": None, "momentum": 0.9, "nesterov": False},
    }
    opt = optimizers.deserialize(keras_config)
    assert isinstance(opt, optimizers.SGD) and opt.momentum == 0.9
    assert float(opt.learning_rate) == pytest.approx(0.1)
    assert isinstance(opt.get_config()["learning_rate"], dict)


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate=-0.1"),
    (lambda: optimizers.Adam(learning_rate="fast"), "learning_rate='fast'"),
    (lambda: optimizers.Adam(learning_rate=float("nan")), "learning_rate=nan"),
    (lambda: optimizers.SGD(momentum=-0.1), "momentum=-0.1"),
    (lambda: optimizers.SGD(momentum=1.5), "momentum=1.5"),
    (lambda: optimizers.RMSprop(rho=1.5), "rho=1.5"),
    (lambda: optimizers.RMSprop(momentum=2.0), "momentum=2.0"),
    (lambda: optimizers.RMSprop(epsilon=-1.0), "epsilon=-1.0"),
    (lambda: optimizers.Adadelta(rho=-0.5), "rho=-0.5"),
    (lambda: optimizers.Adagrad(initial_accumulator_value=-1.0),
     "initial_accumulator_value=-1.0"),
    (lambda: optimizers.Adam(beta_1=1.0), r"beta_1.*\[0.0, 1.0\).*beta_1=1.0"),
    (lambda: optimizers.Adam(beta_2=-0.1), "beta_2=-0.1"),
    (lambda: optimizers.Adamax(beta_1=2.0), "beta_1=2.0"),
    (lambda: optimizers.Nadam(beta_2=1.0), "beta_2=1.0"),
    (lambda: optimizers.AdamW(weight_decay=None), "weight_decay=None"),
    (lambda: optimizers.Adam(weight_decay=-0.1), "weight_decay=-0.1"),
    (lambda: optimizers.Ftrl(learning_rate_power=0.5), "learning_rate_power=0.5"),
    (lambda: optimizers.Ftrl(l1_regularization_strength=-1.0),
     "l1_regularization_strength=-1.0"),
    (lambda: optimizers.Lion(beta_1=0.0), "beta_1=0.0"),
    (lambda: optimizers.Adafactor(clip_threshold=0.0), "clip_threshold=0.0"),
    (lambda: optimizers.Adafactor(beta_2_decay=0.5), "beta_2_decay=0.5"),
    (lambda: optimizers.Lamb(beta_2=1.0), "beta_2=1.0"),
    (lambda: optimizers.Adam(clipnorm=1.0, clipvalue=1.0), "Only one of"),
    (lambda: optimizers.SGD(global_clipnorm=1.0, clipnorm=1.0), "Only one of"),
    (lambda: optimizers.SGD(clipnorm=-1.0), "clipnorm=-1.0"),
    (lambda: optimizers.SGD(clipvalue="big"), "clipvalue='big'"),
    (lambda: optimizers.Adam(foo=1), r"not recognized.*foo"),
    (lambda: optimizers.get("adamm"), r"'adamm'.*Valid names.*'rmsprop'"),
])
def test_bad_arguments_raise_value_errors_naming_them(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_decay_argument_is_ignored_with_a_warning():
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        optimizers.Adam(decay=0.1)
    assert any("decay" in str(w.message) for w in caught)


@pytest.mark.parametrize("make, match", [
    (lambda: optimizers.Adam(gradient_accumulation_steps=1), "gradient_accumulation_steps=1"),
    (lambda: optimizers.Adam(gradient_accumulation_steps=2.5),
     "gradient_accumulation_steps=2.5"),
    (lambda: optimizers.Adam(use_ema=True, ema_momentum=1.5), "ema_momentum=1.5"),
    (lambda: optimizers.Adam(use_ema=True, ema_overwrite_frequency=0),
     "ema_overwrite_frequency=0"),
])
def test_bad_ema_and_accumulation_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


# ------------------------------------------- moving averages, gradient accumulation


def test_ema_averages_the_weights_and_finalize_copies_them_in():
    w = var([0.0])
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
    opt.apply([np.array([-1.0])], [w])   # w = 1, average starts as a copy: 1
    opt.apply([np.array([-1.0])], [w])   # w = 2, average = 0.5 * 1 + 0.5 * 2
    assert w.value[0] == 2.0
    np.testing.assert_allclose(opt.variables[2], [1.5])  # after iterations and lr
    opt.finalize_variable_values([w])
    assert w.value[0] == 1.5


def test_ema_overwrite_frequency():
    w = var([0.0])
    opt = optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5, ema_overwrite_frequency=2)
    for _ in range(3):
        opt.apply([np.array([-1.0])], [w])
    # Step 2 put the average 1.5 into w; step 3: w = 2.5, average = 0.5 * 1.5 + 0.5 * 2.5.
    assert w.value[0] == 2.5
    np.testing.assert_allclose(opt.variables[2], [2.0])


def test_gradient_accumulation_updates_every_n_calls_with_the_mean():
    w = var([0.0])
    opt = optimizers.SGD(1.0, gradient_accumulation_steps=2)
    opt.apply([np.array([1.0])], [w])
    assert w.value[0] == 0.0 and opt.iterations == 0
    opt.apply([np.array([3.0])], [w])
    assert w.value[0] == -2.0 and opt.iterations == 1
    np.testing.assert_array_equal(opt.variables[2], [0.0])  # the accumulator, emptied


def test_gradient_accumulation_counts_real_updates_but_schedules_see_calls():
    # Adam's bias correction sees update 1: its first step moves by lr against the sign.
    w = steps(optimizers.Adam(0.01, gradient_accumulation_steps=2), W0, [G, G])
    np.testing.assert_allclose(w, W0 - 0.01 * np.sign(G), rtol=1e-6)
    # The update happens on call 1 (0-based): the schedule gives its value at step 1.
    lr = schedules.PiecewiseConstantDecay([0, 1], [1.0, 2.0, 3.0])
    w = steps(optimizers.SGD(lr, gradient_accumulation_steps=2), [0.0], [[1.0], [1.0]])
    np.testing.assert_allclose(w, [-2.0])
