"""Pooling before relu (models/fusion.py): the graph executor applies a convolution's relu
after the max pooling that follows it. Results must be bit-identical to running the layers
as written, and the rewrite must happen only where it is exact."""

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.models import fusion


def fused_kinds(model):
    return [step.fusion for step in model._graph.steps]


def without_fusion(monkeypatch):
    monkeypatch.setattr(fusion, "mark", lambda steps, users, output_slots: None)


def conv2d_model(dtype, data_format="channels_last", pool=None):
    shape = (9, 8, 2) if data_format == "channels_last" else (2, 9, 8)
    return minikeras.Sequential([
        minikeras.Input(shape, dtype=dtype),
        layers.Conv2D(4, 3, padding="same", activation="relu", data_format=data_format),
        pool or layers.MaxPooling2D(2, padding="same", data_format=data_format),
        layers.Conv2D(3, 2, activation="relu", data_format=data_format),
        layers.GlobalMaxPooling2D(data_format=data_format),
        layers.Dense(2),
    ])


def conv1d_model(dtype):
    return minikeras.Sequential([
        minikeras.Input((12, 3), dtype=dtype),
        layers.Conv1D(5, 3, activation="relu", padding="causal"),
        layers.MaxPooling1D(2),
        layers.Conv1D(4, 2, activation="relu"),
        layers.GlobalMaxPooling1D(),
        layers.Dense(2),
    ])


def train(model, x, y):
    """History and final weights of two epochs of SGD from fixed weights."""
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    return history.history["loss"], model.get_weights(), model.predict(x, verbose=0)


def assert_fusion_changes_nothing(monkeypatch, make, x, y, start=None):
    """Trains make() fused, then a fresh make() with fusion off, from the same weights:
    History, weights and predictions must be bit-identical."""
    model = make()
    start = model.get_weights() if start is None else start
    model.set_weights(start)
    fused = train(model, x, y)
    without_fusion(monkeypatch)
    plain = make()
    assert all(kind is None for kind in fused_kinds(plain))
    plain.set_weights(start)
    unfused = train(plain, x, y)
    np.testing.assert_array_equal(fused[0], unfused[0])
    for got, want in zip(fused[1], unfused[1], strict=True):
        np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(fused[2], unfused[2])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("make", [
    conv1d_model, conv2d_model,
    lambda dtype: conv2d_model(dtype, data_format="channels_first")])
def test_fused_training_is_bit_identical(monkeypatch, make, dtype):
    rng = np.random.default_rng(0)
    model = make(dtype)
    x = rng.standard_normal((8, *model.input_shape[1:])).astype(dtype)
    # rounded inputs and weights make tied maxima and all-negative windows common
    x = np.round(x, 1)
    start = [np.round(w, 1) for w in model.get_weights()]
    y = rng.standard_normal((8, 2)).astype(dtype)
    assert fused_kinds(model)[:2] == [fusion.PREACTIVATION, fusion.RELU_AFTER]
    assert fused_kinds(model)[2:4] == [fusion.PREACTIVATION, fusion.RELU_AFTER]
    assert_fusion_changes_nothing(monkeypatch, lambda: make(dtype), x, y, start)


def test_gradients_agree_where_windows_tie_or_are_all_negative(monkeypatch):
    """A zero kernel makes every conv output its bias: windows of equal values, all negative
    for some filters (relu kills their gradient) and positive for others (a tie: the first
    pixel of the window takes the gradient)."""
    def model_and_grads():
        model = minikeras.Sequential([
            minikeras.Input((4, 4, 1), dtype="float64"),
            layers.Conv2D(2, 1, activation="relu", kernel_initializer="zeros"),
            layers.MaxPooling2D(2),
            layers.Flatten(),
            layers.Dense(1, kernel_initializer="ones"),
        ])
        model.layers[0].bias.assign(np.array([-0.5, 0.5]))
        x = np.ones((2, 4, 4, 1))
        outputs, tape = model._graph.forward([x], training=True)
        _, grads = model._graph.backward([np.ones_like(outputs[0])], tape)
        return model, outputs[0], grads[model.layers[0]]

    model, out, fused_grads = model_and_grads()
    assert fused_kinds(model)[:2] == [fusion.PREACTIVATION, fusion.RELU_AFTER]
    without_fusion(monkeypatch)
    _, plain_out, plain_grads = model_and_grads()
    np.testing.assert_array_equal(out, plain_out)
    for got, want in zip(fused_grads, plain_grads, strict=True):
        np.testing.assert_array_equal(got, want)
    # the negative filter gets no gradient, the positive one a gradient per window
    assert fused_grads[1][0] == 0 and fused_grads[1][1] == 2 * 4


@pytest.mark.parametrize("activation", ["relu6", "leaky_relu", "tanh", None])
def test_only_the_plain_relu_is_moved(activation):
    model = minikeras.Sequential([
        minikeras.Input((6, 6, 1)),
        layers.Conv2D(2, 3, activation=activation),
        layers.MaxPooling2D(2),
    ])
    assert fused_kinds(model) == [None, None]


def test_average_pooling_and_activity_regularizers_are_left_alone():
    average = minikeras.Sequential([
        minikeras.Input((6, 6, 1)),
        layers.Conv2D(2, 3, activation="relu"),
        layers.AveragePooling2D(2),
    ])
    regularized = minikeras.Sequential([
        minikeras.Input((6, 6, 1)),
        layers.Conv2D(2, 3, activation="relu", activity_regularizer="l2"),
        layers.MaxPooling2D(2),
    ])
    assert fused_kinds(average) == [None, None]
    assert fused_kinds(regularized) == [None, None]


def test_a_relu_output_seen_elsewhere_is_not_moved():
    """The conv's relu'd output is also a model output, or also feeds another layer: those
    must see relu'd values, so the relu stays where it is."""
    inputs = minikeras.Input((6, 6, 1))
    conv = layers.Conv2D(2, 3, activation="relu")(inputs)
    pooled = layers.MaxPooling2D(2)(conv)
    as_output = minikeras.Model(inputs, [pooled, conv])
    fan_out = minikeras.Model(inputs, [pooled, layers.Flatten()(conv)])
    for model in (as_output, fan_out):
        assert all(kind is None for kind in fused_kinds(model))
    x = np.random.default_rng(1).standard_normal((2, 6, 6, 1))
    assert as_output.predict(x, verbose=0)[1].min() >= 0     # relu'd


def test_a_graph_with_masks_still_fuses_the_layers_that_ignore_them(monkeypatch):
    """Embedding(mask_zero=True) makes a mask; Conv1D drops it and GlobalMaxPooling1D does
    not read masks (as in Keras), so the pair fuses and training is unchanged."""
    def make():
        return minikeras.Sequential([
            minikeras.Input((10,), dtype="int32"),
            layers.Embedding(20, 4, mask_zero=True),
            layers.Conv1D(6, 3, activation="relu", padding="same"),
            layers.GlobalMaxPooling1D(),
            layers.Dense(1, activation="sigmoid"),
        ])

    rng = np.random.default_rng(3)
    x = rng.integers(0, 20, (8, 10))
    x[:, 7:] = 0                                         # padded ends
    y = rng.integers(0, 2, (8, 1)).astype("float32")
    model = make()
    assert model._graph.uses_masks
    assert fused_kinds(model)[1:3] == [fusion.PREACTIVATION, fusion.RELU_AFTER]
    assert_fusion_changes_nothing(monkeypatch, make, x, y)


@pytest.mark.parametrize("make_layer", [
    lambda: layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="relu"),
    lambda: layers.Conv2D(3, 3, padding="same", activation="relu"),
])
def test_every_fusable_conv_runs_its_own_convolution(monkeypatch, make_layer):
    """Conv2DTranspose is a Conv2D subclass: fused, it must still run its own (transposed)
    convolution, not Conv2D's."""
    def make():
        return minikeras.Sequential([minikeras.Input((5, 5, 2), dtype="float64"), make_layer(),
                                     layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1)])

    rng = np.random.default_rng(4)
    x = rng.standard_normal((4, 5, 5, 2))
    y = rng.standard_normal((4, 1))
    model = make()
    assert fused_kinds(model)[:2] == [fusion.PREACTIVATION, fusion.RELU_AFTER]
    assert_fusion_changes_nothing(monkeypatch, make, x, y)
