"""Functional (graph) models against Keras: same initial weights (Keras's, copied), shuffle=False,
every History value within rtol epoch by epoch, and evaluate() in Keras's order.

Cases: a layer shared by two calls, fan-out to two outputs with a dict of losses and
loss_weights, a two-input model, a Sequential nested in a functional model (called twice, a
siamese tower), and a frozen sub-model. Merge layers belong to another module; the two-input
case joins its branches with Keras's Add and, on minikeras, with a small sum layer defined here.
"""

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair
from minikeras.layers.layer import Layer

RNG = np.random.default_rng(7)
XA = RNG.normal(size=(48, 4)).astype("float32")
XB = RNG.normal(size=(48, 3)).astype("float32")
Y_BIN = (XA[:, 0] * XA[:, 1] + 0.4 * XB[:, 0] > 0).astype("float32")
Y_REG = np.stack([XA[:, 0] - XB[:, 1], XA[:, 2] * 0.5], axis=1).astype("float32")


class _Sum(Layer):
    """x0 + x1: stands in for Keras's Add until minikeras has merge layers."""

    def forward(self, x, training=False):
        return x[0] + x[1], None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return [dout, dout], []

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def _add(k, name):
    return k.layers.Add(name=name) if k is keras else _Sum(name=name)


def shared_layer_model(k):
    inputs = k.Input((4,), name="x")
    shared = k.layers.Dense(4, activation="tanh", name="shared")
    h = shared(shared(k.layers.Dense(4, activation="relu", name="first")(inputs)))
    return k.Model(inputs, k.layers.Dense(1, activation="sigmoid", name="out")(h))


def two_output_model(k):
    inputs = k.Input((4,), name="x")
    h = k.layers.Dense(6, activation="relu", name="trunk")(inputs)     # fans out to both heads
    label = k.layers.Dense(1, activation="sigmoid", name="label")(h)
    value = k.layers.Dense(2, name="value")(k.layers.Dense(4, activation="tanh", name="v1")(h))
    return k.Model(inputs, [label, value])


def two_input_model(k):
    a = k.Input((4,), name="a")
    b = k.Input((3,), name="b")
    ha = k.layers.Dense(5, activation="relu", name="ha")(a)
    hb = k.layers.Dense(5, activation="tanh", name="hb")(b)
    joined = _add(k, "join")([ha, hb])
    return k.Model([a, b], k.layers.Dense(1, activation="sigmoid", name="out")(joined))


def siamese_model(k):
    tower = k.Sequential([k.Input((4,)), k.layers.Dense(5, activation="tanh", name="t1"),
                          k.layers.Dense(3, activation="relu", name="t2")], name="tower")
    left = k.Input((4,), name="left")
    right = k.Input((4,), name="right")
    joined = _add(k, "join")([tower(left), tower(right)])
    return k.Model([left, right], k.layers.Dense(1, activation="sigmoid", name="out")(joined))


def frozen_block_model(k):
    block_in = k.Input((4,))
    block = k.Model(block_in, k.layers.Dense(6, activation="relu", name="pre")(block_in),
                    name="block")
    inputs = k.Input((4,), name="x")
    h = k.layers.Dense(4, activation="tanh", name="new")(block(inputs))
    model = k.Model(inputs, k.layers.Dense(1, activation="sigmoid", name="out")(h))
    block.trainable = False
    return model


XR = np.concatenate([XA, XA[::-1] * 0.5], axis=0)[:48]   # the siamese pair's right half

CASES = {
    "shared_layer": (shared_layer_model, XA, Y_BIN,
                     dict(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])),
    "two_outputs": (two_output_model, XA, [Y_BIN, Y_REG],
                    dict(loss={"label": "binary_crossentropy", "value": "mse"},
                         loss_weights={"label": 0.7, "value": 1.5}, optimizer="adam",
                         metrics={"label": ["accuracy"], "value": ["mae"]})),
    "two_inputs": (two_input_model, [XA, XB], Y_BIN,
                   dict(loss="binary_crossentropy", optimizer="rmsprop", metrics=["accuracy"])),
    "siamese": (siamese_model, [XA, XR], Y_BIN,
                dict(loss="binary_crossentropy", optimizer="adam")),
    "frozen_block": (frozen_block_model, XA, Y_BIN,
                     dict(loss="binary_crossentropy", optimizer="sgd", metrics=["accuracy"])),
}


@pytest.fixture(scope="module")
def trained():
    """Each case fitted once on both engines (5 epochs, batch 16, 25% validation)."""
    results = {}
    for name, (build, x, y, compile_kwargs) in CASES.items():
        reference, ours = build_pair(build)
        reference.compile(**compile_kwargs)
        ours.compile(**compile_kwargs)
        fit = dict(epochs=5, batch_size=16, verbose=0, shuffle=False, validation_split=0.25)
        initial = ours.get_weights()
        ref_history = reference.fit(x, y, **fit).history
        our_history = ours.fit(x, y, **fit).history
        results[name] = (reference, ours, ref_history, our_history, initial)
    return results


@pytest.mark.parametrize("case", sorted(CASES))
def test_history_matches_keras(trained, case):
    reference, ours, ref_history, our_history, _ = trained[case]
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert list(our_history) == list(ref_history)
    assert_histories_close(ref_history, our_history, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("case", sorted(CASES))
def test_weights_and_evaluate_match_keras(trained, case):
    reference, ours, _, _, _ = trained[case]
    for a, b in zip(ours.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-3, atol=1e-5)
    _, x, y, _ = CASES[case]
    ref_values = reference.evaluate(x, y, verbose=0)
    our_values = ours.evaluate(x, y, verbose=0)
    np.testing.assert_allclose(our_values, ref_values, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.predict(x, verbose=0) if case != "two_outputs" else
                               ours.predict(x, verbose=0)[1],
                               reference.predict(x, verbose=0) if case != "two_outputs" else
                               reference.predict(x, verbose=0)[1], rtol=1e-4, atol=1e-5)


def test_frozen_sub_model_kept_its_weights(trained):
    reference, ours, _, _, initial = trained["frozen_block"]
    block = ours.get_layer("block")
    assert [w.path for w in ours.trainable_weights] == \
        [w.path for w in reference.trainable_weights]
    for a, b in zip(block.get_weights(), initial[:2]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_allclose(ours.get_layer("block").get_weights()[0],
                               reference.get_layer("block").get_weights()[0], rtol=0, atol=0)


def test_evaluate_order_with_two_outputs(trained):
    reference, ours, _, _, _ = trained["two_outputs"]
    _, x, y, _ = CASES["two_outputs"]
    assert ours.evaluate(x, y, verbose=0, return_dict=True).keys() == \
        reference.evaluate(x, y, verbose=0, return_dict=True).keys()
    assert isinstance(minikeras.Model(ours.input, ours.output), minikeras.Model)


class _ZeroMask(Layer):
    """Keras's Masking(mask_value=0.0) for inputs whose masked steps are all zeros: stands in
    until minikeras has a Masking layer. Output = input; mask = any feature non-zero."""

    def forward(self, x, training=False):
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []

    def compute_mask(self, inputs, previous_mask):
        return np.any(inputs != 0, axis=-1)


def masked_sequence_model(k):
    inputs = k.Input((5, 3), name="steps")
    masked = k.layers.Masking(0.0, name="mask") if k is keras else _ZeroMask(name="mask")
    h = k.layers.Dense(4, activation="tanh", name="per_step")(masked(inputs))
    return k.Model(inputs, k.layers.Dense(1, name="out")(h))


def test_masked_steps_weigh_nothing_in_loss_and_metrics_as_in_keras():
    rng = np.random.default_rng(11)
    x = rng.normal(size=(24, 5, 3)).astype("float32")
    lengths = rng.integers(2, 6, size=24)
    x[np.arange(5)[None, :] >= lengths[:, None]] = 0.0        # padding after each length
    y = rng.normal(size=(24, 5, 1)).astype("float32")
    reference, ours = build_pair(masked_sequence_model)
    compile_kwargs = dict(loss="mse", optimizer="adam", metrics=["mae"])
    reference.compile(**compile_kwargs)
    ours.compile(**compile_kwargs)
    fit = dict(epochs=4, batch_size=8, verbose=0, shuffle=False)
    ref_history = reference.fit(x, y, **fit).history
    our_history = ours.fit(x, y, **fit).history
    assert_histories_close(ref_history, our_history, rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0),
                               reference.evaluate(x, y, verbose=0), rtol=1e-4)
