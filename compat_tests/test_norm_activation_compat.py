"""BatchNormalization and the activation layers against Keras (TensorFlow backend): outputs
from the same weights in both modes, moving statistics, configs, and whole fits."""

import keras
import numpy as np
import pytest

import minikeras

from .compare import assert_histories_close, build_pair, fit_both

RNG = np.random.default_rng(0)

LAYERS = {
    "batchnorm": lambda k: k.layers.BatchNormalization(momentum=0.8),
    "batchnorm_axis1": lambda k: k.layers.BatchNormalization(axis=1, epsilon=0.01),
    "batchnorm_no_scale": lambda k: k.layers.BatchNormalization(scale=False, center=False),
    "relu": lambda k: k.layers.ReLU(max_value=1.0, negative_slope=0.1, threshold=0.2),
    "leaky_relu": lambda k: k.layers.LeakyReLU(negative_slope=0.2),
    "prelu": lambda k: k.layers.PReLU(alpha_initializer="random_normal", shared_axes=[1]),
    "elu": lambda k: k.layers.ELU(alpha=0.5),
    "softmax": lambda k: k.layers.Softmax(axis=1),
    "softmax_two_axes": lambda k: k.layers.Softmax(axis=[1, 2]),
}


@pytest.mark.parametrize("name", sorted(LAYERS))
@pytest.mark.parametrize("training", [False, True], ids=["inference", "training"])
def test_outputs_and_state_match_keras(name, training):
    x = (RNG.normal(size=(4, 3, 5)) * 2 + 0.5).astype("float32")
    reference, ours = LAYERS[name](keras), LAYERS[name](minikeras)
    reference.build(x.shape)
    ours._maybe_build(x.shape)
    weights = [w + RNG.uniform(0.1, 0.5, size=w.shape).astype("float32")
               for w in map(np.asarray, reference.get_weights())]
    reference.set_weights(weights)
    ours.set_weights(weights)
    expected = np.asarray(reference(x, training=training))
    np.testing.assert_allclose(ours.forward(x, training=training)[0], expected,
                               rtol=1e-5, atol=1e-5)
    for theirs, mine in zip(reference.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(mine, theirs, rtol=1e-5, atol=1e-6)


def test_masked_softmax_matches_keras():
    x = RNG.normal(size=(2, 3, 4)).astype("float32")
    mask = RNG.random((2, 3, 4)) > 0.3
    expected = np.asarray(keras.layers.Softmax()(x, mask=mask))
    np.testing.assert_allclose(minikeras.layers.Softmax().forward(x, mask=mask)[0], expected,
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name", sorted(LAYERS))
def test_config_keys_and_weights_match_keras(name):
    reference, ours = LAYERS[name](keras), LAYERS[name](minikeras)
    assert set(reference.get_config()) <= set(ours.get_config()) | {"dtype"}
    reference.build((None, 3, 5))
    ours._maybe_build((None, 3, 5))
    assert [(w.name, tuple(w.shape)) for w in reference.weights] == [
        (w.name, w.shape) for w in ours.weights]
    assert len(reference.trainable_weights) == len(ours.trainable_weights)


def _bn_convnet(k, frozen=False):
    model = k.Sequential([
        k.Input((8, 8, 2)),
        # No biases before a BatchNormalization (it removes them anyway: their gradient is
        # zero in exact arithmetic, and Adam would turn its rounding noise into steps).
        k.layers.Conv2D(4, 3, use_bias=False),
        k.layers.BatchNormalization(),
        k.layers.ReLU(),
        k.layers.MaxPooling2D(),
        k.layers.Flatten(),
        k.layers.Dense(6, use_bias=False),
        k.layers.BatchNormalization(momentum=0.9, trainable=not frozen),
        k.layers.PReLU(),
        k.layers.Dense(3, activation="softmax"),
    ])
    return model


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 8, 8, 2)).astype("float32")
    y = rng.integers(0, 3, 48)
    return x, y


@pytest.mark.parametrize("frozen", [False, True], ids=["trained", "frozen"])
def test_batchnorm_convnet_trains_like_keras(images, frozen):
    x, y = images
    reference, ours = build_pair(lambda k: _bn_convnet(k, frozen))
    ref, mine = fit_both(reference, ours, x, y,
                         {"optimizer": "adam", "loss": "sparse_categorical_crossentropy",
                          "metrics": ["accuracy"]},
                         epochs=4, batch_size=16, validation_data=(x[:16], y[:16]))
    # validation runs in inference mode (moving statistics), training on batch statistics:
    # both must agree with Keras, and so must the moving statistics left behind
    assert_histories_close(ref, mine)
    for theirs, mine_w in zip(reference.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(mine_w, np.asarray(theirs), rtol=2e-4, atol=2e-5)
    np.testing.assert_allclose(ours.predict(x[:8], verbose=0),
                               reference.predict(x[:8], verbose=0), rtol=1e-3, atol=1e-4)


def test_activation_layers_train_like_keras():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, :1] * x[:, 1:2] > 0).astype("float32")

    def build(k):
        return k.Sequential([
            k.Input((5,)), k.layers.Dense(8), k.layers.LeakyReLU(0.1),
            k.layers.Dense(8), k.layers.ELU(0.8), k.layers.Dense(8),
            k.layers.ReLU(max_value=2.0), k.layers.Dense(2), k.layers.Softmax(),
        ])

    reference, ours = build_pair(build)
    ref, mine = fit_both(reference, ours, x, y.ravel().astype("int64"),
                         {"optimizer": "adam", "loss": "sparse_categorical_crossentropy"},
                         epochs=5, batch_size=16)
    assert_histories_close(ref, mine)


def test_batchnorm_model_saves_and_loads_both_ways(tmp_path, images):
    x, _ = images
    reference, ours = build_pair(_bn_convnet)
    ours_path, theirs_path = tmp_path / "ours.keras", tmp_path / "theirs.keras"
    ours.save(ours_path)
    reference.save(theirs_path)
    expected = reference.predict(x[:4], verbose=0)
    np.testing.assert_allclose(keras.models.load_model(ours_path).predict(x[:4], verbose=0),
                               expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(minikeras.models.load_model(theirs_path).predict(x[:4],
                                                                               verbose=0),
                               expected, rtol=1e-5, atol=1e-6)


NORMALIZERS = {
    "layer_norm": lambda k: k.layers.LayerNormalization(),
    "layer_norm_two_axes": lambda k: k.layers.LayerNormalization(axis=[1, 2], epsilon=0.01),
    "group_norm": lambda k: k.layers.GroupNormalization(groups=5),
    "instance_norm": lambda k: k.layers.GroupNormalization(groups=-1, center=False),
    "unit_norm": lambda k: k.layers.UnitNormalization(axis=[1, 2]),
}


@pytest.mark.parametrize("name", sorted(NORMALIZERS))
def test_normalizers_match_keras(name):
    x = (RNG.normal(size=(4, 3, 5)) * 2 + 0.5).astype("float32")
    reference, ours = NORMALIZERS[name](keras), NORMALIZERS[name](minikeras)
    reference.build(x.shape)
    ours._maybe_build(x.shape)
    weights = [w + RNG.uniform(0.1, 0.5, size=w.shape).astype("float32")
               for w in map(np.asarray, reference.get_weights())]
    reference.set_weights(weights)
    ours.set_weights(weights)
    np.testing.assert_allclose(ours.forward(x)[0], np.asarray(reference(x)), rtol=1e-5,
                               atol=1e-5)
    assert set(reference.get_config()) <= set(ours.get_config()) | {"dtype"}
    assert [(w.name, tuple(w.shape)) for w in reference.weights] == [
        (w.name, w.shape) for w in ours.weights]


def test_layer_and_group_normalization_train_like_keras():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(48, 4, 6)).astype("float32")
    y = rng.normal(size=(48, 2)).astype("float32")

    def build(k):
        return k.Sequential([
            k.Input((4, 6)), k.layers.Dense(6), k.layers.LayerNormalization(),
            k.layers.GroupNormalization(groups=3), k.layers.UnitNormalization(),
            k.layers.Flatten(), k.layers.Dense(2),
        ])

    reference, ours = build_pair(build)
    ref, mine = fit_both(reference, ours, x, y, {"optimizer": "adam", "loss": "mse"},
                         epochs=4, batch_size=16, validation_data=(x[:8], y[:8]))
    assert_histories_close(ref, mine)


def test_normalization_adapt_matches_keras():
    x = (RNG.normal(size=(40, 3, 4)) * 3 + 1).astype("float32")
    for axis in (-1, (1, 2), None):
        reference, ours = keras.layers.Normalization(axis=axis), \
            minikeras.layers.Normalization(axis=axis)
        reference.adapt(x)
        ours.adapt(x)
        for theirs, mine in zip(reference.get_weights(), ours.get_weights()):
            np.testing.assert_allclose(mine, np.asarray(theirs), rtol=1e-5, atol=1e-6)
        np.testing.assert_allclose(ours(x[:5]), np.asarray(reference(x[:5])), rtol=1e-5,
                                   atol=1e-5)


def test_adapted_normalization_model_trains_and_saves_like_keras(tmp_path):
    rng = np.random.default_rng(4)
    x = (rng.normal(size=(64, 3)) * [1.0, 50.0, 0.01] + [0.0, 100.0, 5.0]).astype("float32")
    y = (x[:, :1] + x[:, 1:2] / 50).astype("float32")

    def build(k):
        norm = k.layers.Normalization()
        norm.adapt(x)
        return k.Sequential([k.Input((3,)), norm, k.layers.Dense(4, activation="tanh"),
                             k.layers.Dense(1)])

    reference, ours = build_pair(build)
    ref, mine = fit_both(reference, ours, x, y, {"optimizer": "adam", "loss": "mse"},
                         epochs=4, batch_size=16)
    assert_histories_close(ref, mine)
    ours.save(tmp_path / "ours.keras")
    reference.save(tmp_path / "theirs.keras")
    expected = reference.predict(x[:4], verbose=0)
    np.testing.assert_allclose(
        keras.models.load_model(tmp_path / "ours.keras").predict(x[:4], verbose=0), expected,
        rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(
        minikeras.models.load_model(tmp_path / "theirs.keras").predict(x[:4], verbose=0),
        expected, rtol=1e-5, atol=1e-6)


NOISE = {
    "spatial1d": (lambda k: k.layers.SpatialDropout1D(0.3, seed=1), (2, 3, 4)),
    "spatial2d": (lambda k: k.layers.SpatialDropout2D(0.3, seed=1), (2, 3, 4, 2)),
    "spatial3d": (lambda k: k.layers.SpatialDropout3D(0.3, data_format="channels_first",
                                                      seed=1), (2, 3, 4, 2, 2)),
    "gaussian_noise": (lambda k: k.layers.GaussianNoise(0.2, seed=1), (2, 3)),
    "gaussian_dropout": (lambda k: k.layers.GaussianDropout(0.2, seed=1), (2, 3)),
    "alpha_dropout": (lambda k: k.layers.AlphaDropout(0.2, noise_shape=(None, 1), seed=1),
                      (2, 3)),
    "activity": (lambda k: k.layers.ActivityRegularization(l1=0.01, l2=0.02), (2, 3)),
}


@pytest.mark.parametrize("name", sorted(NOISE))
def test_noise_layers_match_keras_at_inference_and_in_config(name):
    make, shape = NOISE[name]
    x = RNG.normal(size=shape).astype("float32")
    reference, ours = make(keras), make(minikeras)
    np.testing.assert_array_equal(ours.forward(x, training=False)[0],
                                  np.asarray(reference(x, training=False)))
    assert set(reference.get_config()) <= set(ours.get_config()) | {"dtype"}


def test_activity_regularization_trains_like_keras():
    rng = np.random.default_rng(5)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = rng.normal(size=(32, 1)).astype("float32")

    def build(k):
        return k.Sequential([k.Input((4,)), k.layers.Dense(5, activation="tanh"),
                             k.layers.ActivityRegularization(l1=0.01, l2=0.05),
                             k.layers.Dense(1)])

    reference, ours = build_pair(build)
    ref, mine = fit_both(reference, ours, x, y, {"optimizer": "adam", "loss": "mse"},
                         epochs=4, batch_size=8)
    assert_histories_close(ref, mine)
