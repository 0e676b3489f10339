"""BatchNormalization and the activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax):
arguments, forward maths, backward against float64 finite differences, masks, configs."""

import numpy as np
import pytest
from gradcheck import check_gradient, check_layer

import minikeras as keras
from minikeras import layers
from minikeras.kernels import batch_norm_fast


@pytest.fixture
def float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


def _away_from_zero(shape, seed=0, margin=0.05):
    """Random values at least `margin` from 0, where the rectifiers have their kinks."""
    x = np.random.default_rng(seed).normal(size=shape)
    return np.where(np.abs(x) < margin, np.sign(x + 1e-12) * margin * 2, x)


# ---------------------------------------------------------------- BatchNormalization


@pytest.mark.parametrize("shape, axis", [((6, 4), -1), ((3, 4, 5, 2), -1), ((3, 2, 4, 5), 1)],
                         ids=["dense", "images_last", "images_first"])
@pytest.mark.parametrize("training", [True, False], ids=["batch_stats", "moving_stats"])
def test_batchnorm_gradients(float64, shape, axis, training):
    layer = layers.BatchNormalization(axis=axis, momentum=0.0)
    x = np.random.default_rng(1).normal(size=shape) * 3 + 1
    layer.build(x.shape)
    rng = np.random.default_rng(2)
    features = shape[axis]
    layer.gamma.assign(rng.uniform(0.5, 1.5, features))
    layer.beta.assign(rng.normal(size=features))
    layer.moving_mean.assign(rng.normal(size=features))
    layer.moving_variance.assign(rng.uniform(0.5, 2, features))
    assert check_layer(layer, x, training=training) < 1e-6


def test_batchnorm_masked_gradients(float64):
    layer = layers.BatchNormalization()
    x = np.random.default_rng(3).normal(size=(3, 5, 4))
    layer.build(x.shape)
    layer.gamma.assign(np.array([0.5, 1.0, 1.5, 2.0]))
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1], [1, 0, 0, 0, 0]], dtype=bool)
    r = np.random.default_rng(4).normal(size=x.shape)

    def loss(inputs):
        return float(np.sum(layer.forward(inputs, training=True, mask=mask)[0] * r))

    out, cache = layer.forward(x, training=True, mask=mask)
    dx, (dgamma, dbeta) = layer.backward(r, cache)
    check_gradient(loss, x, dx, name="dL/dx")
    check_gradient(lambda _: loss(x), layer.gamma.value, dgamma, name="dgamma")
    check_gradient(lambda _: loss(x), layer.beta.value, dbeta, name="dbeta")


def test_batchnorm_masked_statistics_ignore_masked_steps():
    layer = layers.BatchNormalization(momentum=0.0)
    x = np.zeros((1, 4, 1), dtype="float32")
    x[0, :2, 0] = [1.0, 3.0]
    x[0, 2:, 0] = 1000.0                    # masked out: must not move the statistics
    layer.build(x.shape)
    layer.forward(x, training=True, mask=np.array([[True, True, False, False]]))
    np.testing.assert_allclose(layer.moving_mean.numpy(), [2.0], rtol=1e-6)
    np.testing.assert_allclose(layer.moving_variance.numpy(), [1.0], rtol=1e-6)


def test_batchnorm_training_normalises_and_updates_moving_statistics():
    rng = np.random.default_rng(5)
    x = (rng.normal(size=(64, 3)) * [1.0, 2.0, 3.0] + [5.0, -1.0, 0.0]).astype("float32")
    layer = layers.BatchNormalization(momentum=0.9, epsilon=1e-3)
    out, _ = (layer._maybe_build(x.shape), layer.forward(x, training=True))[1]
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.var(axis=0), x.var(axis=0) / (x.var(axis=0) + 1e-3),
                               rtol=1e-4)
    np.testing.assert_allclose(layer.moving_mean.numpy(), 0.1 * x.mean(axis=0), rtol=1e-5)
    np.testing.assert_allclose(layer.moving_variance.numpy(), 0.9 + 0.1 * x.var(axis=0),
                               rtol=1e-5)
    # inference: the moving statistics, whatever the batch
    before = layer.get_weights()
    inference = layer.forward(x[:2], training=False)[0]
    expected = (x[:2] - layer.moving_mean.numpy()) / np.sqrt(
        layer.moving_variance.numpy() + 1e-3)
    np.testing.assert_allclose(inference, expected, rtol=1e-5, atol=1e-6)
    for a, b in zip(before, layer.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_frozen_batchnorm_runs_in_inference_mode_and_returns_no_gradients():
    x = np.random.default_rng(6).normal(size=(8, 3)).astype("float32")
    layer = layers.BatchNormalization()
    layer._maybe_build(x.shape)
    layer.trainable = False
    out, cache = layer.forward(x, training=True)
    np.testing.assert_allclose(out, x / np.sqrt(1 + 1e-3), rtol=1e-6)
    np.testing.assert_array_equal(layer.moving_mean.numpy(), 0)
    dx, grads = layer.backward(np.ones_like(out), cache)
    assert grads == []
    np.testing.assert_allclose(dx, np.full_like(x, 1 / np.sqrt(1 + 1e-3)), rtol=1e-6)


def test_batchnorm_weights_order_and_names():
    layer = layers.BatchNormalization()
    layer._maybe_build((None, 4))
    assert [w.name for w in layer.weights] == ["gamma", "beta", "moving_mean",
                                               "moving_variance"]
    assert [w.name for w in layer.trainable_weights] == ["gamma", "beta"]
    bare = layers.BatchNormalization(center=False, scale=False)
    bare._maybe_build((None, 4))
    assert [w.name for w in bare.weights] == ["moving_mean", "moving_variance"]


@pytest.mark.parametrize("kwargs, message", [
    ({"axis": "x"}, "axis='x'"),
    ({"momentum": None}, "momentum=None"),
    ({"epsilon": 0}, "epsilon=0"),
    ({"renorm": True}, "renorm=True"),
])
def test_batchnorm_bad_arguments(kwargs, message):
    with pytest.raises(ValueError, match=message):
        layers.BatchNormalization(**kwargs)


def test_batchnorm_axis_out_of_range_and_wrong_input():
    with pytest.raises(ValueError, match="Axis 3 is out of bounds"):
        layers.BatchNormalization(axis=3)._maybe_build((None, 4))
    layer = layers.BatchNormalization()
    layer._maybe_build((None, 4))
    with pytest.raises(ValueError, match="incompatible with the layer"):
        layer.forward(np.ones((2, 5), dtype="float32"))


# ---------------------------------------------------------------- activation layers


@pytest.mark.parametrize("make", [
    lambda: layers.ReLU(),
    lambda: layers.ReLU(max_value=1.0),
    lambda: layers.ReLU(negative_slope=0.1, threshold=0.5),
    lambda: layers.LeakyReLU(),
    lambda: layers.LeakyReLU(negative_slope=0.05),
    lambda: layers.ELU(alpha=0.7),
    lambda: layers.Softmax(),
    lambda: layers.Softmax(axis=1),
    lambda: layers.Softmax(axis=[1, 2]),
    lambda: layers.PReLU(alpha_initializer="random_normal"),
    lambda: layers.PReLU(alpha_initializer="random_normal", shared_axes=[1, 2]),
], ids=["relu", "relu_max", "relu_slope_threshold", "leaky", "leaky_slope", "elu",
        "softmax", "softmax_axis1", "softmax_two_axes", "prelu", "prelu_shared"])
def test_activation_layer_gradients(float64, make):
    x = _away_from_zero((3, 4, 5, 2))
    # keep the relu threshold and max_value kinks away from the test points too
    x = np.where(np.abs(x - 0.5) < 0.05, 0.6, x)
    x = np.where(np.abs(x - 1.0) < 0.05, 1.1, x)
    assert check_layer(make(), x) < 1e-6


def test_softmax_mask_gradients_and_zeros(float64):
    layer = layers.Softmax()
    x = np.random.default_rng(7).normal(size=(2, 3, 4))
    mask = np.array([[1, 1, 0, 0], [1, 0, 1, 1], [0, 1, 1, 1]], dtype=bool)  # (3, 4)
    out, cache = layer.forward(x, mask=mask)
    assert np.all(out[:, ~mask] == 0)
    np.testing.assert_allclose(out.sum(axis=-1), 1.0)
    r = np.random.default_rng(8).normal(size=x.shape)
    dx, _ = layer.backward(r, cache)
    check_gradient(lambda v: float(np.sum(layer.forward(v, mask=mask)[0] * r)), x, dx)


def test_activation_layer_maths():
    x = np.array([[-2.0, -0.5, 0.5, 2.0, 8.0]], dtype="float32")
    np.testing.assert_allclose(layers.ReLU(max_value=6)(x), [[0, 0, 0.5, 2, 6]])
    np.testing.assert_allclose(layers.ReLU(negative_slope=0.1, threshold=1.0)(x),
                               [[-0.3, -0.15, -0.05, 2, 8]], rtol=1e-6)
    np.testing.assert_allclose(layers.LeakyReLU()(x), [[-0.6, -0.15, 0.5, 2, 8]], rtol=1e-6)
    np.testing.assert_allclose(layers.ELU(alpha=2.0)(x)[0, :2], 2 * (np.exp([-2, -0.5]) - 1),
                               rtol=1e-6)
    prelu = layers.PReLU(alpha_initializer=keras.initializers.Constant(0.25))
    np.testing.assert_allclose(prelu(x), [[-0.5, -0.125, 0.5, 2, 8]], rtol=1e-6)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.ReLU(max_value=-1), "max_value=-1"),
    (lambda: layers.ReLU(negative_slope=None), "negative_slope=None"),
    (lambda: layers.ReLU(threshold=-0.5), "threshold=-0.5"),
    (lambda: layers.LeakyReLU(negative_slope=-0.1), "negative_slope=-0.1"),
    (lambda: layers.ELU(alpha="big"), "alpha='big'"),
    (lambda: layers.Softmax(axis="last"), "axis='last'"),
    (lambda: layers.PReLU(shared_axes=[0]), r"shared_axes=\[0\]"),
])
def test_activation_layer_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_leaky_relu_alpha_is_deprecated_like_keras():
    with pytest.warns(UserWarning, match="`alpha` is deprecated"):
        layer = layers.LeakyReLU(alpha=0.1)
    assert layer.negative_slope == pytest.approx(0.1)


@pytest.mark.parametrize("make", [
    lambda: layers.BatchNormalization(axis=1, momentum=0.9, center=False),
    lambda: layers.ReLU(max_value=6.0, negative_slope=0.1),
    lambda: layers.LeakyReLU(negative_slope=0.2),
    lambda: layers.PReLU(shared_axes=[1]),
    lambda: layers.ELU(alpha=0.5),
    lambda: layers.Softmax(axis=[1, 2]),
])
def test_configs_round_trip(make):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config


def test_frozen_prelu_returns_no_gradients():
    layer = layers.PReLU()
    x = np.ones((2, 3), dtype="float32")
    layer._maybe_build(x.shape)
    layer.trainable = False
    dx, grads = layer.backward(np.ones_like(x), layer.forward(x)[1])
    assert grads == [] and dx.shape == x.shape


# ------------------------------------------------- Layer, Group and Unit normalization


@pytest.mark.parametrize("make, shape", [
    (lambda: layers.LayerNormalization(), (4, 6)),
    (lambda: layers.LayerNormalization(axis=[1, 2]), (3, 4, 5, 2)),
    (lambda: layers.LayerNormalization(axis=1, center=False), (3, 4, 5)),
    (lambda: layers.GroupNormalization(groups=2), (3, 4, 5, 6)),
    (lambda: layers.GroupNormalization(groups=-1, axis=1, scale=False), (3, 4, 5)),
    (lambda: layers.GroupNormalization(groups=1), (3, 6)),
    (lambda: layers.UnitNormalization(), (4, 6)),
    (lambda: layers.UnitNormalization(axis=[1, 2]), (3, 4, 5)),
], ids=["ln", "ln_two_axes", "ln_axis1_no_center", "gn", "gn_instance_axis1", "gn_one_group",
        "unit", "unit_two_axes"])
def test_normalization_gradients(float64, make, shape):
    layer = make()
    x = np.random.default_rng(9).normal(size=shape) * 2 + 0.3
    layer._maybe_build(x.shape)
    rng = np.random.default_rng(10)
    for weight in layer.trainable_weights:
        weight.assign(rng.uniform(0.5, 1.5, weight.shape))
    assert check_layer(layer, x) < 1e-6


def test_layer_normalization_maths():
    x = np.random.default_rng(11).normal(size=(5, 7)).astype("float32") * 3 + 2
    out = layers.LayerNormalization(epsilon=1e-3)(x)
    expected = (x - x.mean(axis=1, keepdims=True)) / np.sqrt(x.var(axis=1, keepdims=True)
                                                             + 1e-3)
    np.testing.assert_allclose(out, expected, rtol=1e-5, atol=1e-5)


def test_group_normalization_is_layer_norm_per_group():
    x = np.random.default_rng(12).normal(size=(2, 3, 6)).astype("float32")
    out = layers.GroupNormalization(groups=2)(x)
    for g in range(2):
        part = x[..., 3 * g:3 * g + 3]
        mean = part.mean(axis=(1, 2), keepdims=True)
        var = part.var(axis=(1, 2), keepdims=True)
        np.testing.assert_allclose(out[..., 3 * g:3 * g + 3],
                                   (part - mean) / np.sqrt(var + 1e-3), rtol=1e-5, atol=1e-5)


def test_unit_normalization_gives_unit_norms_and_zero_for_zero():
    x = np.array([[3.0, 4.0], [0.0, 0.0]], dtype="float32")
    np.testing.assert_allclose(layers.UnitNormalization()(x), [[0.6, 0.8], [0, 0]])


@pytest.mark.parametrize("make, error, message", [
    (lambda: layers.GroupNormalization(groups=0), ValueError, "groups=0"),
    (lambda: layers.GroupNormalization(groups=4)._maybe_build((None, 6)), ValueError,
     "must be a multiple"),
    (lambda: layers.GroupNormalization(groups=8)._maybe_build((None, 6)), ValueError,
     "cannot be more than"),
    (lambda: layers.LayerNormalization(axis="last"), TypeError, "axis='last'"),
    (lambda: layers.LayerNormalization(axis=2)._maybe_build((None, 6)), ValueError,
     "out of bounds"),
    (lambda: layers.UnitNormalization(axis=1.5), TypeError, "axis=1.5"),
    (lambda: layers.LayerNormalization(epsilon=-1), ValueError, "epsilon=-1"),
])
def test_normalization_bad_arguments(make, error, message):
    with pytest.raises(error, match=message):
        make()


# ------------------------------------------------------------- Normalization (adapt)


def test_normalization_adapt_standardises_features():
    x = np.random.default_rng(13).normal(size=(200, 3)) * [1.0, 5.0, 0.1] + [0.0, 3.0, -2.0]
    layer = layers.Normalization()
    layer.adapt(x)
    out = layer(x.astype("float32"))
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-5)
    np.testing.assert_allclose(out.std(axis=0), 1, rtol=1e-4)
    assert [w.name for w in layer.weights] == ["mean", "variance", "count"]
    assert layer.trainable_weights == []


def test_normalization_adapt_on_batches_equals_adapt_on_all():
    x = np.random.default_rng(14).normal(size=(50, 4, 2))
    whole, batched = layers.Normalization(axis=(1, 2)), layers.Normalization(axis=(1, 2))
    whole.adapt(x)
    batched.adapt([x[:7], x[7:30], x[30:]])
    for a, b in zip(whole.get_weights(), batched.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_normalization_fixed_statistics_and_invert():
    layer = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0])
    x = np.array([[3.0, 8.0]], dtype="float32")
    np.testing.assert_allclose(layer(x), [[1.0, 2.0]])
    assert layer.weights == []
    back = layers.Normalization(mean=[1.0, 2.0], variance=[4.0, 9.0], invert=True)
    np.testing.assert_allclose(back(np.array([[1.0, 2.0]], dtype="float32")), [[3.0, 8.0]])


def test_normalization_gradient(float64):
    layer = layers.Normalization(mean=[1.0, 2.0, 0.5], variance=[4.0, 9.0, 0.25])
    assert check_layer(layer, np.random.default_rng(15).normal(size=(4, 3))) < 1e-6


@pytest.mark.parametrize("call, error, message", [
    (lambda: layers.Normalization().adapt(np.zeros((0, 3))), ValueError, "at least one value"),
    (lambda: layers.Normalization().adapt(np.array([["a", "b"]])), TypeError, "needs numbers"),
    (lambda: layers.Normalization().adapt([]), ValueError, "empty iterable"),
    (lambda: layers.Normalization(mean=1.0), ValueError, "both `mean` and `variance`"),
    (lambda: layers.Normalization(axis=3).adapt(np.ones((2, 3))), ValueError,
     "range \\[-ndim, ndim\\)"),
    (lambda: layers.Normalization(axis="x"), ValueError, "axis='x'"),
])
def test_normalization_bad_input(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_normalization_adapt_rejects_other_feature_sizes():
    layer = layers.Normalization()
    layer.adapt(np.ones((4, 3)))
    with pytest.raises(ValueError, match="incompatible shape"):
        layer.adapt(np.ones((4, 5)))


@pytest.mark.parametrize("training", [True, False], ids=["batch_stats", "moving_stats"])
def test_batchnorm_rows_path_equals_the_general_path(float64, training, monkeypatch):
    """Features last without a mask run on the (rows, features) view (_forward_rows); the
    same layer on the channels-first transpose runs the general code: they must agree."""
    monkeypatch.setattr(batch_norm_fast, "FAST_MIN_ELEMENTS", 1)     # small x: rows path too
    rng = np.random.default_rng(16)
    x = rng.normal(size=(4, 3, 5, 6)) * 2 + 1
    last, first = layers.BatchNormalization(momentum=0.5), layers.BatchNormalization(
        axis=1, momentum=0.5)
    last._maybe_build(x.shape)
    first._maybe_build((4, 6, 3, 5))
    weights = [rng.uniform(0.5, 1.5, 6) for _ in range(4)]
    last.set_weights(weights)
    first.set_weights(weights)
    to_first = (0, 3, 1, 2)
    out, cache = last.forward(x, training=training)
    out_first, cache_first = first.forward(x.transpose(to_first), training=training)
    assert isinstance(cache[0], str) and not isinstance(cache_first[0], str)
    np.testing.assert_allclose(out.transpose(to_first), out_first, rtol=1e-12, atol=1e-12)
    dout = rng.normal(size=x.shape)
    dx, grads = last.backward(dout, cache)
    dx_first, grads_first = first.backward(dout.transpose(to_first), cache_first)
    np.testing.assert_allclose(dx.transpose(to_first), dx_first, rtol=1e-10, atol=1e-12)
    for a, b in zip(grads, grads_first):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    for a, b in zip(last.get_weights(), first.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-12)
