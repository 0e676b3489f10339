"""The regularisation layers: SpatialDropout1D/2D/3D, GaussianNoise, GaussianDropout,
AlphaDropout, ActivityRegularization. Training-time statistics, identity at inference,
gradients with a fixed draw, arguments and configs."""

import numpy as np
import pytest
from gradcheck import check_layer

import minikeras as keras
from minikeras import layers

MAKERS = {
    "spatial1d": (lambda seed=None: layers.SpatialDropout1D(0.3, seed=seed), (8, 5, 6)),
    "spatial2d": (lambda seed=None: layers.SpatialDropout2D(0.3, seed=seed), (8, 4, 5, 6)),
    "spatial2d_cf": (lambda seed=None: layers.SpatialDropout2D(
        0.3, data_format="channels_first", seed=seed), (8, 6, 4, 5)),
    "spatial3d": (lambda seed=None: layers.SpatialDropout3D(0.3, seed=seed), (4, 2, 3, 4, 6)),
    "gaussian_noise": (lambda seed=None: layers.GaussianNoise(0.5, seed=seed), (8, 6)),
    "gaussian_dropout": (lambda seed=None: layers.GaussianDropout(0.4, seed=seed), (8, 6)),
    "alpha_dropout": (lambda seed=None: layers.AlphaDropout(0.3, seed=seed), (8, 6)),
}


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_identity_at_inference(name):
    make, shape = MAKERS[name]
    x = np.random.default_rng(0).normal(size=shape).astype("float32")
    out, cache = make().forward(x, training=False)
    assert out is x
    np.testing.assert_array_equal(make().backward(np.ones_like(x), cache)[0], 1)


@pytest.mark.parametrize("name", sorted(MAKERS))
def test_training_changes_x_and_gradients_match_the_draw(name):
    make, shape = MAKERS[name]
    keras.backend.set_floatx("float64")
    try:
        layer = make(seed=3)
        x = np.random.default_rng(1).normal(size=shape)
        assert not np.allclose(layer.forward(x, training=True)[0], x)

        def reseed():      # the same draw at every forward of the finite differences
            layer._rng = np.random.default_rng(3)

        assert check_layer(layer, x, training=True, before_forward=reseed) < 1e-6
    finally:
        keras.backend.set_floatx("float32")


@pytest.mark.parametrize("name, channel_axis", [("spatial1d", -1), ("spatial2d", -1),
                                                ("spatial2d_cf", 1), ("spatial3d", -1)])
def test_spatial_dropout_drops_whole_channels(name, channel_axis):
    make, shape = MAKERS[name]
    x = np.ones(shape, dtype="float32")
    out = make(seed=0).forward(x, training=True)[0]
    moved = np.moveaxis(out, channel_axis, 1).reshape(shape[0], shape[channel_axis], -1)
    # every channel of every sample is all dropped (0) or all kept (1 / (1 - rate))
    assert np.all(moved.min(axis=2) == moved.max(axis=2))
    np.testing.assert_allclose(np.unique(moved), [0.0, 1 / 0.7], rtol=1e-6)


def test_noise_statistics():
    x = np.ones((200_000,), dtype="float64")[:, None]
    noisy = layers.GaussianNoise(0.5, seed=1).forward(x, training=True)[0]
    assert abs(noisy.mean() - 1) < 0.01 and abs(noisy.std() - 0.5) < 0.01
    scaled = layers.GaussianDropout(0.2, seed=1).forward(x, training=True)[0]
    assert abs(scaled.mean() - 1) < 0.01 and abs(scaled.std() - 0.5) < 0.01    # sqrt(.2/.8)
    z = np.random.default_rng(2).normal(size=(200_000, 1))
    selu_like = layers.AlphaDropout(0.2, seed=1).forward(z, training=True)[0]
    # alpha dropout keeps a standard normal input's mean 0 and variance 1
    assert abs(selu_like.mean()) < 0.02 and abs(selu_like.std() - 1) < 0.02


def test_activity_regularization_adds_its_penalty_to_the_loss():
    x = np.full((4, 3), 2.0, dtype="float32")
    y = np.zeros((4, 3), dtype="float32")
    model = keras.Sequential([keras.Input((3,)), layers.ActivityRegularization(l1=0.1, l2=0.5)])
    model.compile(loss="mse", optimizer="sgd")
    # mse 4.0 + (0.1 * 24 + 0.5 * 48) / 4 samples
    assert model.evaluate(x, y, verbose=0) == pytest.approx(4.0 + (2.4 + 24.0) / 4)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.GaussianNoise(2.0), "stddev=2.0"),
    (lambda: layers.GaussianDropout(-0.1), "rate=-0.1"),
    (lambda: layers.AlphaDropout("half"), "rate='half'"),
    (lambda: layers.SpatialDropout2D(1.5), "rate=1.5"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_spatial_dropout_wrong_rank():
    with pytest.raises(ValueError, match="expected ndim=4"):
        layers.SpatialDropout2D(0.5).forward(np.ones((2, 3, 4)), training=True)


@pytest.mark.parametrize("name", sorted(MAKERS) + ["activity"])
def test_configs_round_trip(name):
    layer = layers.ActivityRegularization(l1=0.2) if name == "activity" else MAKERS[name][0](5)
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config
