"""SparseRows (an Embedding's gradient, one row per occurrence of an id) and what each optimizer
does with it: Keras's rule on TensorFlow, written out here occurrence by occurrence with
np.add.at and compared with the optimizers' update_step."""

import numpy as np
import pytest

from minikeras import backend, optimizers
from minikeras.sparse_rows import SparseRows, absolutes, dense, per_occurrence, squares
from minikeras.variables import Variable

SHAPE = (6, 3)
IDS = [np.array([1, 4, 1, 1, 0]), np.array([2, 2, 4, 5, 2, 2])]   # two steps, repeats


@pytest.fixture(autouse=True)
def _float64():
    """Hand computations are in float64; float32 comes back afterwards."""
    backend.set_floatx("float64")
    yield
    backend.set_floatx("float32")


def _gradients(seed=0):
    rng = np.random.default_rng(seed)
    return [SparseRows(ids, rng.normal(size=(ids.size, SHAPE[1])), SHAPE) for ids in IDS]


def _sum_rows(ids, values):
    """The plain rule: out[ids[k]] += values[k] (np.add.at handles repeated ids)."""
    out = np.zeros(SHAPE)
    np.add.at(out, ids, values)
    return out


# ----------------------------------------------------------------- the type


def test_dense_sums_the_rows_of_each_id():
    g = _gradients()[0]
    np.testing.assert_allclose(g.dense(), _sum_rows(g.indices, g.values), rtol=1e-15)
    np.testing.assert_array_equal(g.dense()[[2, 3, 5]], 0)
    np.testing.assert_array_equal(np.asarray(g), g.dense())
    assert dense(g.values) is g.values          # a plain array passes through


@pytest.mark.parametrize("vocabulary", [1, 3, 50, 10_000])
def test_dense_matches_the_plain_rule_for_any_mix_of_single_and_repeated_ids(vocabulary):
    rng = np.random.default_rng(vocabulary)
    ids = rng.integers(0, vocabulary, 300)
    values = rng.normal(size=(300, 2, 3))
    plain = np.zeros((vocabulary, 2, 3))
    np.add.at(plain, ids, values)
    np.testing.assert_allclose(SparseRows(ids, values, plain.shape).dense(), plain,
                               rtol=1e-13, atol=1e-14)
    assert not SparseRows(ids[:0], values[:0], plain.shape).dense().any()


def test_adding_sparse_rows_concatenates_occurrences():
    a, b = _gradients()
    b = SparseRows(b.indices, b.values, SHAPE)
    total = a + b
    assert isinstance(total, SparseRows)
    np.testing.assert_array_equal(total.indices, np.concatenate(IDS))
    np.testing.assert_array_equal(total.values, np.concatenate([a.values, b.values]))
    np.testing.assert_allclose(total.dense(), a.dense() + b.dense(), rtol=1e-15)


def test_adding_a_dense_array_gives_the_dense_sum():
    g = _gradients()[0]
    other = np.arange(18.0).reshape(SHAPE)
    for total in (g + other, other + g):
        assert type(total) is np.ndarray
        np.testing.assert_allclose(total, g.dense() + other, rtol=1e-15)


def test_astype_keeps_it_sparse():
    g = _gradients()[0].astype(np.float32)
    assert isinstance(g, SparseRows) and g.dtype == np.float32 and g.shape == SHAPE


def test_squares_and_absolutes_are_taken_per_occurrence():
    g = _gradients()[0]
    np.testing.assert_allclose(squares(g), _sum_rows(g.indices, g.values ** 2), rtol=1e-15)
    np.testing.assert_allclose(absolutes(g), _sum_rows(g.indices, np.abs(g.values)),
                               rtol=1e-15)
    # Row 1 occurs three times: the sum of its squares is not the square of its sum.
    assert not np.allclose(squares(g)[1], np.square(g.dense()[1]))
    np.testing.assert_array_equal(squares(g.values), np.square(g.values))
    out = np.empty(SHAPE)
    assert squares(g, out=out) is out
    np.testing.assert_array_equal(out, squares(g))


def test_per_occurrence_gathers_the_rows_of_dense_arrays():
    g = _gradients()[0]
    scale = np.arange(1.0, 19.0).reshape(SHAPE)
    out = per_occurrence(lambda v, s: v * s, g, scale)
    assert isinstance(out, SparseRows)
    np.testing.assert_allclose(out.values, g.values * scale[g.indices], rtol=1e-15)


# ----------------------------------------------- optimizers against Keras's rules

def _keras_on_tf(name, w, steps):
    """Keras's update rules as TensorFlow runs them on tf.IndexedSlices, two steps, float64:
    G is the gradient summed per row, S the per-occurrence squares summed per row. Constants
    that Keras casts to the variable's dtype are rounded to float32 first (f32), as
    TensorFlow does."""
    def f32(x):
        return np.float64(np.float32(x))

    state = {}
    for t, g in enumerate(steps, start=1):
        G = _sum_rows(g.indices, g.values)
        S = _sum_rows(g.indices, g.values ** 2)
        if name in ("adam", "adam_amsgrad", "adamw"):
            lr, b1, b2, eps = 0.01, 0.9, 0.999, 1e-7
            if name == "adamw":
                w = w - w * (f32(0.004) * lr)
            m = state.get("m", 0) + (G - state.get("m", 0)) * (1 - b1)
            v = state.get("v", 0) + (S - state.get("v", 0)) * (1 - b2)
            state.update(m=m, v=v)
            if name == "adam_amsgrad":
                v = state["v_hat"] = np.maximum(state.get("v_hat", 0), v)
            alpha = lr * np.sqrt(1 - f32(b2) ** t) / (1 - f32(b1) ** t)
            w = w - m * alpha / (np.sqrt(v) + eps)
        elif name == "rmsprop":
            v = state["v"] = 0.9 * state.get("v", 0) + 0.1 * S
            w = w - 0.01 * G / np.sqrt(v + 1e-7)
        elif name == "adagrad":
            acc = state["acc"] = state.get("acc", 0.1) + S
            w = w - 0.01 * G / np.sqrt(acc + 1e-7)
        elif name == "adamax":
            m = state["m"] = state.get("m", 0) + (G - state.get("m", 0)) * (1 - 0.9)
            u = state["u"] = np.maximum(0.999 * state.get("u", 0),
                                        _sum_rows(g.indices, np.abs(g.values)))
            w = w - 0.01 * m / ((1 - f32(0.9) ** t) * (u + 1e-7))
        elif name == "nadam":
            b1, b2 = f32(0.9), f32(0.999)
            u_t, u_next = b1 * (1 - 0.5 * 0.96 ** t), b1 * (1 - 0.5 * 0.96 ** (t + 1))
            # (the shared product takes beta_1 unrounded, as Keras's does)
            product = state["product"] = state.get("product", 1.0) * 0.9 * (1 - 0.5 * 0.96 ** t)
            m = state["m"] = state.get("m", 0) + (G - state.get("m", 0)) * (1 - b1)
            v = state["v"] = state.get("v", 0) + (S - state.get("v", 0)) * (1 - b2)
            m_hat = u_next * m / (1 - product * u_next) + (1 - u_t) * G / (1 - product)
            w = w - 0.01 * m_hat / (np.sqrt(v / (1 - b2 ** t)) + 1e-7)
        elif name == "adadelta":
            rho, eps = 0.95, 1e-7
            g2 = state["g2"] = rho * state.get("g2", 0) + (1 - rho) * S
            dw2 = state.get("dw2", np.zeros(SHAPE))
            # dw per occurrence, with the accumulators' rows of that id.
            dw = -(np.sqrt(dw2[g.indices] + eps) * g.values) / np.sqrt(g2[g.indices] + eps)
            state["dw2"] = rho * dw2 + (1 - rho) * _sum_rows(g.indices, dw ** 2)
            w = w + 0.01 * _sum_rows(g.indices, dw)
        elif name == "sgd_nesterov":
            v = state["v"] = f32(0.9) * state.get("v", 0) - 0.01 * G
            w = w + f32(0.9) * v - 0.01 * G
    return w


OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(0.01),
    "adam_amsgrad": lambda: optimizers.Adam(0.01, amsgrad=True),
    "adamw": lambda: optimizers.AdamW(0.01),
    "rmsprop": lambda: optimizers.RMSprop(0.01),
    "adagrad": lambda: optimizers.Adagrad(0.01),
    "adamax": lambda: optimizers.Adamax(0.01),
    "nadam": lambda: optimizers.Nadam(0.01),
    "adadelta": lambda: optimizers.Adadelta(0.01),
    "sgd_nesterov": lambda: optimizers.SGD(0.01, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_sparse_update_follows_keras_per_occurrence_rule(name):
    w0 = np.random.default_rng(1).normal(size=SHAPE)
    # With a second (dense) variable, so that Adam's and SGD's flat path is in play.
    embeddings = Variable(w0.copy(), name="embeddings")
    bias = Variable(np.zeros(2), name="bias")
    optimizer = OPTIMIZERS[name]()
    steps = _gradients()
    for g in steps:
        optimizer.apply([g, np.ones(2)], [embeddings, bias])
    np.testing.assert_allclose(embeddings.value, _keras_on_tf(name, w0, steps), rtol=1e-12,
                               atol=1e-15)


@pytest.mark.parametrize("name", ["adam", "rmsprop", "adagrad", "adamax", "nadam"])
def test_sparse_and_summed_gradients_differ_when_ids_repeat(name):
    """The test above could not fail if the sparse and dense routes agreed: they do not."""
    w0 = np.random.default_rng(1).normal(size=SHAPE)
    sparse_w, dense_w = Variable(w0.copy()), Variable(w0.copy())
    sparse_opt, dense_opt = OPTIMIZERS[name](), OPTIMIZERS[name]()
    for g in _gradients():
        sparse_opt.apply([g], [sparse_w])
        dense_opt.apply([g.dense()], [dense_w])
    assert not np.allclose(sparse_w.value[1], dense_w.value[1], rtol=1e-6)
    # Rows whose id never repeats move alike.
    np.testing.assert_allclose(sparse_w.value[[0, 3]], dense_w.value[[0, 3]], rtol=1e-12)


# ------------------------------------------------------ clipping, accumulation


def test_clipnorm_counts_each_occurrence_and_stays_sparse():
    g = _gradients()[0]
    clipped = optimizers.SGD(clipnorm=0.5)._clip_gradients([g])[0]
    assert isinstance(clipped, SparseRows)
    np.testing.assert_allclose(np.sqrt(np.sum(clipped.values ** 2)), 0.5, rtol=1e-12)
    clipped = optimizers.SGD(clipvalue=0.1)._clip_gradients([g])[0]
    assert isinstance(clipped, SparseRows)
    np.testing.assert_array_equal(clipped.values, np.clip(g.values, -0.1, 0.1))


def test_global_clipnorm_counts_each_occurrence_and_densifies():
    g = _gradients()[0]
    other = np.full(2, 0.5)
    clipped = optimizers.SGD(global_clipnorm=0.5)._clip_gradients([g, other])
    assert type(clipped[0]) is np.ndarray
    norm = np.sqrt(np.sum(g.values ** 2) + np.sum(other ** 2))     # occurrences, not rows
    np.testing.assert_allclose(clipped[0], g.dense() * 0.5 / norm, rtol=1e-12)


def test_gradient_accumulation_sums_sparse_gradients_densely():
    """Keras accumulates (and then updates with) the dense mean, so Adam's squares are
    those of the summed rows."""
    w0 = np.random.default_rng(1).normal(size=SHAPE)
    accumulated, reference = Variable(w0.copy()), Variable(w0.copy())
    steps = _gradients()
    optimizer = optimizers.Adam(0.01, gradient_accumulation_steps=2)
    optimizer.apply([steps[0]], [accumulated])
    np.testing.assert_array_equal(accumulated.value, w0)        # only accumulated
    optimizer.apply([steps[1]], [accumulated])
    optimizers.Adam(0.01).apply([(steps[0].dense() + steps[1].dense()) / 2], [reference])
    np.testing.assert_allclose(accumulated.value, reference.value, rtol=1e-12)
