"""minikeras.activations: names, values, TensorFlow's derivatives at kinks, dtypes, errors.

(Values and gradients against real Keras are in compat_tests/test_activations_compat.py;
finite-difference checks of every backward in tests/test_gradients.py.)
"""

import math

import numpy as np
import pytest

import minikeras
from minikeras import activations, layers
from minikeras.activations.activations import _erfc_and_erf

KERAS_NAMES = {
    "celu", "elu", "exponential", "gelu", "glu", "hard_shrink", "hard_sigmoid", "hard_silu",
    "hard_swish", "hard_tanh", "leaky_relu", "linear", "log_sigmoid", "log_softmax", "mish",
    "relu", "relu6", "selu", "sigmoid", "silu", "soft_shrink", "softmax", "softplus",
    "softsign", "sparse_plus", "sparse_sigmoid", "sparsemax", "squareplus", "swish", "tanh",
    "tanh_shrink", "threshold",
}


# --------------------------------------------------------------------------- names


def test_public_names_are_exactly_keras_names():
    assert set(activations.__all__) == KERAS_NAMES | {"get", "serialize", "deserialize"}
    for name in KERAS_NAMES:
        fn = getattr(activations, name)
        assert activations.get(name) is fn
        assert isinstance(fn, activations.ActivationFunction)


def test_aliases_are_the_same_objects_and_serialize_under_the_canonical_name():
    assert activations.get("swish") is activations.silu
    assert activations.get("hard_swish") is activations.hard_silu
    assert activations.serialize(activations.swish) == "silu"
    assert activations.serialize(activations.get("hard_swish")) == "hard_silu"
    assert activations.deserialize("relu6") is activations.relu6


def test_get_accepts_none_objects_and_configs_and_rejects_the_rest():
    assert activations.get(None) is activations.linear
    assert activations.get(activations.mish) is activations.mish
    assert activations.get({"class_name": "function", "config": "elu"}) is activations.elu
    with pytest.raises(ValueError, match="'relu7'"):
        activations.get("relu7")
    def doubled(x):
        return x * 2.0

    custom = activations.get(doubled)           # any function written with keras.ops
    assert custom.__name__ == "doubled"
    y, cache = custom.forward(np.array([1.0, -3.0]))
    np.testing.assert_array_equal(y, [2.0, -6.0])
    np.testing.assert_array_equal(custom.backward(np.array([1.0, 0.5]), cache), [2.0, 1.0])
    with pytest.raises(TypeError):
        activations.get(3)


def test_only_sigmoid_and_softmax_hand_their_logits_to_the_loss():
    probabilistic = {name for name in KERAS_NAMES
                     if activations.get(name).outputs_probabilities}
    assert probabilistic == {"sigmoid", "softmax"}


# -------------------------------------------------------------------------- values

S = 1.0507009873554805   # selu scale
A = 1.6732632423543772   # selu alpha

VALUES = [
    ("relu", {}, [-2.0, 0.0, 3.0], [0.0, 0.0, 3.0]),
    ("relu", {"negative_slope": 0.5}, [-2.0, 3.0], [-1.0, 3.0]),
    ("relu", {"max_value": 2.0}, [-1.0, 1.0, 5.0], [0.0, 1.0, 2.0]),
    ("relu", {"threshold": 1.0}, [0.5, 1.0, 2.0], [0.0, 0.0, 2.0]),
    # Keras's composition: a negative threshold lets (threshold, 0) through unclipped.
    ("relu", {"threshold": -1.0}, [-2.0, -0.5, 2.0], [0.0, -0.5, 2.0]),
    ("relu", {"negative_slope": 0.5, "threshold": 1.0}, [0.0, 2.0], [-0.5, 2.0]),
    ("relu", {"negative_slope": 0.5, "max_value": 6}, [-2.0, 8.0], [-1.0, 6.0]),
    ("leaky_relu", {}, [-1.0, 2.0], [-0.2, 2.0]),
    ("relu6", {}, [-1.0, 3.0, 7.0], [0.0, 3.0, 6.0]),
    ("elu", {"alpha": 2.0}, [-1.0, 1.0], [2.0 * (math.exp(-1.0) - 1.0), 1.0]),
    ("selu", {}, [-1.0, 2.0], [S * A * (math.exp(-1.0) - 1.0), 2.0 * S]),
    ("celu", {"alpha": 2.0}, [-2.0, 3.0], [2.0 * (math.exp(-1.0) - 1.0), 3.0]),
    ("softplus", {}, [0.0, 1000.0, -1000.0], [math.log(2.0), 1000.0, 0.0]),
    ("softsign", {}, [-3.0, 1.0], [-0.75, 0.5]),
    ("silu", {}, [1.0], [1.0 / (1.0 + math.exp(-1.0))]),
    ("squareplus", {}, [0.0, 3.0], [1.0, (3.0 + math.sqrt(13.0)) / 2]),
    ("squareplus", {"b": 0}, [-2.0, 2.0], [0.0, 2.0]),
    ("gelu", {}, [1.0, -1.0], [0.8413447460685429, -0.15865525393145707]),
    ("gelu", {"approximate": True}, [1.0],
     [0.5 * (1 + math.tanh(math.sqrt(2 / math.pi) * (1 + 0.044715)))]),
    ("mish", {}, [1.0], [math.tanh(math.log1p(math.e))]),
    ("sigmoid", {}, [0.0, -1000.0, 1000.0], [0.5, 0.0, 1.0]),
    ("log_sigmoid", {}, [0.0, -1000.0], [-math.log(2.0), -1000.0]),
    ("hard_sigmoid", {}, [-4.0, -3.0, 0.0, 1.5, 3.0], [0.0, 0.0, 0.5, 0.75, 1.0]),
    ("hard_silu", {}, [-4.0, 1.5, 4.0], [0.0, 1.125, 4.0]),
    ("sparse_sigmoid", {}, [-2.0, 0.0, 0.5, 2.0], [0.0, 0.5, 0.75, 1.0]),
    ("tanh_shrink", {}, [1.0], [1.0 - math.tanh(1.0)]),
    ("hard_tanh", {}, [-2.0, 0.5, 2.0], [-1.0, 0.5, 1.0]),
    ("soft_shrink", {}, [-2.0, 0.2, 2.0], [-1.5, 0.0, 1.5]),
    ("hard_shrink", {"threshold": 1.0}, [-2.0, 0.5, 1.0, 2.0], [-2.0, 0.0, 0.0, 2.0]),
    ("threshold", {"threshold": 1.0, "default_value": -5.0}, [0.5, 1.0, 2.0],
     [-5.0, -5.0, 2.0]),
    ("sparse_plus", {}, [-2.0, 0.0, 2.0], [0.0, 0.25, 2.0]),
    ("exponential", {}, [0.0, 1.0], [1.0, math.e]),
    ("linear", {}, [-3.0, 3.0], [-3.0, 3.0]),
]


@pytest.mark.parametrize("name,kwargs,x,expected", VALUES,
                         ids=[f"{v[0]}-{v[1]}" for v in VALUES])
def test_known_values(name, kwargs, x, expected):
    y = activations.get(name)(np.array(x, dtype="float64"), **kwargs)
    # 1e-7: TensorFlow (so minikeras) rounds leaky_relu's slope and gelu's constants to float32.
    np.testing.assert_allclose(y, expected, rtol=1e-7, atol=1e-300)


def test_softmax_log_softmax_glu_along_their_axis():
    x = np.array([[1.0, 2.0, 3.0, 1000.0], [0.0, 0.0, 0.0, 0.0]])
    y = activations.softmax(x)
    np.testing.assert_allclose(y.sum(axis=-1), 1.0)
    np.testing.assert_allclose(y[1], 0.25)
    np.testing.assert_allclose(activations.softmax(x, axis=0)[:, 0],
                               [math.e / (1 + math.e), 1 / (1 + math.e)])
    np.testing.assert_allclose(activations.softmax(x[:1, :3], axis=None).sum(), 1.0)
    # log_softmax stays finite where log(softmax) underflows to -inf.
    np.testing.assert_allclose(activations.log_softmax(x)[0], x[0] - 1000.0)
    np.testing.assert_allclose(activations.log_softmax(x)[1], np.log(0.25))
    gated = activations.glu(np.array([[2.0, 4.0, 0.0, 1000.0]]))
    np.testing.assert_allclose(gated, [[1.0, 4.0]])
    assert activations.glu(np.zeros((6, 2)), axis=0).shape == (3, 2)


def test_sparsemax_follows_keras_threshold():
    # Keras sums the partial sums over the support: tau = (0.5 + 0.9 - 1) / 2 = 0.2.
    np.testing.assert_allclose(activations.sparsemax(np.array([[0.5, 0.4]])), [[0.3, 0.2]])
    np.testing.assert_allclose(activations.sparsemax(np.array([[1.0, 0.0, -1.0]])),
                               [[1.0, 0.0, 0.0]])
    np.testing.assert_allclose(activations.sparsemax(np.array([[1.0, 0.0], [3.0, 0.5]]),
                                                     axis=0), [[0.0, 0.0], [1.0, 0.5]])


def test_erf_is_accurate_to_float64():
    a = np.concatenate([np.linspace(0.0, 7.0, 7001), [1e-12, 1.999999, 2.0, 27.0]])
    erfc, erf = _erfc_and_erf(a)
    np.testing.assert_allclose(erf, [math.erf(v) for v in a], rtol=1e-14, atol=1e-300)
    np.testing.assert_allclose(erfc, [math.erfc(v) for v in a], rtol=1e-12, atol=1e-300)


def test_gelu_tail_does_not_cancel():
    # 1 + erf(x / sqrt 2) is tiny here; computing it as erfc keeps every digit.
    x = np.array([-8.0, -10.0])
    expected = [x_ * 0.5 * math.erfc(-x_ * float(np.float32(1 / math.sqrt(2)))) for x_ in x]
    np.testing.assert_allclose(activations.gelu(x), expected, rtol=1e-12)


# --------------------------------------------------- derivatives where they are kinked

# dy/dx at the kink itself, as TensorFlow's gradient defines it.
KINK_DERIVATIVES = [
    ("relu", {}, 0.0, 0.0),
    ("relu", {"threshold": 1.0}, 1.0, 0.0),
    ("relu", {"negative_slope": 0.1, "threshold": 1.0}, 1.0, 0.0),
    ("relu", {"max_value": 2.0}, 2.0, 1.0),          # the clip passes at its edge
    ("relu", {"max_value": 6}, 6.0, 0.0),            # relu6's does not
    ("relu6", {}, 0.0, 0.0),
    ("relu6", {}, 6.0, 0.0),
    ("leaky_relu", {}, 0.0, np.float32(0.2)),
    ("elu", {"alpha": 0.5}, 0.0, 0.5),
    ("selu", {}, 0.0, S),
    ("celu", {}, 0.0, 2.0),                          # max and min both pass at 0
    ("hard_tanh", {}, 1.0, 1.0),
    ("hard_tanh", {}, -1.0, 1.0),
    ("hard_sigmoid", {}, 3.0, 0.0),
    ("hard_sigmoid", {}, -3.0, 0.0),
    ("hard_silu", {}, 3.0, 1.0),
    ("sparse_sigmoid", {}, 1.0, 0.0),
    ("sparse_plus", {}, 1.0, 1.0),
    ("sparse_plus", {}, -1.0, 0.0),
    ("soft_shrink", {}, 0.5, 0.0),
    ("hard_shrink", {}, -0.5, 0.0),
    ("threshold", {"threshold": 0.0, "default_value": 1.0}, 0.0, 0.0),
]


@pytest.mark.parametrize("name,kwargs,x,slope", KINK_DERIVATIVES,
                         ids=[f"{k[0]}-{k[1]}-{k[2]}" for k in KINK_DERIVATIVES])
def test_derivative_at_kink_is_tensorflows(name, kwargs, x, slope):
    fn = activations.get(name)
    _, cache = fn.forward(np.array([x]), **kwargs)
    np.testing.assert_allclose(fn.backward(np.array([1.0]), cache), [slope], rtol=1e-12)


def test_backward_never_modifies_the_incoming_gradient():
    x = np.linspace(-3, 3, 12).reshape(3, 4)
    for name in sorted(KERAS_NAMES - {"threshold"}):
        fn = activations.get(name)
        y, cache = fn.forward(x)
        dy = np.ones_like(y)
        fn.backward(dy, cache)
        assert np.all(dy == 1.0), name


# ------------------------------------------------------------------ dtypes and range


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_dtype_is_kept_and_extremes_stay_finite(dtype):
    x = np.array([[-1e4, -100.0, -20.0, -1.0, 0.0, 1.0, 20.0, 100.0, 1e4, 3.0]], dtype=dtype)
    for name in sorted(KERAS_NAMES - {"threshold", "exponential"}):
        fn = activations.get(name)
        with np.errstate(over="raise", invalid="raise", divide="raise"):
            y, cache = fn.forward(x)
            dx = fn.backward(np.ones_like(y), cache)
        assert y.dtype == dtype and dx.dtype == dtype, name
        assert np.isfinite(y).all() and np.isfinite(dx).all(), name


def test_integer_input_becomes_floatx():
    assert activations.relu([1, -2]).dtype == np.float32
    minikeras.backend.set_floatx("float64")
    try:
        assert activations.sigmoid(np.array([0, 1])).dtype == np.float64
    finally:
        minikeras.backend.set_floatx("float32")


# ------------------------------------------------------------------------- errors


def test_bad_arguments_are_reported_with_their_value():
    with pytest.raises(ValueError, match="divisible by 2.*shape=\\(2, 3\\)"):
        activations.glu(np.zeros((2, 3)))
    with pytest.raises(TypeError, match="default_value=None"):
        activations.threshold(np.zeros(3))              # required, as in Keras
    with pytest.raises(TypeError, match="threshold=None"):
        layers.Dense(2, activation="threshold")(np.zeros((1, 3), dtype="float32"))
    np.testing.assert_allclose(activations.threshold(np.array([1.0, 3.0]), 2.0, 0.0), [0, 3])
    with pytest.raises(TypeError, match="approximate='yes'"):
        activations.gelu(np.zeros(3), approximate="yes")
    with pytest.raises(ValueError, match="max_value=-1"):
        activations.relu(np.zeros(3), max_value=-1)
    with pytest.raises(TypeError, match="negative_slope='a'"):
        activations.leaky_relu(np.zeros(3), negative_slope="a")
    with pytest.raises(ValueError, match="axis=2"):
        activations.softmax(np.zeros((2, 3)), axis=2)
    with pytest.raises(ValueError, match="alpha"):
        activations.celu(np.zeros(3), alpha=0)


# -------------------------------------------------------------------- inside layers


@pytest.mark.parametrize("name", sorted(KERAS_NAMES - {"threshold", "glu"}))
def test_every_activation_works_by_name_in_dense(name):
    layer = layers.Dense(4, activation=name)
    out = layer(np.random.default_rng(0).normal(size=(3, 5)).astype("float32"))
    assert out.shape == (3, 4) and out.dtype == np.float32
    assert layer.get_config()["activation"] == activations.serialize(activations.get(name))


def test_glu_halves_the_output_width():
    layer = layers.Dense(6, activation="glu")
    assert layer(np.ones((2, 3), dtype="float32")).shape == (2, 3)
    assert activations.glu.compute_output_shape((None, 6)) == (None, 3)
    assert activations.relu.compute_output_shape((None, 6)) == (None, 6)
