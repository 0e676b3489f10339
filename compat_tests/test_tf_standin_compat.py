"""The TensorFlow stand-in (minikeras/tf_standin/) against real TensorFlow: each function on the
same inputs gives the same values, dtype and shape; GradientTape gives TensorFlow's gradients."""

import numpy as np
import pytest
import tensorflow as tf

import minikeras
import minikeras.tf_standin as mtf

RNG = np.random.default_rng(0)
A = RNG.normal(size=(3, 4)).astype("float32")
B = RNG.normal(size=(4, 2)).astype("float32")
P = np.abs(A) + 0.5
LABELS = np.array([1, 0, 3])
ONE_HOT = np.eye(4, dtype="float32")[LABELS]

# (name, function of the module `m`): each runs once on TensorFlow and once on the stand-in.
CASES = [
    ("constant list of floats", lambda m: m.constant([1.0, 2.5])),
    ("constant list of ints", lambda m: m.constant([[1, 2], [3, 4]])),
    ("constant with dtype and shape", lambda m: m.constant(0.5, dtype=m.float64, shape=(2, 3))),
    ("constant reshaped", lambda m: m.constant([1, 2, 3, 4, 5, 6], shape=[2, 3])),
    ("convert_to_tensor", lambda m: m.convert_to_tensor(A)),
    ("convert_to_tensor dtype", lambda m: m.convert_to_tensor([1, 2], dtype=m.float32)),
    ("ones", lambda m: m.ones((2, 3))),
    ("zeros int32", lambda m: m.zeros([2], dtype=m.int32)),
    ("ones_like", lambda m: m.ones_like(A)),
    ("zeros_like", lambda m: m.zeros_like(LABELS)),
    ("fill", lambda m: m.fill([2, 2], 7.0)),
    ("range one argument", lambda m: m.range(5)),
    ("range floats", lambda m: m.range(0.0, 1.0, 0.25)),
    ("range start limit delta", lambda m: m.range(2, 11, 3)),
    ("cast", lambda m: m.cast(A * 3, m.int32)),
    ("cast ints to float", lambda m: m.cast(LABELS, m.float32)),
    ("reshape", lambda m: m.reshape(A, (2, -1))),
    ("transpose", lambda m: m.transpose(A)),
    ("transpose perm", lambda m: m.transpose(A.reshape(3, 2, 2), perm=[2, 0, 1])),
    ("concat", lambda m: m.concat([A, A], axis=0)),
    ("concat last axis", lambda m: m.concat([A, P], -1)),
    ("stack", lambda m: m.stack([A, P])),
    ("stack axis 1", lambda m: m.stack([A, P], axis=1)),
    ("expand_dims", lambda m: m.expand_dims(A, 1)),
    ("squeeze", lambda m: m.squeeze(A[:, :1])),
    ("shape", lambda m: m.shape(A)),
    ("size", lambda m: m.size(A)),
    ("rank", lambda m: m.rank(A)),
    ("one_hot", lambda m: m.one_hot(LABELS, 4)),
    ("one_hot on/off", lambda m: m.one_hot(LABELS, 5, on_value=2.0, off_value=-1.0)),
    ("where", lambda m: m.where(A > 0, A, P)),
    ("clip_by_value", lambda m: m.clip_by_value(A, -0.5, 0.5)),
    ("gather", lambda m: m.gather(A, [2, 0])),
    ("tile", lambda m: m.tile(A, [2, 1])),
    ("matmul", lambda m: m.matmul(A, B)),
    ("linalg.matmul transpose_b", lambda m: m.linalg.matmul(A, A, transpose_b=True)),
    ("linalg.matmul transpose_a", lambda m: m.linalg.matmul(A, A, transpose_a=True)),
    ("linalg.norm", lambda m: m.linalg.norm(A)),
    ("reduce_sum", lambda m: m.reduce_sum(A)),
    ("reduce_sum axis", lambda m: m.reduce_sum(A, axis=1)),
    ("reduce_sum keepdims", lambda m: m.reduce_sum(A, axis=0, keepdims=True)),
    ("reduce_mean", lambda m: m.reduce_mean(A, axis=-1)),
    ("reduce_mean axes list", lambda m: m.reduce_mean(A, axis=[0, 1])),
    ("reduce_max", lambda m: m.reduce_max(A, 0)),
    ("reduce_min", lambda m: m.reduce_min(A)),
    ("reduce_prod", lambda m: m.reduce_prod(P, 1)),
    ("reduce_std", lambda m: m.math.reduce_std(A, 0)),
    ("reduce_variance", lambda m: m.math.reduce_variance(A)),
    ("reduce_any", lambda m: m.reduce_any(A > 1.0, 1)),
    ("reduce_all", lambda m: m.reduce_all(A > -5.0)),
    ("reduce_logsumexp", lambda m: m.reduce_logsumexp(A, 1)),
    ("argmax default axis", lambda m: m.argmax(A)),
    ("argmax axis 1", lambda m: m.argmax(A, axis=1)),
    ("math.argmin", lambda m: m.math.argmin(A, 1)),
    ("math.count_nonzero", lambda m: m.math.count_nonzero(A > 0)),
    ("add", lambda m: m.add(A, 1.0)),
    ("subtract", lambda m: m.subtract(A, P)),
    ("multiply", lambda m: m.multiply(A, P)),
    ("divide", lambda m: m.divide(A, P)),
    ("pow", lambda m: m.pow(P, 2.0)),
    ("maximum", lambda m: m.maximum(A, 0.0)),
    ("minimum", lambda m: m.minimum(A, P)),
    ("equal", lambda m: m.equal(LABELS, 0)),
    ("math.not_equal", lambda m: m.math.not_equal(LABELS, 1)),
    ("greater", lambda m: m.greater(A, 0.0)),
    ("math.less_equal", lambda m: m.math.less_equal(A, 0.0)),
    ("math.logical_and", lambda m: m.math.logical_and(A > 0, P > 1)),
    ("exp", lambda m: m.exp(A)),
    ("math.log", lambda m: m.math.log(P)),
    ("math.log1p", lambda m: m.math.log1p(P)),
    ("sqrt", lambda m: m.sqrt(P)),
    ("math.rsqrt", lambda m: m.math.rsqrt(P)),
    ("square", lambda m: m.square(A)),
    ("abs", lambda m: m.abs(A)),
    ("math.sign", lambda m: m.math.sign(A)),
    ("math.round", lambda m: m.math.round(A * 3)),
    ("math.floor", lambda m: m.math.floor(A * 3)),
    ("math.sin", lambda m: m.math.sin(A)),
    ("math.cos", lambda m: m.math.cos(A)),
    ("tanh", lambda m: m.tanh(A)),
    ("sigmoid", lambda m: m.sigmoid(A)),
    ("math.softplus", lambda m: m.math.softplus(A)),
    ("math.reciprocal", lambda m: m.math.reciprocal(P)),
    ("math.is_nan", lambda m: m.math.is_nan(A)),
    ("nn.relu", lambda m: m.nn.relu(A)),
    ("nn.relu6", lambda m: m.nn.relu6(A * 10)),
    ("nn.sigmoid", lambda m: m.nn.sigmoid(A)),
    ("nn.tanh", lambda m: m.nn.tanh(A)),
    ("nn.softmax", lambda m: m.nn.softmax(A)),
    ("nn.softmax axis 0", lambda m: m.nn.softmax(A, axis=0)),
    ("nn.log_softmax", lambda m: m.nn.log_softmax(A)),
    ("nn.softplus", lambda m: m.nn.softplus(A)),
    ("nn.elu", lambda m: m.nn.elu(A)),
    ("nn.selu", lambda m: m.nn.selu(A)),
    ("nn.gelu", lambda m: m.nn.gelu(A)),
    ("nn.gelu approximate", lambda m: m.nn.gelu(A, approximate=True)),
    ("nn.silu", lambda m: m.nn.silu(A)),
    ("nn.leaky_relu", lambda m: m.nn.leaky_relu(A)),
    ("nn.leaky_relu alpha", lambda m: m.nn.leaky_relu(A, alpha=0.1)),
    ("nn.softmax_cross_entropy_with_logits",
     lambda m: m.nn.softmax_cross_entropy_with_logits(labels=ONE_HOT, logits=A)),
    ("nn.sparse_softmax_cross_entropy_with_logits",
     lambda m: m.nn.sparse_softmax_cross_entropy_with_logits(labels=LABELS, logits=A)),
    ("nn.sigmoid_cross_entropy_with_logits",
     lambda m: m.nn.sigmoid_cross_entropy_with_logits(labels=(A > 0).astype("float32"),
                                                      logits=A * 4)),
]


@pytest.mark.parametrize("name, function", CASES, ids=[c[0] for c in CASES])
def test_function_matches_tensorflow(name, function):
    expected = function(tf)
    got = function(mtf)
    assert isinstance(got, minikeras.backend.eager_tensor.EagerTensor)
    assert got.shape == tuple(expected.shape)
    assert got.dtype.name == expected.dtype.name
    if got.dtype.kind == "f":
        np.testing.assert_allclose(got.numpy(), expected.numpy(), rtol=2e-6, atol=2e-6)
    else:
        np.testing.assert_array_equal(got.numpy(), expected.numpy())


def test_variable_assign_methods_match_tensorflow():
    for m in (tf, mtf):
        v = m.Variable([1.0, 2.0])
        v.assign([3.0, 4.0])
        v.assign_add([0.5, 0.5])
        v.assign_sub([1.0, 0.0])
        w = m.Variable(3)
        assert w.dtype.name == "int32"
        assert (v.numpy().tolist(), v.dtype.name, tuple(v.shape)) == ([2.5, 4.5], "float32",
                                                                        (2,))


def test_random_draws_have_tensorflow_shapes_dtypes_and_ranges():
    mtf.random.set_seed(3)
    normal = mtf.random.normal((2000,), mean=1.0, stddev=2.0)
    uniform = mtf.random.uniform([3, 4], minval=-1, maxval=1)
    ints = mtf.random.uniform((50,), minval=0, maxval=10, dtype=mtf.int32)
    for got, expected in ((normal, tf.random.normal((2000,), mean=1.0, stddev=2.0)),
                          (uniform, tf.random.uniform([3, 4], minval=-1, maxval=1)),
                          (ints, tf.random.uniform((50,), 0, 10, dtype=tf.int32))):
        assert got.shape == tuple(expected.shape) and got.dtype.name == expected.dtype.name
    assert abs(float(np.mean(normal)) - 1.0) < 0.2 and abs(float(np.std(normal)) - 2.0) < 0.2
    assert -1 <= float(np.min(uniform)) and float(np.max(uniform)) < 1
    assert 0 <= int(np.min(ints)) and int(np.max(ints)) < 10
    mtf.random.set_seed(3)      # seeding repeats the draws
    np.testing.assert_array_equal(mtf.random.normal((2000,), mean=1.0, stddev=2.0), normal)


def test_identity_and_devices():
    assert mtf.__version__.startswith("2.") and "minikeras" in mtf.__version__
    assert mtf.version.VERSION == mtf.__version__
    assert [d.device_type for d in mtf.config.list_physical_devices()] == ["CPU"]
    assert mtf.config.list_physical_devices("GPU") == []
    assert [d.device_type for d in tf.config.list_physical_devices("CPU")] == ["CPU"]
    mtf.config.run_functions_eagerly(True)
    assert mtf.config.functions_run_eagerly()
    mtf.config.run_functions_eagerly(False)
    assert mtf.get_logger().name == tf.get_logger().name


def test_gradient_tape_on_variables_and_ops_matches_tensorflow():
    def run(m):
        w = m.Variable(B)
        b = m.Variable(np.zeros(2, dtype="float32"))
        with m.GradientTape(persistent=True) as tape:
            z = m.matmul(A, w) + b
            # Labels summing to 1: for others TensorFlow's gradient is softmax - labels,
            # not the derivative of its loss.
            labels = np.eye(2, dtype="float32")[LABELS % 2]
            loss = m.reduce_mean(m.nn.softmax_cross_entropy_with_logits(
                labels=labels, logits=z)) + m.reduce_sum(m.square(w)) * 0.01
            other = m.reduce_sum(m.exp(m.nn.relu(z)))
        first = tape.gradient(loss, [w, b])
        second = tape.gradient(other, w)
        return [g.numpy() for g in first] + [second.numpy()]

    for got, expected in zip(run(mtf), run(tf)):
        np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


def test_non_persistent_tape_refuses_a_second_gradient():
    w = mtf.Variable(1.0)
    with mtf.GradientTape() as tape:
        y = w * w
    assert float(tape.gradient(y, w)) == 2.0
    with pytest.raises(RuntimeError, match="persistent=True"):
        tape.gradient(y, w)


def test_function_decorator_runs_eagerly():
    calls = []

    @mtf.function
    def plain(x):
        calls.append(x)
        return x * 2

    @mtf.function(reduce_retracing=True)
    def with_arguments(x):
        return x + 1

    assert plain(3) == 6 and with_arguments(3) == 4 and calls == [3]


def test_layer_model_and_loss_outputs_read_with_numpy():
    model = minikeras.Sequential([minikeras.Input((4,)), minikeras.layers.Dense(2)])
    out = model(A)
    loss = minikeras.losses.MeanSquaredError()(np.zeros((3, 2)), out)
    assert type(out.numpy()) is np.ndarray and out.numpy().shape == (3, 2)
    assert loss.numpy().shape == () and loss.dtype.name == "float32"
    np.testing.assert_allclose(loss.numpy(), np.mean(out.numpy() ** 2), rtol=1e-6)
    # Arithmetic on a tensor gives plain arrays (the fast paths never see the subclass).
    assert type(out + 1) is np.ndarray and type(np.exp(out)) is np.ndarray


def test_watched_constants_get_tensorflows_gradients():
    def run(m):
        x = m.constant([[1.0, -2.0], [3.0, 0.5]])
        unwatched = m.constant(2.0)
        with m.GradientTape(persistent=True) as tape:
            tape.watch(x)
            y = m.reduce_sum(m.nn.sigmoid(x) * x) + x[0, 1] ** 2
            z = y * y + unwatched
            w = m.matmul(x, x)
        return [tape.gradient(z, x).numpy(), tape.gradient(z, y).numpy(),
                tape.gradient(w, x).numpy(), tape.gradient(z, unwatched)]

    got, expected = run(mtf), run(tf)
    assert got[3] is None and expected[3] is None
    for g, e in zip(got[:3], expected[:3]):
        np.testing.assert_allclose(g, e, rtol=1e-5)
