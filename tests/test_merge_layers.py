"""Merge layers (Add, Subtract, Multiply, Average, Maximum, Minimum, Concatenate, Dot):
backward against finite differences, broadcasting, tie routing, errors, configs."""

import numpy as np
import pytest
from gradcheck import check_gradient

from minikeras import layers

RNG = np.random.default_rng(0)


def check_merge_layer(layer, shapes, seed=0, inputs=None):
    """L = sum(out * R): each input's dL/dx against central differences (float64)."""
    rng = np.random.default_rng(seed)
    xs = inputs if inputs is not None else [rng.normal(size=s) for s in shapes]
    layer.build([x.shape for x in xs])
    out, cache = layer.forward(xs)
    assert out.shape == layer.compute_output_shape([x.shape for x in xs])
    r = rng.normal(size=out.shape)
    r_before = r.copy()
    dxs, grads = layer.backward(r, cache)
    np.testing.assert_array_equal(r, r_before)      # the incoming gradient is left alone
    assert grads == []
    assert len(dxs) == len(xs)
    for i, (x, dx) in enumerate(zip(xs, dxs, strict=True)):
        assert dx.shape == x.shape

        def loss(_):
            return np.sum(layer.forward(xs)[0] * r)

        check_gradient(loss, x, dx, name=f"{layer.name} input {i}")


@pytest.mark.parametrize("cls", [layers.Add, layers.Multiply, layers.Average,
                                 layers.Maximum, layers.Minimum])
@pytest.mark.parametrize("shapes", [
    [(3, 4), (3, 4)],
    [(2, 3, 4), (2, 3, 4), (2, 3, 4)],
    [(3, 1), (3, 4)],                 # broadcast along the last axis
    [(2, 4), (2, 3, 4)],              # lower rank: a length-1 axis after the batch
    [(2, 3, 1), (2, 1, 4), (2, 3, 4)],
], ids=["two", "three", "bcast_last", "rank", "bcast_both"])
def test_elementwise_merges_match_finite_differences(cls, shapes):
    check_merge_layer(cls(), shapes)


@pytest.mark.parametrize("shapes", [[(3, 4), (3, 4)], [(2, 1, 4), (2, 3, 4)], [(2, 4), (2, 3, 4)]])
def test_subtract_matches_finite_differences(shapes):
    check_merge_layer(layers.Subtract(), shapes)


@pytest.mark.parametrize("axis, shapes", [
    (-1, [(2, 3), (2, 5)]),
    (1, [(2, 3, 4), (2, 1, 4), (2, 2, 4)]),
    (-2, [(2, 3, 4), (2, 5, 4)]),
    (3, [(2, 2, 2, 1), (2, 2, 2, 3)]),
])
def test_concatenate_matches_finite_differences(axis, shapes):
    check_merge_layer(layers.Concatenate(axis=axis), shapes)


@pytest.mark.parametrize("normalize", [False, True])
@pytest.mark.parametrize("axes, shapes", [
    (1, [(3, 4), (3, 4)]),
    (-1, [(2, 3, 4), (2, 5, 4)]),
    ((1, 2), [(2, 3, 5), (2, 4, 3)]),
    ((1, 1), [(2, 3), (2, 3, 4)]),
    ((2, 1), [(2, 4, 3), (2, 3)]),
    ((2, 3), [(2, 2, 3, 2), (2, 2, 2, 3)]),
])
def test_dot_matches_finite_differences(axes, shapes, normalize):
    check_merge_layer(layers.Dot(axes=axes, normalize=normalize), shapes)


def test_dot_normalize_of_a_zero_vector_stays_finite():
    # ||x|| = 0: Keras scales by 1/epsilon instead of dividing by zero.
    x1, x2 = RNG.normal(size=(3, 4)), RNG.normal(size=(3, 4))
    x1[1] = 0.0
    out = layers.Dot(axes=1, normalize=True)([x1, x2])
    assert np.all(np.isfinite(out)) and out[1, 0] == 0.0


def test_dot_normalize_below_epsilon_matches_finite_differences():
    # ||x|| < epsilon = 1e-7: y = x / epsilon, a linear map, checked with steps far below x.
    x1, x2 = RNG.normal(size=(2, 4)), RNG.normal(size=(2, 4))
    x1[1] *= 1e-9
    layer = layers.Dot(axes=1, normalize=True)
    out, cache = layer.forward([x1, x2])
    (dx1, dx2), _ = layer.backward(np.ones_like(out), cache)

    def loss(_):
        return np.sum(layer.forward([x1, x2])[0])

    check_gradient(loss, x1, dx1, step=1e-12, rtol=1e-4, name="dx1")
    check_gradient(loss, x2, dx2, name="dx2")


def test_dot_normalize_gives_the_cosine_similarity():
    x1, x2 = RNG.normal(size=(5, 3)), RNG.normal(size=(5, 3))
    cosine = np.sum(x1 * x2, axis=1) / np.linalg.norm(x1, axis=1) / np.linalg.norm(x2, axis=1)
    np.testing.assert_allclose(layers.Dot(axes=1, normalize=True)([x1, x2])[:, 0], cosine)


@pytest.mark.parametrize("cls, expected", [
    # column values: x0 = [1, 2, 3], x1 = [1, 2, 0], x2 = [0, 2, 3]
    (layers.Maximum, [[1, 1, 1], [0, 0, 0], [0, 0, 0]]),     # ties go to the first input
    (layers.Minimum, [[0, 1, 0], [0, 0, 1], [1, 0, 0]]),
])
def test_maximum_minimum_route_ties_to_the_earlier_input(cls, expected):
    xs = [np.array([[1.0, 2.0, 3.0]]), np.array([[1.0, 2.0, 0.0]]), np.array([[0.0, 2.0, 3.0]])]
    layer = cls()
    out, cache = layer.forward(xs)
    dxs, _ = layer.backward(np.ones_like(out), cache)
    np.testing.assert_array_equal(np.concatenate(dxs), np.array(expected, dtype=float))


def test_merges_compute_the_maths():
    a, b, c = (RNG.normal(size=(2, 3)) for _ in range(3))
    np.testing.assert_allclose(layers.add([a, b, c]), a + b + c)
    np.testing.assert_allclose(layers.subtract([a, b]), a - b)
    np.testing.assert_allclose(layers.multiply([a, b, c]), a * b * c)
    np.testing.assert_allclose(layers.average([a, b, c]), (a + b + c) / 3)
    np.testing.assert_allclose(layers.maximum([a, b, c]), np.maximum(np.maximum(a, b), c))
    np.testing.assert_allclose(layers.minimum([a, b, c]), np.minimum(np.minimum(a, b), c))
    np.testing.assert_allclose(layers.concatenate([a, b], axis=0), np.concatenate([a, b]))
    np.testing.assert_allclose(layers.dot([a, b], axes=1), np.sum(a * b, axis=1, keepdims=True))


def test_merge_layers_on_integer_arrays_compute_in_floats():
    out = layers.Add()([np.array([[1, 2]]), np.array([[3, 4]])])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[4.0, 6.0]])


@pytest.mark.parametrize("shapes, expected", [
    ([(None, 3), (None, 3)], (None, 3)),
    ([(None, 1), (None, 5)], (None, 5)),
    ([(None, 3), (None, 4, 3)], (None, 4, 3)),
    ([(8, None, 3), (None, 4, 1)], (8, None, 3)),
])
def test_elementwise_output_shapes(shapes, expected):
    assert layers.Add().compute_output_shape(shapes) == expected


def test_concatenate_and_dot_output_shapes():
    assert layers.Concatenate(axis=1).compute_output_shape(
        [(None, 2, 3), (None, 4, 3)]) == (None, 6, 3)
    assert layers.Concatenate().compute_output_shape([(None, 2), (None, None)]) == (None, None)
    assert layers.Dot(axes=1).compute_output_shape([(None, 3), (None, 3)]) == (None, 1)
    assert layers.Dot(axes=(1, 2)).compute_output_shape(
        [(None, 3, 5), (None, 4, 3)]) == (None, 5, 4)


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize("make, inputs, message", [
    (layers.Add, np.ones((2, 3)), "A merge layer should be called on a list of inputs"),
    (layers.Add, [np.ones((2, 3)), np.ones((2, 4))],
     r"Inputs have incompatible shapes. Received shapes \(3,\) and \(4,\)"),
    (layers.Multiply, [np.ones((2, 3)), np.ones((3, 3))],
     "Cannot merge tensors with different batch sizes"),
    (layers.Subtract, [np.ones((2, 3))] * 3,
     "A `Subtract` layer should be called on exactly 2 inputs"),
    (layers.Add, [], "A merge layer should be called on a list of inputs"),
    (layers.Concatenate, [np.ones((2, 3, 4)), np.ones((2, 5, 4))],
     "A `Concatenate` layer requires inputs with matching shapes except for the "
     "concatenation axis"),
    (layers.Concatenate, [np.ones((2, 3, 4)), np.ones((2, 5))],
     "A `Concatenate` layer requires inputs with matching shapes"),
    (lambda: layers.Concatenate(axis=3), [np.ones((2, 3)), np.ones((2, 3))],
     "`axis` is out of range for inputs of rank 2"),
    (lambda: layers.Dot(axes=1), [np.ones((2, 3)), np.ones((2, 4))],
     r"Incompatible input shapes: axis values 3 \(at axis 1\) != 4 \(at axis 1\)"),
    (lambda: layers.Dot(axes=0), [np.ones((2, 3)), np.ones((2, 3))],
     "Cannot perform batch_dot over axis 0"),
    (lambda: layers.Dot(axes=1), [np.ones((2, 3))] * 3,
     "A `Dot` layer should be called on a list of 2 inputs"),
    (lambda: layers.Dot(axes=1), [np.ones(3), np.ones(3)],
     "Cannot do batch_dot on inputs with rank < 2"),
], ids=["not_list", "incompatible", "batch", "subtract_three", "empty", "concat",
        "concat_rank", "concat_axis", "dot_axis_sizes", "dot_batch_axis", "dot_three",
        "dot_rank1"])
def test_bad_inputs_raise_keras_errors(make, inputs, message):
    with pytest.raises(ValueError, match=message):
        make()(inputs)


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.Dot(axes="x"), TypeError, "Invalid type for argument `axes`"),
    (lambda: layers.Dot(axes=(1, 2, 3)), ValueError, "it should contain two elements"),
    (lambda: layers.Dot(axes=(1.0, 1)), ValueError, "list elements should be integers"),
    (lambda: layers.Concatenate(axis="a"), ValueError, "Received: axis='a'"),
])
def test_bad_constructor_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


@pytest.mark.parametrize("make", [
    lambda: layers.Add(name="plus"), lambda: layers.Subtract(), lambda: layers.Multiply(),
    lambda: layers.Average(), lambda: layers.Maximum(), lambda: layers.Minimum(),
    lambda: layers.Concatenate(axis=1), lambda: layers.Dot(axes=(1, 2), normalize=True),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    assert layer.weights == [] and layer.supports_masking


def test_elementwise_masks_are_ored():
    m1, m2 = np.array([[1, 0, 0]], bool), np.array([[0, 0, 1]], bool)
    np.testing.assert_array_equal(layers.Add().compute_mask(None, [m1, m2]), [[1, 0, 1]])
    assert layers.Add().compute_mask(None, [m1, None]) is None
    assert layers.Dot(axes=1).compute_mask(None, [m1, m2]) is None


@pytest.mark.parametrize("make, shapes, message", [
    (layers.Add, [(3,), (4,)], r"Inputs have incompatible shapes. Received shapes \(3,\) and "
                               r"\(4,\)"),
    (layers.Concatenate, [(2, 3), (4, 5)], "A `Concatenate` layer requires inputs with "
                                           "matching shapes"),
    (lambda: layers.Dot(axes=1), [(3,), (4,)], "Incompatible input shapes"),
    (layers.Subtract, [(3,), (3,), (3,)], "exactly 2 inputs"),
], ids=["add", "concatenate", "dot", "subtract"])
def test_symbolic_call_on_unmergeable_inputs_fails_at_the_call(make, shapes, message):
    from minikeras import Input

    tensors = [Input(shape) for shape in shapes]
    with pytest.raises(ValueError, match=message):
        make()(tensors)


def test_symbolic_call_gives_the_output_shape():
    from minikeras import Input

    a, b = Input((4, 3)), Input((3,))
    assert layers.add([a, b]).shape == (None, 4, 3)
    assert layers.concatenate([a, a], axis=1).shape == (None, 8, 3)
    assert layers.dot([a, b], axes=(2, 1)).shape == (None, 4)


@pytest.mark.parametrize("cls", [layers.Maximum, layers.Minimum, layers.Multiply])
@pytest.mark.parametrize("which", ["both", "first", "second"])
def test_masked_merges_match_finite_differences(cls, which):
    rng = np.random.default_rng(3)
    xs = [rng.normal(size=(3, 4, 2)) for _ in range(2)]
    m1, m2 = rng.random((3, 4)) > 0.4, rng.random((3, 4)) > 0.4
    mask = {"both": [m1, m2], "first": [m1, None], "second": [None, m2]}[which]
    layer = cls()
    out, cache = layer.forward(xs, mask=mask)
    r = rng.normal(size=out.shape)
    dxs, _ = layer.backward(r, cache)
    for i, (x, dx) in enumerate(zip(xs, dxs, strict=True)):
        check_gradient(lambda _: np.sum(layer.forward(xs, mask=mask)[0] * r), x, dx,
                       name=f"{layer.name} input {i}")


def test_masked_maximum_follows_keras_rule():
    # A masked entry of the second input is replaced by the first, and the other way round.
    a, b = np.array([[[1.0], [5.0], [2.0]]]), np.array([[[3.0], [4.0], [9.0]]])
    out, _ = layers.Maximum().forward([a, b], mask=[np.array([[True, True, False]]),
                                                    np.array([[True, False, True]])])
    np.testing.assert_array_equal(out[0, :, 0], [3.0, 5.0, 9.0])
    out, _ = layers.Multiply().forward([a, b], mask=[np.array([[True, False, False]]),
                                                     np.array([[True, True, False]])])
    np.testing.assert_array_equal(out[0, :, 0], [3.0, 4.0, 0.0])   # masked -> 1; none -> 0
