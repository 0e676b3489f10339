"""The random augmentation layers against Keras: identity at inference, the same images for
every fixed (degenerate-range) rotation, zoom and translation in every fill mode and
interpolation, the same kind of flips and contrast changes, configs, and `.keras` archives
with them both ways."""

import itertools

import keras
import numpy as np
import pytest

import minikeras
from minikeras.saving import saving_api

RNG = np.random.default_rng(0)


def _image(data_format, shape=(3, 7, 9, 2)):
    if data_format == "channels_first":
        shape = (shape[0], shape[3], shape[1], shape[2])
    return RNG.uniform(0, 255, size=shape).astype("float32")


FIXED = [
    ("RandomRotation", ((0.25, 0.25),)),           # exactly 90 degrees
    ("RandomRotation", ((-0.1, -0.1),)),
    ("RandomRotation", ((0.37, 0.37),)),
    ("RandomZoom", ((0.3, 0.3),)),
    ("RandomZoom", ((-0.4, -0.4), (0.2, 0.2))),
    ("RandomTranslation", ((0.2, 0.2), (-0.3, -0.3))),
    ("RandomTranslation", ((-0.5, -0.5), (0.1, 0.1))),
]


@pytest.mark.parametrize("fill_mode, interpolation, data_format", itertools.product(
    ("reflect", "wrap", "constant", "nearest"), ("bilinear", "nearest"),
    ("channels_last", "channels_first")))
def test_fixed_affine_augmentations_match_keras(fill_mode, interpolation, data_format):
    x = _image(data_format)
    common = {"fill_mode": fill_mode, "interpolation": interpolation, "fill_value": 3.0,
              "data_format": data_format}
    for name, args in FIXED:
        reference = getattr(keras.layers, name)(*args, **common)
        ours = getattr(minikeras.layers, name)(*args, **common)
        np.testing.assert_allclose(ours(x, training=True),
                                   np.asarray(reference(x, training=True)), atol=2e-3,
                                   err_msg=f"{name}{args}")


MAKERS = {
    "flip": lambda k: k.layers.RandomFlip("horizontal", seed=1),
    "rotation": lambda k: k.layers.RandomRotation((-0.2, 0.3), fill_mode="constant", seed=1),
    "zoom": lambda k: k.layers.RandomZoom((0.3, 0.6), (-0.5, -0.3), interpolation="nearest"),
    "translation": lambda k: k.layers.RandomTranslation(0.1, 0.2, fill_mode="wrap"),
    "contrast": lambda k: k.layers.RandomContrast((0.2, 0.5), value_range=(0, 1), seed=3),
}


@pytest.mark.parametrize("name", MAKERS)
def test_inference_identity_and_config_match_keras(name):
    x = _image("channels_last")
    reference, ours = MAKERS[name](keras), MAKERS[name](minikeras)
    np.testing.assert_array_equal(ours(x, training=False), np.asarray(reference(x, training=False)))
    np.testing.assert_array_equal(ours(x, training=False), x)
    # called directly, both augment (Keras's call defaults to training=True)
    assert not np.array_equal(np.asarray(reference(x)), x)
    assert not np.array_equal(ours(x), x)
    models = [k.Sequential([k.Input(x.shape[1:]), MAKERS[name](k)]) for k in (keras, minikeras)]
    for model in models:
        np.testing.assert_array_equal(model.predict(x, verbose=0), x)
    # names count the layers made so far in each engine's session: compare the rest
    expected = {key: value for key, value in reference.get_config().items()
                if key not in ("dtype", "name")}
    got = {key: value for key, value in ours.get_config().items() if key not in ("dtype", "name")}
    assert got == expected


def _flip_kinds(out, x):
    """Per image: 1 when flipped left-right, 0 when unchanged (asserts it is one of them)."""
    kinds = []
    for o, i in zip(np.asarray(out), x):
        assert np.array_equal(o, i) or np.array_equal(o, i[:, ::-1])
        kinds.append(int(not np.array_equal(o, i)))
    return np.array(kinds)


def test_flips_are_the_same_kind_as_keras():
    x = RNG.normal(size=(200, 3, 4, 1)).astype("float32")
    ref = _flip_kinds(keras.layers.RandomFlip("horizontal", seed=0)(x, training=True), x)
    ours = _flip_kinds(minikeras.layers.RandomFlip("horizontal", seed=0)(x, training=True), x)
    assert 70 < ref.sum() < 130 and 70 < ours.sum() < 130


def _contrast_factors(out, x):
    """The one factor per image that explains the output (asserts it explains all of it)."""
    x = x.astype(np.float64)
    mean = x.mean(axis=(1, 2), keepdims=True)
    deviation = x - mean
    out_deviation = np.asarray(out, dtype=np.float64) - mean
    # least-squares factor per image, then every pixel must follow it
    factors = (np.sum(out_deviation * deviation, axis=(1, 2, 3))
               / np.sum(deviation ** 2, axis=(1, 2, 3)))
    np.testing.assert_allclose(out_deviation, factors[:, None, None, None] * deviation,
                               atol=1e-3)
    return factors


def test_contrast_draws_from_keras_range():
    x = RNG.uniform(100, 150, size=(64, 4, 5, 3)).astype("float32")
    ref = _contrast_factors(keras.layers.RandomContrast((0.2, 0.5))(x, training=True), x)
    ours = _contrast_factors(minikeras.layers.RandomContrast((0.2, 0.5))(x, training=True), x)
    for factors in (ref, ours):                        # Keras draws f in [1 - 0.2, 1 + 0.5]
        assert factors.min() >= 0.8 - 1e-4 and factors.max() <= 1.5 + 1e-4
        assert factors.max() - factors.min() > 0.4


def _augmented_model(k):
    return k.Sequential([
        k.Input((8, 8, 3)),
        k.layers.RandomFlip("horizontal", seed=1),
        k.layers.RandomRotation(0.1, fill_mode="nearest", seed=2),
        k.layers.RandomZoom(0.1, seed=3),
        k.layers.RandomTranslation(0.1, 0.1, fill_mode="constant", seed=4),
        k.layers.RandomContrast(0.2, seed=5),
        k.layers.Resizing(6, 6),
        k.layers.CenterCrop(4, 4),
        k.layers.Conv2D(2, 3),
        k.layers.UpSampling2D(interpolation="bilinear"),
        k.layers.Flatten(),
        k.layers.Dense(2),
    ])


def test_augmented_model_archive_crosses_both_ways(tmp_path):
    x = RNG.uniform(0, 255, size=(4, 8, 8, 3)).astype("float32")
    keras.utils.set_random_seed(0)
    reference = _augmented_model(keras)
    reference.save(tmp_path / "keras.keras")
    ours = saving_api.load_model(tmp_path / "keras.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in reference.layers]
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-3)
    saving_api.save_model(ours, tmp_path / "ours.keras")
    back = keras.models.load_model(tmp_path / "ours.keras")
    # against Keras's own reload (JSON turns value_range's tuple into a list)
    reloaded = keras.models.load_model(tmp_path / "keras.keras")
    assert [layer.get_config() for layer in back.layers] == [
        layer.get_config() for layer in reloaded.layers]
    np.testing.assert_allclose(back.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-3)
