"""Core layers (Dense, Dropout, Flatten, Reshape, Activation, Input): arguments, shapes,
forward maths, backward against finite differences, configs."""

import numpy as np
import pytest
from gradcheck import numerical_gradient

import minikeras as keras
from minikeras import layers


@pytest.fixture
def float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


# ------------------------------------------------------------------ Dense


@pytest.mark.parametrize("shape", [(5, 3), (2, 4, 3)], ids=["rank2", "rank3"])
@pytest.mark.parametrize("activation", ["tanh", "relu", None])
def test_dense_gradients_match_finite_differences(float64, shape, activation):
    rng = np.random.default_rng(0)
    layer = layers.Dense(4, activation=activation)
    x = rng.normal(size=shape)
    layer.build(x.shape)
    layer.bias.value[...] = rng.normal(size=4)
    upstream = rng.normal(size=shape[:-1] + (4,))

    def objective(_=None):  # numerical_gradient passes the array it nudges
        return float(np.sum(layer.forward(x)[0] * upstream))

    out, cache = layer.forward(x)
    dx, (dkernel, dbias) = layer.backward(upstream, cache)
    np.testing.assert_allclose(dx, numerical_gradient(objective, x), rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dkernel, numerical_gradient(objective, layer.kernel.value),
                               rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(dbias, numerical_gradient(objective, layer.bias.value),
                               rtol=1e-5, atol=1e-7)


def test_dense_backward_does_not_modify_the_incoming_gradient():
    layer = layers.Dense(3, activation="relu")
    x = np.random.default_rng(1).normal(size=(4, 2)).astype("float32")
    layer.build(x.shape)
    out, cache = layer.forward(x)
    upstream = np.ones_like(out)
    layer.backward(upstream, cache)
    np.testing.assert_array_equal(upstream, np.ones_like(out))


def test_dense_every_argument():
    layer = layers.Dense(
        3, activation="sigmoid", use_bias=False, kernel_initializer="ones",
        bias_initializer="zeros", kernel_regularizer="l2", bias_regularizer="l1",
        activity_regularizer="l2", kernel_constraint="non_neg", bias_constraint="max_norm",
        name="my_dense", trainable=False, dtype="float64")
    assert layer(np.ones((2, 4))).shape == (2, 3)
    assert [w.name for w in layer.weights] == ["kernel"] and layer.bias is None
    assert layer.kernel.dtype == "float64" and not layer.trainable_weights
    config = layer.get_config()
    assert config["units"] == 3 and config["use_bias"] is False and config["name"] == "my_dense"
    clone = layers.Dense.from_config(config)
    assert clone.get_config() == config


def test_dense_output_shape_and_legacy_input_arguments():
    assert layers.Dense(5).compute_output_shape((None, 2, 7)) == (None, 2, 5)
    assert keras.Sequential([layers.Dense(2, input_dim=3)]).input_shape == (None, 3)
    assert keras.Sequential([layers.Dense(2, input_shape=(4, 3))]).output_shape == (None, 4, 2)


# ------------------------------------------------------------------ Dropout


def test_dropout_only_in_training_with_inverted_scaling():
    x = np.ones((200, 50), dtype="float32")
    layer = layers.Dropout(0.25, seed=3)
    np.testing.assert_array_equal(layer(x), x)                  # inference: identity
    out = layer(x, training=True)
    kept = out != 0
    assert set(np.unique(out)) == {0.0, np.float32(1 / 0.75)}
    assert kept.mean() == pytest.approx(0.75, abs=0.01)
    assert out.mean() == pytest.approx(1.0, abs=0.02)           # expectation preserved


def test_dropout_same_seed_same_masks_and_backward_uses_the_mask():
    x = np.arange(60, dtype="float32").reshape(6, 10) + 1
    first, second = layers.Dropout(0.5, seed=42), layers.Dropout(0.5, seed=42)
    out_a, mask_a = first.forward(x, training=True)
    out_b, _ = second.forward(x, training=True)
    np.testing.assert_array_equal(out_a, out_b)
    dx, grads = first.backward(np.ones_like(x), mask_a)
    np.testing.assert_array_equal(dx != 0, out_a != 0)
    assert grads == []


def test_dropout_noise_shape_broadcasts_the_mask():
    out = layers.Dropout(0.5, noise_shape=(None, 1, 4), seed=0)(
        np.ones((3, 5, 4), dtype="float32"), training=True)
    assert np.all(out == out[:, :1, :])


# ------------------------------------------------------------------ Flatten / Reshape / Activation


def test_flatten_and_reshape_round_trip_with_gradients():
    x = np.arange(24, dtype="float32").reshape(2, 3, 4)
    flat, flat_cache = layers.Flatten().forward(x)
    assert flat.shape == (2, 12)
    reshape = layers.Reshape((-1, 2))
    out, cache = reshape.forward(flat)
    assert out.shape == (2, 6, 2) and reshape.compute_output_shape((None, 12)) == (None, 6, 2)
    dflat, _ = reshape.backward(out, cache)
    dx, _ = layers.Flatten().backward(dflat, flat_cache)
    np.testing.assert_array_equal(dx, x)
    with pytest.raises(ValueError, match="target_shape"):
        reshape.compute_output_shape((None, 7))


def test_flatten_channels_first_moves_channels_last():
    x = np.arange(12, dtype="float32").reshape(1, 3, 2, 2)         # (batch, C, H, W)
    out = layers.Flatten(data_format="channels_first")(x)
    np.testing.assert_array_equal(out[0], x[0].transpose(1, 2, 0).reshape(-1))


def test_activation_layer(float64):
    x = np.random.default_rng(0).normal(size=(3, 4))
    layer = layers.Activation("tanh")
    out, cache = layer.forward(x)
    np.testing.assert_allclose(out, np.tanh(x))
    dx, grads = layer.backward(np.ones_like(x), cache)
    np.testing.assert_allclose(dx, 1 - np.tanh(x) ** 2)
    assert grads == []
    assert layers.Activation.from_config(layer.get_config()).activation.__name__ == "tanh"


def test_input_shapes():
    assert keras.Input((28, 28, 1)).shape == (None, 28, 28, 1)
    assert keras.Input(shape=(3,), batch_size=8).shape == (8, 3)
    assert keras.Sequential([keras.Input((5,)), layers.Dense(2)]).input_shape == (None, 5)


# ------------------------------------------------------------------ regularizers / constraints


@pytest.mark.parametrize("regularizer", [
    keras.regularizers.L1(0.3), keras.regularizers.L2(0.2), keras.regularizers.L1L2(0.1, 0.2),
    keras.regularizers.OrthogonalRegularizer(0.5),
    keras.regularizers.OrthogonalRegularizer(0.5, mode="columns"),
], ids=["l1", "l2", "l1_l2", "orthogonal_rows", "orthogonal_columns"])
def test_regularizer_gradients_match_finite_differences(regularizer):
    w = np.random.default_rng(3).normal(size=(5, 3))
    expected = numerical_gradient(lambda w: float(regularizer(w)), w)
    np.testing.assert_allclose(regularizer.gradient(w), expected, rtol=1e-5, atol=1e-8)
    clone = type(regularizer).from_config(regularizer.get_config())
    assert float(clone(w)) == pytest.approx(float(regularizer(w)))


def test_orthogonal_regularizer_is_zero_for_orthogonal_rows():
    q = np.linalg.qr(np.random.default_rng(0).normal(size=(6, 6)))[0][:3]    # 3 orthonormal rows
    assert keras.regularizers.OrthogonalRegularizer(1.0)(5.0 * q) == pytest.approx(0, abs=1e-6)
    with pytest.raises(ValueError, match=r"Received: mode='diagonal'"):
        keras.regularizers.OrthogonalRegularizer(mode="diagonal")
    with pytest.raises(ValueError, match=r"Received: inputs.shape=\(3,\)"):
        keras.regularizers.OrthogonalRegularizer()(np.ones(3))


@pytest.mark.parametrize("constraint, check", [
    (keras.constraints.MaxNorm(1.0), lambda w: np.linalg.norm(w, axis=0).max() <= 1.0 + 1e-6),
    (keras.constraints.NonNeg(), lambda w: w.min() >= 0),
    (keras.constraints.UnitNorm(), lambda w: np.allclose(np.linalg.norm(w, axis=0), 1.0)),
    (keras.constraints.MinMaxNorm(0.5, 0.8),
     lambda w: np.all((np.linalg.norm(w, axis=0) >= 0.5 - 1e-6)
                      & (np.linalg.norm(w, axis=0) <= 0.8 + 1e-6))),
], ids=["max_norm", "non_neg", "unit_norm", "min_max_norm"])
def test_constraints_project(constraint, check):
    w = np.random.default_rng(4).normal(size=(6, 4)) * 3
    assert check(constraint(w))
    assert type(constraint).from_config(constraint.get_config()).get_config() == \
        constraint.get_config()


def test_dense_can_skip_its_input_gradient():
    layer = layers.Dense(3, activation="tanh")
    x = np.random.default_rng(5).normal(size=(4, 2)).astype("float32")
    layer.build(x.shape)
    out, cache = layer.forward(x)
    dx_full, grads_full = layer.backward(np.ones_like(out), cache)
    dx, grads = layer.backward(np.ones_like(out), cache, need_input_gradient=False)
    assert dx is None and dx_full.shape == x.shape
    for a, b in zip(grads, grads_full):
        np.testing.assert_array_equal(a, b)


def test_glu_halves_the_width_seen_by_the_next_layer():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(8, activation="glu"),
                              keras.layers.Activation("glu"), keras.layers.Dense(1)])
    assert model.layers[0].compute_output_shape((None, 2)) == (None, 4)
    assert model.layers[2].kernel.shape == (2, 1)
    assert model.predict(np.ones((3, 2), "float32"), verbose=0).shape == (3, 1)
