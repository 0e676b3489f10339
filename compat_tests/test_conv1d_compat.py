"""minikeras's 1-D layers against Keras on TensorFlow: outputs and gradients with the same
weights, training curves from the same initial weights, `.keras` files in both directions."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

import minikeras  # noqa: E402
from compat_tests.compare import assert_histories_close  # noqa: E402


def keras_layer_with_gradients(layer, x, dout, mask=None):
    """Output of a built Keras layer and the gradients of sum(out * dout) w.r.t. x and the
    layer's trainable weights (Keras's order, which is minikeras's order too)."""
    x = tf.constant(x)
    extra = {} if mask is None else {"mask": tf.constant(mask)}
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x, **extra)
        loss = tf.reduce_sum(out * dout)
    grads = tape.gradient(loss, [x] + list(layer.trainable_weights))
    return out.numpy(), grads[0].numpy(), [g.numpy() for g in grads[1:]]


def compare_layer(name, args, kwargs, shape, seed=0, mask=None, distinct=False):
    """Builds keras.layers.<name> and minikeras.layers.<name> alike, copies Keras's weights
    (with a non-zero bias), and compares output, dL/dx and weight gradients in float32."""
    rng = np.random.default_rng(seed)
    if distinct:  # no ties: max pooling's gradient is then unambiguous
        x = (rng.permutation(int(np.prod(shape))).reshape(shape) / 17.0).astype("float32")
    else:
        x = rng.standard_normal(shape).astype("float32")
    reference = getattr(keras.layers, name)(*args, **kwargs)
    ours = getattr(minikeras.layers, name)(*args, **kwargs)
    reference.build(shape)
    ours.build(shape)
    if getattr(reference, "bias", None) is not None:  # Keras starts the bias at zero
        reference.bias.assign(rng.standard_normal(reference.bias.shape).astype("float32"))
    ours.set_weights(reference.get_weights())
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in reference.weights]
    extra = {} if mask is None else {"mask": mask}
    out, cache = ours.forward(x, **extra)
    assert ours.compute_output_shape(shape) == tuple(reference.compute_output_shape(shape))
    dout = rng.standard_normal(out.shape).astype("float32")
    dx, grads = ours.backward(dout, cache)
    ref_out, ref_dx, ref_grads = keras_layer_with_gradients(reference, x, dout, mask)
    assert out.shape == ref_out.shape
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)
    assert len(grads) == len(ref_grads)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-5, atol=1e-4)
    assert out.dtype == np.float32


def _shape(kwargs, steps=13, channels=4):
    return (2, channels, steps) if kwargs.get("data_format") == "channels_first" else (
        2, steps, channels)


# Every padding with every stride and kernel size, and every padding with dilation.
CONV1D_GRID = [
    dict(kernel_size=k, strides=s, padding=p)
    for k, s, p in itertools.product([1, 2, 3, 5], [1, 2, 3], ["valid", "same", "causal"])
] + [
    dict(kernel_size=k, dilation_rate=d, padding=p)
    for k, d, p in itertools.product([2, 3], [2, 3], ["valid", "same", "causal"])
] + [
    dict(kernel_size=3, padding="causal", data_format="channels_first", activation="relu"),
    dict(kernel_size=3, strides=2, padding="same", data_format="channels_first"),
    dict(kernel_size=3, groups=2, padding="same", activation="tanh"),
    dict(kernel_size=2, groups=4, dilation_rate=2, padding="causal", use_bias=False),
    dict(kernel_size=3, activation="softmax"),
]


@pytest.mark.parametrize("kwargs", CONV1D_GRID, ids=[str(i) for i in range(len(CONV1D_GRID))])
def test_conv1d_matches_keras(kwargs):
    compare_layer("Conv1D", (8,), kwargs, _shape(kwargs))


CONV1D_TRANSPOSE_GRID = [
    dict(kernel_size=k, strides=s, padding=p)
    for k, s, p in itertools.product([1, 2, 3, 4], [1, 2, 3], ["valid", "same"])
] + [
    dict(kernel_size=k, dilation_rate=2, padding=p)
    for k, p in itertools.product([2, 3], ["valid", "same"])
] + [
    dict(kernel_size=3, strides=2, output_padding=1),
    dict(kernel_size=4, strides=3, padding="same", output_padding=2),
    dict(kernel_size=3, strides=2, padding="same", output_padding=0),
    dict(kernel_size=3, strides=2, data_format="channels_first", activation="tanh"),
]


@pytest.mark.parametrize("kwargs", CONV1D_TRANSPOSE_GRID,
                         ids=[str(i) for i in range(len(CONV1D_TRANSPOSE_GRID))])
def test_conv1d_transpose_matches_keras(kwargs):
    compare_layer("Conv1DTranspose", (5,), kwargs, _shape(kwargs, steps=7))


POOLING_GRID = [
    dict(pool_size=p, strides=s, padding=pad)
    for p, s, pad in itertools.product([1, 2, 3], [None, 1, 2], ["valid", "same"])
] + [dict(pool_size=2, data_format="channels_first"),
     dict(pool_size=3, strides=2, padding="same", data_format="channels_first")]


@pytest.mark.parametrize("name", ["MaxPooling1D", "AveragePooling1D"])
@pytest.mark.parametrize("kwargs", POOLING_GRID, ids=[str(i) for i in range(len(POOLING_GRID))])
def test_pooling1d_matches_keras(name, kwargs):
    compare_layer(name, (), kwargs, _shape(kwargs, steps=9), distinct=True)


@pytest.mark.parametrize("name", ["GlobalAveragePooling1D", "GlobalMaxPooling1D"])
@pytest.mark.parametrize("kwargs", [dict(), dict(keepdims=True),
                                    dict(data_format="channels_first")])
def test_global_pooling1d_matches_keras(name, kwargs):
    compare_layer(name, (), kwargs, _shape(kwargs, steps=6), distinct=True)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_masked_global_average_pooling1d_matches_keras(data_format):
    mask = np.array([[1, 1, 0, 0, 0, 0], [1, 0, 1, 1, 0, 1]], dtype=bool)
    compare_layer("GlobalAveragePooling1D", (), dict(data_format=data_format),
                  _shape(dict(data_format=data_format), steps=6), mask=mask)


@pytest.mark.parametrize("name,args,kwargs", [
    ("UpSampling1D", (3,), {}),
    ("ZeroPadding1D", ((2, 1),), {}),
    ("ZeroPadding1D", (3,), dict(data_format="channels_first")),
    ("Cropping1D", ((1, 3),), {}),
    ("Cropping1D", (2,), {}),
])
def test_reshaping1d_matches_keras(name, args, kwargs):
    compare_layer(name, args, kwargs, _shape(kwargs, steps=7))


# ----------------------------------------------------------------------------------------------
# Training from Keras's initial weights, shuffle=False: History epoch by epoch
# ----------------------------------------------------------------------------------------------


def noisy_waves(n=192, steps=40, seed=0):
    """Sequences of 2 channels: class 0 a slow sine, class 1 a fast one, both noisy."""
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 2, n)
    t = np.arange(steps)
    phase = rng.uniform(0, 2 * np.pi, (n, 1))
    freq = np.where(labels == 1, 0.6, 0.2)[:, None]
    waves = np.sin(freq * t + phase)
    x = np.stack([waves, np.cos(freq * t + phase)], axis=-1) + rng.normal(0, 0.3, (n, steps, 2))
    return x.astype("float32"), labels.astype("float32")


def conv1d_net(k, padding, dilation, global_pool):
    inner = [k.layers.Conv1D(6, 3, padding=padding, dilation_rate=dilation, activation="relu"),
             k.layers.MaxPooling1D(2),
             k.layers.Conv1D(8, 3, padding=padding, dilation_rate=dilation, activation="tanh")]
    if global_pool:
        inner.append(k.layers.GlobalAveragePooling1D())
    else:
        inner += [k.layers.MaxPooling1D(3, strides=2, padding="same"), k.layers.Flatten()]
    return k.Sequential([k.Input((40, 2)), *inner, k.layers.Dense(1, activation="sigmoid")])


@pytest.fixture(scope="module")
def waves():
    return noisy_waves()


@pytest.mark.parametrize("padding,dilation,global_pool", [
    ("valid", 1, True), ("same", 1, False), ("causal", 1, True), ("causal", 2, False),
    ("valid", 2, True),
])
def test_conv1d_training_matches_keras(waves, padding, dilation, global_pool):
    x, y = waves
    keras.utils.set_random_seed(0)
    reference = conv1d_net(keras, padding, dilation, global_pool)
    ours = conv1d_net(minikeras, padding, dilation, global_pool)
    ours.set_weights(reference.get_weights())
    histories = []
    for model, k in ((reference, keras), (ours, minikeras)):
        model.compile(optimizer=k.optimizers.Adam(learning_rate=1e-2),
                      loss="binary_crossentropy", metrics=["accuracy"])
        history = model.fit(x[:160], y[:160], batch_size=32, epochs=4, shuffle=False,
                            validation_data=(x[160:], y[160:]), verbose=0)
        histories.append(history.history)
    ref_history, our_history = histories
    assert ref_history["loss"][-1] < ref_history["loss"][0]   # it did learn something
    losses = {key: ref_history[key] for key in ("loss", "val_loss")}
    assert_histories_close(losses, {key: our_history[key] for key in losses}, rtol=1e-4)
    assert sorted(our_history) == sorted(ref_history)
    for key in ("accuracy", "val_accuracy"):
        np.testing.assert_allclose(our_history[key], ref_history[key], atol=1.5 / 160,
                                   err_msg=key)


# ----------------------------------------------------------------------------------------------
# .keras files both ways
# ----------------------------------------------------------------------------------------------


def test_conv1d_files_load_across_engines(tmp_path):
    def build(k):
        return k.Sequential([
            k.Input((12, 3)),
            k.layers.ZeroPadding1D((1, 2)),
            k.layers.Conv1D(4, 3, padding="causal", dilation_rate=2, activation="relu"),
            k.layers.Conv1DTranspose(6, 3, strides=2, padding="same"),
            k.layers.Cropping1D((1, 1)),
            k.layers.MaxPooling1D(2, padding="same"),
            k.layers.UpSampling1D(2),
            k.layers.AveragePooling1D(3, strides=2),
            k.layers.Conv1D(4, 2, groups=2),
            k.layers.GlobalMaxPooling1D(keepdims=True),
            k.layers.GlobalAveragePooling1D(),
            k.layers.Dense(2),
        ])

    x = np.random.default_rng(0).random((2, 12, 3), dtype=np.float32)
    ours = build(minikeras)
    ours.save(tmp_path / "ours.keras")
    reference = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(reference.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    reference = build(keras)
    reference.save(tmp_path / "reference.keras")
    ours = minikeras.models.load_model(tmp_path / "reference.keras")
    assert ours.layers[1].get_config()["padding"] == "causal"
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


# ----------------------------------------------------------------------------------------------
# Masks from Embedding(mask_zero=True): which 1-D layers use them, as in Keras
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("middle", ["none", "conv", "max_pool", "global_max"])
def test_masks_reach_the_1d_layers_as_in_keras(middle):
    """GlobalAveragePooling1D leaves masked steps out; Conv1D and MaxPooling1D drop the mask
    (Keras warns that they destroy it), so a pooling after them averages every step; and
    GlobalMaxPooling1D ignores it (a padded step can hold the maximum)."""
    import warnings

    def build(k):
        inner = {"none": [], "conv": [k.layers.Conv1D(4, 2, padding="causal")],
                 "max_pool": [k.layers.MaxPooling1D(1)], "global_max": []}[middle]
        pool = (k.layers.GlobalMaxPooling1D() if middle == "global_max"
                else k.layers.GlobalAveragePooling1D())
        return k.Sequential([k.Input((6,), dtype="int32"),
                             k.layers.Embedding(12, 4, mask_zero=True), *inner, pool,
                             k.layers.Dense(1, activation="sigmoid")])

    x = np.array([[3, 4, 0, 0, 0, 0], [5, 1, 2, 0, 0, 0], [7, 7, 7, 7, 9, 11]])
    y = np.array([0.0, 1.0, 1.0], dtype="float32")
    keras.utils.set_random_seed(0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)  # Keras: "will destroy the mask"
        reference = build(keras)
        ours = build(minikeras)
        ours.set_weights(reference.get_weights())
        np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)
        histories = []
        for model, k in ((reference, keras), (ours, minikeras)):
            # Adam: the Embedding's rows get Keras's per-occurrence updates as well
            # (test_sparse_grads_compat).
            model.compile(optimizer=k.optimizers.Adam(0.05), loss="binary_crossentropy")
            histories.append(model.fit(x, y, epochs=4, shuffle=False, verbose=0).history)
    assert_histories_close(*histories, rtol=1e-4)


# ----------------------------------------------------------------------------------------------
# Bad arguments and inputs: the same exception type as Keras, naming the value received
# ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name,args,kwargs,shape", [
    ("Conv1D", (4, 3), dict(padding="full"), None),
    ("Conv1D", (4, 3), dict(strides=2, dilation_rate=2), None),
    ("Conv1D", (5, 3), dict(groups=2), None),
    ("Conv1D", (4, 3), {}, (2, 5, 5, 3)),                    # a 4-D input
    ("Conv1D", (4, 3), dict(groups=2), (2, 5, 3)),           # 3 channels in 2 groups
    ("Conv1DTranspose", (4, 3), dict(strides=2, output_padding=2), None),
    ("Conv1DTranspose", (4, 3), dict(padding="causal"), None),
    ("AveragePooling1D", (), {}, None),                      # pool_size has no default
    ("AveragePooling1D", (2,), {}, (2, 6)),
    ("GlobalAveragePooling1D", (), {}, (2, 6, 3, 1)),
    ("UpSampling1D", (0,), {}, None),
    ("UpSampling1D", (2.0,), {}, None),
    ("Cropping1D", ((3, 3),), {}, (2, 5, 3)),
    ("ZeroPadding1D", ((1, 2, 3),), {}, None),
])
def test_bad_input_raises_as_keras(name, args, kwargs, shape):
    """(Keras accepts padding="causal" for MaxPooling1D and AveragePooling1D and fails when
    the layer is called, with TensorFlow's InvalidArgumentError; minikeras refuses it in the
    constructor with a ValueError naming the value: tests/test_conv1d_layers.py.)"""
    def attempt(k):
        layer = getattr(k.layers, name)(*args, **kwargs)
        if shape is not None:
            layer(np.zeros(shape, dtype="float32"))

    with pytest.raises(Exception) as theirs:
        attempt(keras)
    with pytest.raises(Exception) as ours:
        attempt(minikeras)
    assert type(ours.value) is type(theirs.value) or (
        isinstance(ours.value, ValueError) and isinstance(theirs.value, ValueError)), (
        f"Keras: {theirs.value!r}; minikeras: {ours.value!r}")
