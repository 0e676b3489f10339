"""Merge layers against Keras: outputs on the same arrays, gradients (TensorFlow's tie
routing in Maximum/Minimum), output shapes on symbolic inputs, error messages, configs."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras

RNG = np.random.default_rng(0)

CASES = [
    ("Add", {}, [(2, 3), (2, 3), (2, 3)]),
    ("Add", {}, [(2, 1), (2, 4)]),
    ("Add", {}, [(2, 3), (2, 4, 3)]),
    ("Subtract", {}, [(2, 4, 3), (2, 1, 3)]),
    ("Multiply", {}, [(2, 3), (2, 3), (2, 3)]),
    ("Average", {}, [(2, 3), (2, 4, 3)]),
    ("Maximum", {}, [(2, 3, 2), (2, 3, 2), (2, 3, 2)]),
    ("Minimum", {}, [(2, 3), (2, 4, 3)]),
    ("Concatenate", {"axis": 1}, [(2, 3, 4), (2, 5, 4)]),
    ("Concatenate", {}, [(2, 3), (2, 5)]),
    ("Dot", {"axes": 1}, [(2, 3), (2, 3)]),
    ("Dot", {"axes": (1, 2)}, [(2, 3, 5), (2, 4, 3)]),
    ("Dot", {"axes": -1, "normalize": True}, [(2, 4, 3), (2, 5, 3)]),
    ("Dot", {"axes": (1, 1)}, [(2, 3), (2, 3, 4)]),
    ("Dot", {"axes": (2, 1)}, [(2, 4, 3), (2, 3)]),
]
IDS = [f"{name}-{'x'.join(str(len(s)) for s in shapes)}-{i}"
       for i, (name, _, shapes) in enumerate(CASES)]


@pytest.mark.parametrize("name, kwargs, shapes", CASES, ids=IDS)
def test_outputs_and_gradients_match_keras(name, kwargs, shapes):
    xs = [RNG.normal(size=s).astype("float32") for s in shapes]
    # Rounded values make ties in Maximum/Minimum, where the routing of the gradient matters.
    if name in ("Maximum", "Minimum"):
        xs = [np.round(x) for x in xs]
    upstream_shape = getattr(minikeras.layers, name)(**kwargs).compute_output_shape(shapes)
    upstream = RNG.normal(size=upstream_shape).astype("float32")

    variables = [tf.Variable(x) for x in xs]
    with tf.GradientTape() as tape:
        expected = getattr(keras.layers, name)(**kwargs)(variables)
        loss = tf.reduce_sum(expected * upstream)
    expected_grads = tape.gradient(loss, variables)

    ours = getattr(minikeras.layers, name)(**kwargs)
    np.testing.assert_allclose(ours(xs), np.asarray(expected), rtol=1e-5, atol=1e-6)
    out, cache = ours.forward(xs)
    dxs, _ = ours.backward(upstream, cache)
    for dx, grad in zip(dxs, expected_grads, strict=True):
        np.testing.assert_allclose(dx, grad.numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name, kwargs, shapes", [
    ("Add", {}, [(None, 3), (None, 4, 3)]),
    ("Multiply", {}, [(None, 1), (None, 5)]),
    ("Concatenate", {"axis": 1}, [(None, 4, 3), (None, 5, 3)]),
    ("Concatenate", {}, [(None, 2), (None, 7)]),
    ("Dot", {"axes": (1, 2)}, [(None, 3, 5), (None, 4, 3)]),
    ("Dot", {"axes": 1}, [(None, 3), (None, 3)]),
])
def test_symbolic_output_shapes_match_keras(name, kwargs, shapes):
    tensors = [keras.Input(batch_shape=s) for s in shapes]
    expected = getattr(keras.layers, name)(**kwargs)(tensors).shape
    assert getattr(minikeras.layers, name)(**kwargs).compute_output_shape(shapes) == expected


@pytest.mark.parametrize("make, inputs", [
    (lambda k: k.layers.Add(), np.ones((2, 3))),
    (lambda k: k.layers.Add(), [np.ones((2, 3)), np.ones((2, 4))]),
    (lambda k: k.layers.Add(), [np.ones((2, 3)), np.ones((3, 3))]),
    (lambda k: k.layers.Subtract(), [np.ones((2, 3))] * 3),
    (lambda k: k.layers.Concatenate(), [np.ones((2, 3, 4)), np.ones((2, 5, 4))]),
    (lambda k: k.layers.Dot(axes=1), [np.ones((2, 3)), np.ones((2, 4))]),
    (lambda k: k.layers.Dot(axes=1), [np.ones((2, 3))] * 3),
], ids=["not_list", "incompatible", "batch", "subtract_three", "concat", "dot", "dot_three"])
def test_error_messages_match_keras(make, inputs):
    with pytest.raises(ValueError) as theirs:
        make(keras)(inputs)
    with pytest.raises(ValueError) as ours:
        make(minikeras)(inputs)
    assert str(ours.value) == str(theirs.value)


def test_dot_batch_axis_error_matches_keras():
    with pytest.raises(ValueError) as theirs:
        keras.layers.Dot(axes=0)([np.ones((2, 3)), np.ones((2, 3))])
    with pytest.raises(ValueError) as ours:
        minikeras.layers.Dot(axes=0)([np.ones((2, 3)), np.ones((2, 3))])
    assert str(ours.value) in str(theirs.value)


@pytest.mark.parametrize("make", [
    lambda k: k.layers.Add(), lambda k: k.layers.Subtract(), lambda k: k.layers.Multiply(),
    lambda k: k.layers.Average(), lambda k: k.layers.Maximum(), lambda k: k.layers.Minimum(),
    lambda k: k.layers.Concatenate(axis=1), lambda k: k.layers.Dot(axes=(1, 2), normalize=True),
])
def test_config_keys_and_values_match_keras(make):
    theirs, ours = make(keras).get_config(), make(minikeras).get_config()
    assert set(theirs) == set(ours)
    for key in set(theirs) - {"name", "dtype"}:
        assert ours[key] == theirs[key], key
