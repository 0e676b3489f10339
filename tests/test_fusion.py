"""Pooling before relu (models/fusion.py): the graph executor applies a convolution's relu
after the max pooling that follows it. Results must be bit-identical to running the layers
as written, and the rewrite must happen only where it is exact."""

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.kernels import conv_batch_norm
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


def train(model, x, y, epochs=2):
    """History and final weights of some epochs of SGD from fixed weights."""
    model.compile(loss="mse", optimizer="sgd")
    history = model.fit(x, y, batch_size=4, epochs=epochs, verbose=0, shuffle=False)
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


# --------------------------------------- 2. BatchNormalization statistics from im2col


def conv_bn_model(conv, channels=1, dtype="float64"):
    shape = (11, 10, channels) if isinstance(conv, layers.Conv2D) else (13, channels)
    return minikeras.Sequential([
        minikeras.Input(shape, dtype=dtype), conv,
        layers.BatchNormalization(momentum=0.9, epsilon=1e-3),
        layers.Flatten(), layers.Dense(2),
    ])


def train_both_ways(monkeypatch, make, x, y, epochs=3):
    """(fused, unfused) results of the same training from the same weights."""
    model = make()
    start = model.get_weights()
    fused = train(model, x, y, epochs)
    without_fusion(monkeypatch)
    plain = make()
    assert all(kind is None for kind in fused_kinds(plain))
    plain.set_weights(start)
    return fused, train(plain, x, y, epochs)


@pytest.mark.parametrize("make_conv,channels", [
    (lambda: layers.Conv2D(5, 3, use_bias=False), 1),
    (lambda: layers.Conv2D(4, 3, strides=2, padding="same"), 3),      # a bias: zero gradient
    (lambda: layers.Conv2D(3, (2, 3), dilation_rate=(1, 2), use_bias=False), 2),
    (lambda: layers.Conv1D(4, 3, padding="causal"), 2),
    (lambda: layers.Conv2D(4, 1, use_bias=False), 3),                    # 1x1: cols is x
])
# inputs off zero (the backward's product then runs on centred copies of the im2col
# blocks) and around it (one channel: on the im2col matrix as stored, centred afterwards)
@pytest.mark.parametrize("offset", [3.0, -0.5])
def test_normalization_after_a_conv_trains_as_written(monkeypatch, make_conv, channels, offset):
    """float64 throughout: the algebra from the im2col matrix gives the same History,
    weights, moving statistics and predictions as the two layers run one by one."""
    minikeras.config.set_floatx("float64")
    try:
        def make():
            return conv_bn_model(make_conv(), channels)
        model = make()
        assert fused_kinds(model)[:2] == [fusion.CONV_BEFORE_NORMALIZATION,
                                          fusion.NORMALIZATION_AFTER_CONV]
        rng = np.random.default_rng(5)
        # an input off zero mean (far off: see test_statistics_from_im2col_stay_exact_far_off_zero)
        x = offset + rng.random((12, *model.input_shape[1:]))
        y = rng.standard_normal((12, 2))
        fused, unfused = train_both_ways(monkeypatch, make, x, y)
    finally:
        minikeras.config.set_floatx("float32")
    np.testing.assert_allclose(fused[0], unfused[0], rtol=1e-10)
    for got, want in zip(fused[1], unfused[1], strict=True):     # moving statistics too
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(fused[2], unfused[2], rtol=1e-9, atol=1e-12)


def test_normalization_after_a_conv_in_float32_agrees_to_rounding(monkeypatch):
    def make():
        return conv_bn_model(layers.Conv2D(8, 3, use_bias=False), dtype="float32")
    rng = np.random.default_rng(6)
    x = rng.random((16, 11, 10, 1)).astype("float32")
    y = rng.standard_normal((16, 2)).astype("float32")
    fused, unfused = train_both_ways(monkeypatch, make, x, y)
    np.testing.assert_allclose(fused[0], unfused[0], rtol=1e-5)
    for got, want in zip(fused[1], unfused[1], strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-6)


def test_the_pair_gives_its_input_gradient_when_asked():
    """Nested in a model whose own input gradient is wanted, the conv of the pair must
    return dL/dx: it makes dL/dz then, and the result equals the unfused layers'."""
    inner = conv_bn_model(layers.Conv2D(3, 3, use_bias=False), channels=2)
    assert fused_kinds(inner)[:2] == [fusion.CONV_BEFORE_NORMALIZATION,
                                      fusion.NORMALIZATION_AFTER_CONV]
    rng = np.random.default_rng(7)
    x = rng.random((4, 11, 10, 2)).astype("float32")
    outputs, tape = inner._graph.forward([x], training=True)
    dout = rng.standard_normal(outputs[0].shape).astype("float32")
    moving = inner.layers[1].get_weights()
    dx_fused, grads_fused = inner._graph.backward([dout], tape, need_input_gradient=True)
    for step in inner._graph.steps:
        step.fusion, step.simple = None, True
    inner.layers[1].set_weights(moving)
    outputs_plain, tape_plain = inner._graph.forward([x], training=True)
    dx_plain, grads_plain = inner._graph.backward([dout], tape_plain, need_input_gradient=True)
    np.testing.assert_allclose(outputs[0], outputs_plain[0], rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx_fused[0], dx_plain[0], rtol=1e-3, atol=1e-5)
    for layer in grads_plain:
        for got, want in zip(grads_fused[layer], grads_plain[layer], strict=True):
            np.testing.assert_allclose(got, want, rtol=1e-3, atol=1e-5)


def test_outside_training_or_frozen_the_pair_runs_as_written(monkeypatch):
    model = conv_bn_model(layers.Conv2D(3, 3), dtype="float32")
    rng = np.random.default_rng(8)
    x = rng.random((6, 11, 10, 1)).astype("float32")
    y = rng.standard_normal((6, 2)).astype("float32")
    model.compile(loss="mse", optimizer="sgd")
    model.fit(x, y, epochs=1, verbose=0)
    prediction = model.predict(x, verbose=0)
    model.layers[1].trainable = False            # frozen: inference mode, as in Keras 3
    model.compile(loss="mse", optimizer="sgd")
    moving = model.layers[1].get_weights()
    model.fit(x, y, epochs=1, verbose=0)
    for got, want in zip(model.layers[1].get_weights(), moving, strict=True):
        np.testing.assert_array_equal(got, want)
    without_fusion(monkeypatch)
    plain = conv_bn_model(layers.Conv2D(3, 3), dtype="float32")
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0),
                               rtol=1e-6)
    assert prediction.shape == (6, 2)


@pytest.mark.parametrize("make_pair", [
    lambda: [layers.Conv2D(3, 3, activation="relu"), layers.BatchNormalization()],
    lambda: [layers.Conv2D(3, 3), layers.BatchNormalization(axis=1)],
    lambda: [layers.Conv2D(3, 5, use_bias=False), layers.BatchNormalization()],   # 100 taps
])
def test_the_normalization_rewrite_only_where_it_is_exact_and_pays(make_pair):
    model = minikeras.Sequential([minikeras.Input((8, 8, 4)), *make_pair()])
    assert fused_kinds(model) == [None, None]


def test_statistics_from_im2col_stay_exact_far_off_zero():
    """Images 10^4 away from zero: the mean, variance and gradients from the im2col matrix
    (kernels/conv_batch_norm.py, centred on a guess of the column means) match the textbook
    formulas evaluated in extended precision to 1e-9, where E[z^2] - E[z]^2 would lose
    everything."""
    rng = np.random.default_rng(9)
    m, k, f = 1200, 9, 5
    cols = 1e4 + rng.random((m, k))
    kernel = 0.3 * rng.standard_normal((k, f))
    bias = rng.standard_normal(f)
    gamma = rng.random(f) + 0.5
    dy = rng.standard_normal((m, f))

    exact = np.longdouble
    z = cols.astype(exact) @ kernel.astype(exact) + bias
    mean = z.mean(axis=0)
    var = ((z - mean) ** 2).mean(axis=0)
    rstd = 1 / np.sqrt(var + exact(1e-3))
    x_hat = (z - mean) * rstd
    dbeta = dy.sum(axis=0)
    dgamma = (dy * x_hat).sum(axis=0)
    dz = gamma * rstd * (dy - dbeta / m - x_hat * dgamma / m)
    dkernel = cols.astype(exact).T @ dz

    t, s, gram = conv_batch_norm.cols_moments(cols)
    got_mean, got_var, z0 = conv_batch_norm.statistics(t, s, gram, m, kernel, bias)
    got_rstd = 1 / np.sqrt(got_var + 1e-3)
    product, got_dbeta = conv_batch_norm.product_and_sum(cols, t, dy)
    got_dgamma, got_dkernel, _, _ = conv_batch_norm.backward(
        product, got_dbeta, s, gram, m, kernel, z0, got_mean, got_rstd, gamma * got_rstd)
    for got, want in ((got_mean, mean), (got_var, var), (got_dbeta, dbeta),
                      (got_dgamma, dgamma), (got_dkernel, dkernel)):
        want = want.astype(np.float64)
        assert np.abs(got - want).max() <= 1e-9 * np.abs(want).max()


@pytest.mark.parametrize("make_relu", [lambda: layers.ReLU(), lambda: layers.Activation("relu")])
def test_a_relu_layer_before_max_pooling_moves_after_it(monkeypatch, make_relu):
    def make():
        return minikeras.Sequential([
            minikeras.Input((6, 6, 2), dtype="float64"), layers.Conv2D(3, 3, padding="same"),
            make_relu(), layers.MaxPooling2D(2), layers.Flatten(), layers.Dense(1)])

    model = make()
    assert fused_kinds(model)[1:3] == [fusion.RELU_MOVED, fusion.RELU_AFTER]
    rng = np.random.default_rng(10)
    x = np.round(rng.standard_normal((4, 6, 6, 2)), 1)
    assert_fusion_changes_nothing(monkeypatch, make, x, rng.standard_normal((4, 1)))


@pytest.mark.parametrize("make_relu", [lambda: layers.ReLU(max_value=6),
                                       lambda: layers.ReLU(negative_slope=0.1),
                                       lambda: layers.Activation("tanh")])
def test_other_activation_layers_stay_before_the_pooling(make_relu):
    model = minikeras.Sequential([minikeras.Input((6, 6, 2)), make_relu(),
                                  layers.MaxPooling2D(2)])
    assert fused_kinds(model) == [None, None]
