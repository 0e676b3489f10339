"""Every built-in activation against Keras (TensorFlow backend): direct outputs and gradients
on a grid that includes the kinks and extreme values, and training inside a model."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from compat_tests.compare import (
    assert_histories_close,
    build_pair,
    fit_both,
    per_module,
    two_circles,
)

KERAS_NAMES = sorted(n for n in dir(keras.activations)
                     if not n.startswith("_") and n not in ("get", "serialize", "deserialize"))

# Kinks, thresholds and extremes: where a wrong one-sided derivative or an overflow shows.
GRID = np.concatenate([
    np.linspace(-8.0, 8.0, 321),
    [-1e4, -100.0, -88.0, -30.0, -20.0, -15.0, -6.0, -3.0, -1.0, -0.5, -1e-8, 0.0, 1e-8, 0.5,
     1.0, 3.0, 6.0, 15.0, 20.0, 30.0, 88.0, 100.0, 1e4],
])

# Keyword arguments tried besides the defaults (threshold has no defaults in Keras).
ARGUMENTS = {
    "relu": [{}, {"negative_slope": 0.1}, {"max_value": 6.0}, {"max_value": 2.5},
             {"threshold": 0.5}, {"threshold": -1.0},
             {"negative_slope": 0.2, "max_value": 4.0, "threshold": 0.5},
             {"negative_slope": 0.1, "threshold": -1.0, "max_value": 6}],
    "leaky_relu": [{}, {"negative_slope": 0.5}],
    "elu": [{}, {"alpha": 0.5}],
    "celu": [{}, {"alpha": 2.0}],
    "gelu": [{}, {"approximate": True}],
    "soft_shrink": [{}, {"threshold": 1.0}],
    "hard_shrink": [{}, {"threshold": 1.0}],
    "squareplus": [{}, {"b": 1}],
    "threshold": [{"threshold": 0.5, "default_value": -2.0}, {"threshold": 0.0,
                                                             "default_value": 0.0}],
    "softmax": [{}, {"axis": 0}, {"axis": None}],
    "log_softmax": [{}, {"axis": 0}],
    "glu": [{}, {"axis": 0}],
    "sparsemax": [{}, {"axis": 0}],
}
AXIS_NAMES = {"softmax", "log_softmax", "glu", "sparsemax"}
CASES = [(name, kwargs) for name in KERAS_NAMES for kwargs in ARGUMENTS.get(name, [{}])]


def test_minikeras_has_every_keras_activation():
    assert set(KERAS_NAMES) <= set(minikeras.activations.__all__)
    for name in KERAS_NAMES:
        assert minikeras.activations.serialize(minikeras.activations.get(name)) == \
            keras.activations.serialize(keras.activations.get(name))


def _inputs(name, dtype):
    if name in AXIS_NAMES:
        x = np.random.default_rng(0).normal(0.0, 3.0, size=(24, 6))
        x[0] = [50.0, -50.0, 0.0, 1.0, 2.0, 3.0]           # large logits
        x[1] = [0.0, 0.0, 0.0, 0.0, 0.0, 0.0]               # ties
        return x.astype(dtype)
    return GRID.astype(dtype)


def _keras_value_and_gradient(name, kwargs, x, dy):
    xt = tf.constant(x)
    with tf.GradientTape() as tape:
        tape.watch(xt)
        y = getattr(keras.activations, name)(xt, **kwargs)
    return y.numpy(), tape.gradient(y, xt, output_gradients=tf.constant(dy)).numpy()


@pytest.mark.parametrize("dtype,rtol,atol", [("float32", 2e-5, 1e-6),
                                             ("float64", 1e-10, 1e-12)])
@pytest.mark.parametrize("name,kwargs", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_activation_values_and_gradients_match_keras(name, kwargs, dtype, rtol, atol):
    fn = minikeras.activations.get(name)
    x = _inputs(name, dtype)
    with np.errstate(over="ignore"):
        y, cache = fn.forward(x, **kwargs)
    dy = np.random.default_rng(1).uniform(0.5, 1.5, size=y.shape).astype(dtype)
    dx = fn.backward(dy, cache)
    ref_y, ref_dx = _keras_value_and_gradient(name, kwargs, x, dy)
    assert y.dtype == ref_y.dtype and dx.dtype == ref_dx.dtype
    finite = np.isfinite(ref_y)                  # exponential overflows to inf on both
    np.testing.assert_array_equal(np.isfinite(y), finite)
    np.testing.assert_allclose(y[finite], ref_y[finite], rtol=rtol, atol=atol)
    if name == "sparsemax":
        # Ties in the sort: TensorFlow's gradient follows its own order of equal entries.
        dx, ref_dx = dx[2:], ref_dx[2:]
    if dtype == "float32" and name in ("sigmoid", "silu", "swish", "tanh", "mish", "glu",
                                       "log_sigmoid", "softplus", "elu", "selu", "gelu"):
        # TF's float32 kernels (Eigen's sigmoid/tanh/exp) differ from NumPy's in the last bit;
        # derivatives formed as 1 - y or y + 1 next to saturation amplify that.
        rtol, atol = 5e-4, 2e-6
    np.testing.assert_allclose(dx, ref_dx, rtol=rtol, atol=atol)


def test_activation_one_sided_derivatives_at_kinks_are_tensorflows():
    points = np.array([-3.0, -1.0, -0.5, 0.0, 0.5, 1.0, 3.0, 6.0], dtype="float32")
    for name in ["relu", "relu6", "leaky_relu", "elu", "selu", "celu", "hard_sigmoid",
                 "hard_silu", "hard_tanh", "soft_shrink", "hard_shrink", "sparse_plus",
                 "sparse_sigmoid"]:
        fn = minikeras.activations.get(name)
        _, cache = fn.forward(points)
        ours = fn.backward(np.ones_like(points), cache)
        _, ref = _keras_value_and_gradient(name, {}, points, np.ones_like(points))
        np.testing.assert_allclose(ours, ref, rtol=1e-6, err_msg=name)


# ---------------------------------------------------------------- trained in a model

X, Y = two_circles(n=200, seed=1)

# Every activation usable by name, six to a model (one per hidden layer).
HIDDEN_GROUPS = [
    ("relu", "elu", "selu", "gelu", "leaky_relu", "relu6"),
    ("celu", "softplus", "softsign", "silu", "swish", "squareplus"),
    ("tanh", "tanh_shrink", "hard_tanh", "mish", "sigmoid", "sparse_sigmoid"),
    ("hard_sigmoid", "log_sigmoid", "hard_silu", "hard_swish", "soft_shrink", "sparse_plus"),
    ("hard_shrink", "linear", "exponential", "softmax", "log_softmax", "sparsemax"),
]


def _hidden_model(group):
    def build(k):
        return k.Sequential(
            [k.layers.Input((2,))]
            + [k.layers.Dense(6, activation=name) for name in group]
            + [k.layers.Dense(1, activation="sigmoid")]
        )
    return build


def test_every_activation_is_trained_in_a_model():
    used = {name for group in HIDDEN_GROUPS for name in group} | {"glu", "threshold"}
    assert used == set(KERAS_NAMES)


@pytest.mark.parametrize("group", HIDDEN_GROUPS, ids=["-".join(g) for g in HIDDEN_GROUPS])
def test_hidden_activations_train_like_keras(group):
    reference, ours = build_pair(_hidden_model(group))
    ref, got = fit_both(reference, ours, X, Y,
                        dict(loss="binary_crossentropy", optimizer="adam",
                             metrics=["accuracy"]),
                        epochs=20, batch_size=32)
    assert_histories_close(ref, got, rtol=1e-4)


@pytest.fixture
def keras_float64_policy():
    """Keras caches its global dtype policy from floatx when the first layer is made, so
    set_floatx alone (as build_pair does) leaves later Keras layers in float32."""
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_dtype_policy("float32")


def test_gelu_exact_trains_like_keras_in_float64(keras_float64_policy):
    reference, ours = build_pair(_hidden_model(("gelu", "gelu", "mish", "selu", "tanh")),
                                 floatx="float64")
    assert {w.dtype for w in reference.weights} == {"float64"}
    # Plain SGD: Keras's float64 Adam rounds its beta powers to float32 (see the report).
    ref, got = fit_both(reference, ours, X.astype("float64"), Y.astype("float64"),
                        dict(loss="binary_crossentropy",
                             optimizer=per_module(lambda k: k.optimizers.SGD(0.2))),
                        epochs=20, batch_size=32)
    assert_histories_close(ref, got, rtol=1e-7, atol=1e-10)
    assert ref["loss"][-1] < ref["loss"][0] - 1e-3          # it did train


def test_glu_output_trains_like_keras():
    # glu halves its input: Dense(8, activation="glu") gives 4 outputs (Keras cannot put a
    # Dense after it in a Sequential, so it ends the model here).
    rng = np.random.default_rng(2)
    x = rng.normal(size=(200, 3)).astype("float32")
    y = np.tanh(x @ rng.normal(size=(3, 4))).astype("float32")

    def build(k):
        return k.Sequential([k.layers.Input((3,)), k.layers.Dense(8, activation="tanh"),
                             k.layers.Dense(8, activation="glu")])

    reference, ours = build_pair(build)
    ref, got = fit_both(reference, ours, x, y, dict(loss="mse", optimizer="adam"),
                        epochs=20, batch_size=32)
    assert_histories_close(ref, got, rtol=1e-4)
