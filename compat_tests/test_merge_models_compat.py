"""Models built from merge layers train like Keras: same initial weights, shuffle=False, the
History compared epoch by epoch (rtol 1e-4). A residual block (Add), an Inception block
(Concatenate of 1x1 / 3x3 / 5x5 / pooling branches on small images), and every merge layer
in one two-input model."""

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

RNG = np.random.default_rng(0)


def residual_block(k):
    inputs = k.Input((8,))
    x = k.layers.Dense(16, activation="relu")(inputs)
    h = k.layers.Dense(16, activation="relu")(x)
    h = k.layers.Dense(16)(h)
    x = k.layers.Activation("relu")(k.layers.Add()([x, h]))
    return k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(x))


def inception_block(k):
    layers = k.layers
    inputs = k.Input((10, 10, 2))
    b1 = layers.Conv2D(4, 1, padding="same", activation="relu")(inputs)
    b3 = layers.Conv2D(3, 1, padding="same", activation="relu")(inputs)
    b3 = layers.Conv2D(4, 3, padding="same", activation="relu")(b3)
    b5 = layers.Conv2D(2, 1, padding="same", activation="relu")(inputs)
    b5 = layers.Conv2D(3, 5, padding="same", activation="relu")(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(inputs)
    bp = layers.Conv2D(2, 1, padding="same", activation="relu")(bp)
    x = layers.Concatenate()([b1, b3, b5, bp])                 # (10, 10, 13)
    x = layers.GlobalAveragePooling2D()(x)
    return k.Model(inputs, layers.Dense(3, activation="softmax")(x))


def every_merge(k):
    layers = k.layers
    x1, x2 = k.Input((6,)), k.Input((6,))
    p = layers.Dense(6, activation="tanh")(x1)
    q = layers.Dense(6, activation="tanh")(x2)
    merged = [layers.Add()([p, q, x1]), layers.Subtract()([p, q]), layers.Multiply()([p, q]),
              layers.Average()([p, q]), layers.Maximum()([p, q, x2]), layers.Minimum()([p, q]),
              layers.Dot(axes=1)([p, q]), layers.Dot(axes=1, normalize=True)([p, x2])]
    joined = layers.Concatenate()(merged)                       # 6 * 6 + 2 = 38 features
    return k.Model([x1, x2], layers.Dense(1)(joined))


@pytest.fixture(scope="module")
def residual_histories():
    x = RNG.normal(size=(200, 8)).astype("float32")
    y = (x[:, 0] * x[:, 1] > 0).astype("float32")
    reference, ours = build_pair(residual_block)
    return fit_both(reference, ours, x, y,
                    dict(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"]),
                    epochs=4, batch_size=32, validation_split=0.2)


@pytest.fixture(scope="module")
def inception_histories():
    x = RNG.uniform(size=(64, 10, 10, 2)).astype("float32")
    y = np.eye(3, dtype="float32")[RNG.integers(0, 3, 64)]
    reference, ours = build_pair(inception_block)
    return fit_both(reference, ours, x, y,
                    dict(optimizer="adam", loss="categorical_crossentropy",
                         metrics=["accuracy"]),
                    epochs=3, batch_size=16)


@pytest.fixture(scope="module")
def every_merge_histories():
    x = [RNG.normal(size=(96, 6)).astype("float32"), RNG.normal(size=(96, 6)).astype("float32")]
    y = (x[0][:, :1] - x[1][:, 1:2]).astype("float32")
    reference, ours = build_pair(every_merge)
    return fit_both(reference, ours, x, y,
                    dict(optimizer=per_module(lambda k: k.optimizers.SGD(0.05, momentum=0.9)),
                         loss="mse", metrics=["mae"]),
                    epochs=4, batch_size=16)


def test_residual_block_trains_like_keras(residual_histories):
    assert_histories_close(*residual_histories)


def test_inception_block_trains_like_keras(inception_histories):
    assert_histories_close(*inception_histories)


def test_every_merge_layer_trains_like_keras(every_merge_histories):
    assert_histories_close(*every_merge_histories)


class _ZeroMask(minikeras.layers.Layer):
    """Keras's Masking(mask_value=0.0) for inputs whose masked steps are all zeros (minikeras
    has no Masking layer yet). Output = input; mask = any feature non-zero."""

    def forward(self, x, training=False):
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []

    def compute_mask(self, inputs, previous_mask):
        return np.any(inputs != 0, axis=-1)


def masked_merges(k):
    """Two padded sequences with different lengths: Maximum, Minimum and Multiply see
    different masks on their two inputs."""
    layers = k.layers
    a, b = k.Input((5, 3), name="a"), k.Input((5, 3), name="b")

    def mask(name):
        return layers.Masking(0.0, name=name) if k is keras else _ZeroMask(name=name)

    p = layers.Dense(4, activation="tanh", name="p")(mask("mask_a")(a))
    q = layers.Dense(4, activation="tanh", name="q")(mask("mask_b")(b))
    joined = layers.Concatenate()([layers.Maximum()([p, q]), layers.Minimum()([p, q]),
                                   layers.Multiply()([p, q]), layers.Add()([p, q])])
    return k.Model([a, b], layers.Dense(1, name="out")(joined))


def test_masked_maximum_minimum_multiply_train_like_keras():
    rng = np.random.default_rng(5)
    x = [rng.normal(size=(24, 5, 3)).astype("float32") for _ in range(2)]
    for xi, lengths in zip(x, (rng.integers(1, 6, 24), rng.integers(1, 6, 24))):
        xi[np.arange(5)[None, :] >= lengths[:, None]] = 0.0      # padding after each length
    y = rng.normal(size=(24, 5, 1)).astype("float32")
    reference, ours = build_pair(masked_merges)
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    histories = fit_both(reference, ours, x, y, dict(optimizer="adam", loss="mse",
                                                     metrics=["mae"]),
                         epochs=3, batch_size=8)
    assert_histories_close(*histories)
