"""keras.ops: every op's backward against float64 finite differences (broadcasting cases
included), forward on plain arrays returning NumPy arrays, and the tape's own rules."""

import numpy as np
import pytest

from minikeras import ops
from minikeras.ops import tape
from tests.gradcheck import numerical_gradient, relative_error
from tests.op_cases import CASES, make_inputs


def _loss_and_grads(function, arrays, weights):
    """L = sum(function(inputs) * weights), and dL/d(each input) from the tape."""
    leaves = [tape.Tracked(a) for a in arrays]
    out = function(ops, *leaves)
    loss = ops.sum(ops.multiply(out, weights))
    return loss, tape.gradients([(loss, None)], leaves)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_finite_differences(case):
    function, shapes, kind = CASES[case]
    rng = np.random.default_rng(0)
    arrays = make_inputs(shapes, kind, rng)
    weights = rng.normal(size=np.shape(function(ops, *arrays)))
    _, grads = _loss_and_grads(function, arrays, weights)
    for index, array in enumerate(arrays):
        def loss_of(_):
            return float(np.sum(np.asarray(function(ops, *arrays)) * weights))

        numeric = numerical_gradient(loss_of, array)
        analytic = np.zeros_like(array) if grads[index] is None else grads[index]
        assert analytic.shape == array.shape
        assert relative_error(analytic, numeric) < 1e-6, (case, index)


@pytest.mark.parametrize("case", sorted(CASES))
def test_plain_arrays_give_plain_arrays(case):
    function, shapes, kind = CASES[case]
    arrays = make_inputs(shapes, kind, np.random.default_rng(1), dtype="float32")
    out = function(ops, *arrays)
    assert isinstance(out, np.ndarray)
    tracked = function(ops, *[tape.Tracked(a) for a in arrays])
    np.testing.assert_allclose(tape.unwrap(tracked), out, rtol=1e-6)


NUMPY_REFERENCES = {
    "add_broadcast": lambda a, b: a + b,
    "matmul_batched": np.matmul,
    "einsum": lambda a, b: np.einsum("bij,jk->bik", a, b),
    "logsumexp": lambda a: np.log(np.exp(a).sum(axis=-1)),
    "var": lambda a: a.var(axis=1),
    "std": lambda a: a.std(axis=0),
    "take": lambda a: np.take(a, [0, 2, 2], axis=1),
    "tile": lambda a: np.tile(a, (2, 1)),
    "softmax": lambda a: np.exp(a) / np.exp(a).sum(-1, keepdims=True),
    "norm": lambda a: np.linalg.norm(a, axis=-1),
}


@pytest.mark.parametrize("case", sorted(NUMPY_REFERENCES))
def test_forward_matches_numpy(case):
    function, shapes, kind = CASES[case]
    arrays = make_inputs(shapes, kind, np.random.default_rng(2))
    np.testing.assert_allclose(function(ops, *arrays), NUMPY_REFERENCES[case](*arrays),
                               rtol=1e-10)


def test_fan_out_sums_gradients():
    # y = x * x + x uses x three times: dy/dx = 2x + 1, the sum over the three uses.
    x = tape.Tracked(np.array([1.0, -2.0, 3.0]))
    y = ops.sum(x * x + x)
    (grad,) = tape.gradients([(y, None)], [x])
    np.testing.assert_allclose(grad, 2 * x.value + 1)


def test_variables_become_leaves_only_inside_a_trace():
    from minikeras.variables import Variable

    w = Variable(np.array([2.0, 3.0]), dtype="float64")
    assert isinstance(ops.multiply(w, 2.0), np.ndarray)     # no trace: plain NumPy
    with ops.GradientTape() as gradient_tape:
        loss = ops.sum(ops.square(w))
    np.testing.assert_allclose(gradient_tape.gradient(loss, w), 2 * w.value)


def test_list_argument_mixing_tracked_and_plain_arrays():
    # concatenate([a, plain, b]) * weights: a and b get the weights of their own columns.
    a = tape.Tracked(np.array([[1.0, 2.0]]))
    b = tape.Tracked(np.array([[3.0]]))
    plain = np.array([[5.0, 6.0]])
    weights = np.array([[1.0, 2.0, 3.0, 4.0, 5.0]])
    loss = ops.sum(ops.concatenate([a, plain, b], axis=1) * weights)
    grad_a, grad_b = tape.gradients([(loss, None)], [a, b])
    np.testing.assert_array_equal(grad_a, [[1.0, 2.0]])
    np.testing.assert_array_equal(grad_b, [[5.0]])


def test_variables_in_a_list_argument():
    from minikeras.variables import Variable

    w = Variable(np.array([2.0, 3.0]), dtype="float64")
    assert isinstance(ops.stack([w, w]), np.ndarray)        # no trace: plain NumPy
    with ops.GradientTape() as gradient_tape:
        loss = ops.sum(ops.stack([w, ops.multiply(w, 2.0)]))
    np.testing.assert_array_equal(gradient_tape.gradient(loss, w), [3.0, 3.0])


def test_tracked_argument_after_an_untracked_one():
    # L = sum(m @ x) + sum(2 - x): dL/dx = m^T - 1, for x given second to both ops.
    x = tape.Tracked(np.array([[1.0], [2.0]]))
    m = np.array([[1.0, 3.0]])
    loss = ops.add(ops.sum(ops.matmul(m, x)), ops.sum(2.0 - x))
    (grad,) = tape.gradients([(loss, None)], [x])
    np.testing.assert_array_equal(grad, [[0.0], [2.0]])


def test_integer_and_comparison_ops_have_no_gradient():
    x = tape.Tracked(np.array([[1.0, 5.0], [3.0, 2.0]]))
    assert isinstance(ops.argmax(x, axis=-1), np.ndarray)
    assert isinstance(ops.greater(x, 2.0), np.ndarray)


def test_seed_generator_repeats_run_after_run():
    from minikeras import random

    first = random.normal((3,), seed=random.SeedGenerator(7))
    again = random.normal((3,), seed=random.SeedGenerator(7))
    np.testing.assert_array_equal(first, again)
    generator = random.SeedGenerator(7)
    assert not np.array_equal(random.uniform((3,), seed=generator),
                              random.uniform((3,), seed=generator))
    x = tape.Tracked(np.ones((4, 5)))
    dropped = random.dropout(x, 0.5, seed=1)
    (grad,) = tape.gradients([(ops.sum(dropped), None)], [x])
    np.testing.assert_array_equal(grad, dropped.value)       # kept entries scaled by 2


def test_split_needs_equal_parts():
    with pytest.raises(ValueError, match="indices_or_sections=3"):
        ops.split(np.ones((2, 4)), 3, axis=1)
