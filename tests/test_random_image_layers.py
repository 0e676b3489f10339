"""RandomFlip, RandomRotation, RandomZoom, RandomTranslation, RandomContrast: identity at
inference, the augmentation while training, seeds, gradients, arguments and configs."""

import numpy as np
import pytest
from gradcheck import check_layer

import minikeras as keras
from minikeras import layers
from minikeras.kernels.affine import affine_backward, affine_forward


@pytest.fixture
def float64():
    keras.backend.set_floatx("float64")
    yield
    keras.backend.set_floatx("float32")


def reseeding(layer, seed=3):
    """before_forward for check_layer: every forward draws the same augmentation."""
    def reseed():
        layer._rng = np.random.default_rng(seed)
    return reseed


MAKERS = {
    "flip": lambda: layers.RandomFlip(seed=1),
    "flip_h_cf": lambda: layers.RandomFlip("horizontal", seed=1, data_format="channels_first"),
    "rotation": lambda: layers.RandomRotation(0.2, seed=1),
    "rotation_nearest_wrap": lambda: layers.RandomRotation(
        0.3, fill_mode="wrap", interpolation="nearest", seed=1),
    "zoom_constant": lambda: layers.RandomZoom((-0.3, 0.4), (0.1, 0.5), fill_mode="constant",
                                               fill_value=2.0, seed=1),
    "zoom_nearest_cf": lambda: layers.RandomZoom(0.3, fill_mode="nearest", seed=1,
                                                 data_format="channels_first"),
    "translation": lambda: layers.RandomTranslation(0.3, (-0.2, 0.4), seed=1),
    "contrast": lambda: layers.RandomContrast(0.5, value_range=(-100, 100), seed=1),
    "contrast_clipped": lambda: layers.RandomContrast((0.2, 0.9), value_range=(-0.5, 0.5),
                                                      seed=1),
}


@pytest.mark.parametrize("name", MAKERS)
def test_training_gradients(float64, name):
    layer = MAKERS[name]()
    x = np.random.default_rng(0).normal(size=(4, 5, 6, 2))
    assert check_layer(layer, x, training=True, before_forward=reseeding(layer)) < 1e-6


@pytest.mark.parametrize("name", MAKERS)
def test_identity_at_inference_and_seeds_reproduce(name):
    x = np.random.default_rng(0).uniform(0, 1, size=(8, 5, 6, 2)).astype("float32")
    layer = MAKERS[name]()
    out, cache = layer.forward(x, training=False)
    np.testing.assert_array_equal(out, x)
    np.testing.assert_array_equal(layer.backward(x, cache)[0], x)
    first = MAKERS[name]()(x, training=True)
    again = MAKERS[name]()(x, training=True)
    np.testing.assert_array_equal(first, again)                  # same seed, same draws
    assert not np.array_equal(first, x)
    assert not np.array_equal(layer(x, training=True), layer(x, training=True))  # moves on


def test_flip_flips_whole_images_about_half_the_time():
    x = np.random.default_rng(0).normal(size=(200, 3, 4, 1)).astype("float32")
    for mode, flip in [("horizontal", lambda a: a[:, ::-1]), ("vertical", lambda a: a[::-1]),
                       ("horizontal_and_vertical", lambda a: a[::-1, ::-1])]:
        out = layers.RandomFlip(mode, seed=0)(x, training=True)
        flipped = np.array([np.array_equal(o, flip(i)) for o, i in zip(out, x)])
        kept = np.array([np.array_equal(o, i) for o, i in zip(out, x)])
        assert np.all(flipped | kept)
        assert 70 < flipped.sum() < 130


def test_quarter_turn_and_shift_move_pixels_exactly():
    x = np.arange(2 * 4 * 4, dtype="float32").reshape(2, 4, 4, 1)
    rotated = layers.RandomRotation((0.25, 0.25), interpolation="nearest")(x, training=True)
    # input = R(90) (output - centre) + centre: output row y, column x reads row x, column 3 - y
    np.testing.assert_array_equal(rotated[..., 0], np.rot90(x[..., 0], k=1, axes=(1, 2)))
    shifted = layers.RandomTranslation((0.25, 0.25), (-0.5, -0.5), fill_mode="constant",
                                       fill_value=-1)(x, training=True)
    np.testing.assert_array_equal(shifted[:, 1:, :2], x[:, :3, 2:])   # down 1, left 2
    np.testing.assert_array_equal(shifted[:, 0], -1)
    np.testing.assert_array_equal(shifted[:, :, 2:], -1)


def test_zoom_out_by_two_keeps_the_centre():
    x = np.random.default_rng(0).normal(size=(1, 5, 5, 1)).astype("float32")
    out = layers.RandomZoom((1.0, 1.0), interpolation="nearest", fill_mode="constant")(
        x, training=True)                         # zoom 2: output (y, x) reads 2y - 2, 2x - 2
    np.testing.assert_array_equal(out[0, 1:4, 1:4], x[0, ::2, ::2])
    np.testing.assert_array_equal(out[0, 0], 0)


def test_contrast_keeps_the_mean_and_scales_deviations():
    x = np.random.default_rng(0).uniform(50, 200, size=(6, 4, 5, 3))
    out = layers.RandomContrast((0.3, 0.6), seed=0, dtype="float64")(x, training=True)
    mean = x.mean(axis=(1, 2), keepdims=True)
    np.testing.assert_allclose(out.mean(axis=(1, 2), keepdims=True), mean, rtol=1e-12)
    ratio = (out - mean) / (x - mean)                 # one factor per image, in [0.7, 1.6]
    np.testing.assert_allclose(ratio, ratio[:, :1, :1, :1] * np.ones_like(ratio), rtol=1e-9)
    assert np.all((ratio >= 0.7) & (ratio <= 1.6))


def test_affine_backward_is_the_adjoint(float64):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(3, 6, 7, 2))
    dout = rng.normal(size=x.shape)
    transforms = np.array([[0.9, -0.4, 1.5, 0.4, 0.9, -1.0, 0.01, 0.0]] * 3)
    for mode in ("reflect", "wrap", "constant", "nearest"):
        out, cache = affine_forward(x, transforms, "bilinear", mode, 0.0)
        np.testing.assert_allclose(np.sum(out * dout), np.sum(x * affine_backward(dout, cache)),
                                   rtol=1e-6)


def test_first_layer_needs_no_input_gradient():
    layer = layers.RandomRotation(0.1, seed=0)
    x = np.ones((2, 4, 4, 1), dtype="float32")
    out, cache = layer.forward(x, training=True)
    assert layer.backward(out, cache, need_input_gradient=False) == (None, [])


@pytest.mark.parametrize("make, message", [
    (lambda: layers.RandomFlip("diagonal"), "mode='diagonal'"),
    (lambda: layers.RandomFlip(seed="a"), "seed='a'"),
    (lambda: layers.RandomRotation(1.5), "factor=1.5"),
    (lambda: layers.RandomRotation((0.1, 0.2, 0.3)), r"factor=\(0.1, 0.2, 0.3\)"),
    (lambda: layers.RandomRotation(0.1, fill_mode="mirror"), "fill_mode='mirror'"),
    (lambda: layers.RandomRotation(0.1, interpolation="bicubic"), "interpolation='bicubic'"),
    (lambda: layers.RandomZoom(-1.0), "height_factor=-1.0"),
    (lambda: layers.RandomZoom(0.2, width_factor="x"), "width_factor='x'"),
    (lambda: layers.RandomTranslation(0.1, 1.2), "width_factor=1.2"),
    (lambda: layers.RandomContrast(-0.5), "factor=-0.5"),
    (lambda: layers.RandomContrast(0.5, value_range=(1, 0)), r"value_range=\(1, 0\)"),
    (lambda: layers.RandomRotation(0.1).forward(np.ones((2, 3, 4))), "expected ndim=4"),
])
def test_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


@pytest.mark.parametrize("name", MAKERS)
def test_configs_round_trip(name):
    layer = MAKERS[name]()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_a_model_trains_through_augmentation_and_predicts_without_it():
    rng = np.random.default_rng(0)
    x = rng.uniform(0, 1, size=(32, 6, 6, 1)).astype("float32")
    y = (x.mean(axis=(1, 2, 3)) > 0.5).astype("float32")
    keras.utils.set_random_seed(0)
    model = keras.Sequential([
        keras.Input((6, 6, 1)),
        layers.RandomFlip(seed=0),
        layers.RandomRotation(0.1, seed=1),
        layers.Conv2D(2, 3, activation="relu"),
        layers.RandomTranslation(0.1, 0.1, seed=2),       # inside: its input gradient is used
        layers.Flatten(),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(optimizer="adam", loss="binary_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=8, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    plain = keras.Sequential([keras.Input((6, 6, 1)), layers.Conv2D(2, 3, activation="relu"),
                              layers.Flatten(), layers.Dense(1, activation="sigmoid")])
    plain.set_weights(model.get_weights())
    np.testing.assert_allclose(model.predict(x, verbose=0), plain.predict(x, verbose=0))
