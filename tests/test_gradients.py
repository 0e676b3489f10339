"""Every hand-written backward against central finite differences, in float64.

Activations, losses (probability and logits paths, label smoothing, sample weights and every
reduction), the core layers (Dense, Activation, Flatten, Reshape, Dropout) and a whole
Sequential model's backprop including weight and activity regularizers.
"""

import numpy as np
import pytest
from gradcheck import check_gradient, check_layer, numerical_gradient, relative_error

import minikeras
from minikeras import activations, layers, losses, regularizers
from minikeras.losses import reduce_weighted_values


@pytest.fixture(autouse=True)
def _float64():
    minikeras.backend.set_floatx("float64")
    yield
    minikeras.backend.set_floatx("float32")


# ------------------------------------------------------------------------ activations

# Every kink (and every threshold used below) is avoided by the test points.
KINKS = np.array([0.0, 0.2, -0.2, 0.3, -0.3, 0.5, -0.5, 0.7, -0.7, 1.0, -1.0, 3.0, -3.0, 4.0,
                  6.0])


def _points_away_from_kinks(shape, seed=0, low=-7.0, high=8.0):
    """Test inputs covering every region between kinks, none within 0.02 of one."""
    fixed = np.array([-6.5, -4.0, -2.0, -1.2, -0.85, -0.6, -0.4, -0.1, 0.1, 0.4, 0.6, 0.85,
                      1.5, 2.5, 3.5, 5.0, 6.5, 7.5])
    size = int(np.prod(shape))
    x = np.random.default_rng(seed).uniform(low, high, size)
    x[:min(size, fixed.size)] = fixed[:size]
    near = np.min(np.abs(x[:, None] - KINKS[None, :]), axis=1) < 0.02
    x[near] += 0.05
    return x.reshape(shape)


ELEMENTWISE_CASES = [
    ("linear", {}), ("exponential", {}),
    ("relu", {}), ("relu", {"negative_slope": 0.1}), ("relu", {"max_value": 4.0}),
    ("relu", {"max_value": 6}), ("relu", {"threshold": 0.5}), ("relu", {"threshold": -1.0}),
    ("relu", {"negative_slope": 0.1, "max_value": 4.0, "threshold": 0.5}),
    ("relu", {"negative_slope": 0.2, "threshold": -1.0, "max_value": 6}),
    ("leaky_relu", {}), ("leaky_relu", {"negative_slope": 0.3}), ("relu6", {}),
    ("elu", {}), ("elu", {"alpha": 0.5}), ("selu", {}), ("celu", {}), ("celu", {"alpha": 2.0}),
    ("softplus", {}), ("softsign", {}), ("silu", {}), ("swish", {}), ("squareplus", {}),
    ("squareplus", {"b": 2}), ("gelu", {}), ("gelu", {"approximate": True}), ("mish", {}),
    ("sigmoid", {}), ("log_sigmoid", {}), ("hard_sigmoid", {}), ("hard_silu", {}),
    ("hard_swish", {}), ("sparse_sigmoid", {}), ("tanh", {}), ("tanh_shrink", {}),
    ("hard_tanh", {}), ("soft_shrink", {}), ("soft_shrink", {"threshold": 0.3}),
    ("hard_shrink", {}), ("hard_shrink", {"threshold": 0.7}),
    ("threshold", {"threshold": 0.2, "default_value": -1.0}), ("sparse_plus", {}),
]

AXIS_CASES = [
    ("softmax", {}), ("softmax", {"axis": 1}), ("softmax", {"axis": None}),
    ("log_softmax", {}), ("log_softmax", {"axis": 0}), ("glu", {}), ("glu", {"axis": 1}),
    ("sparsemax", {}), ("sparsemax", {"axis": 1}),
]


def _check_activation(name, kwargs, x):
    fn = activations.get(name)
    y, cache = fn.forward(x, **kwargs)
    r = np.random.default_rng(1).normal(size=y.shape)
    dx = fn.backward(r, cache)
    assert dx.shape == x.shape
    check_gradient(lambda v: np.sum(fn.forward(v, **kwargs)[0] * r), x, dx,
                   name=f"{name}{kwargs}")


@pytest.mark.parametrize("name,kwargs", ELEMENTWISE_CASES,
                         ids=[f"{n}-{k}" for n, k in ELEMENTWISE_CASES])
def test_elementwise_activation_backward(name, kwargs):
    _check_activation(name, kwargs, _points_away_from_kinks((6, 7)))


@pytest.mark.parametrize("name,kwargs", AXIS_CASES, ids=[f"{n}-{k}" for n, k in AXIS_CASES])
def test_axis_activation_backward(name, kwargs):
    x = np.random.default_rng(2).normal(0, 1.5, size=(3, 4, 6))
    _check_activation(name, kwargs, x)


def test_sparsemax_backward_with_several_supports():
    # Rows whose support holds 1, 2, 3 and all entries.
    x = np.array([[3.0, 0.1, -1.0, -2.0], [0.5, 0.45, -3.0, -3.0], [0.3, 0.28, 0.26, -3.0],
                  [0.01, 0.02, -0.03, 0.04]])
    y, _ = activations.sparsemax.forward(x)
    assert (y > 0).sum(axis=1).tolist() == [1, 2, 3, 4]
    _check_activation("sparsemax", {}, x)


def test_every_activation_is_gradient_checked():
    checked = {name for name, _ in ELEMENTWISE_CASES + AXIS_CASES}
    assert checked == set(activations._BY_NAME)


# ------------------------------------------------------------------------------ losses

RNG = np.random.default_rng(3)
N, K = 5, 4


def _probabilities(n=N, k=K, seed=4):
    e = np.exp(np.random.default_rng(seed).normal(size=(n, k)))
    return e / e.sum(axis=-1, keepdims=True)


def _onehot(n=N, k=K, seed=5):
    return np.eye(k)[np.random.default_rng(seed).integers(0, k, n)]


def _binary(n=N, k=K, seed=6):
    return np.random.default_rng(seed).integers(0, 2, (n, k)).astype(np.float64)


def _real(n=N, k=K, seed=7):
    return np.random.default_rng(seed).normal(size=(n, k))


def _uniform(low, high, n=N, k=K, seed=8):
    return np.random.default_rng(seed).uniform(low, high, (n, k))


def _away(values, points, margin=0.05):
    """Moves entries within `margin` of any of `points` out of the way."""
    values = values.copy()
    for point in points:
        values[np.abs(values - point) < margin] += 2 * margin
    return values


_DIFF = _away(_real(seed=9), [0.0])  # differences kept away from |d| = 0 (MAE, MAPE kinks)

# (loss class, kwargs, y_true, y_pred): y_pred is where the gradient is checked.
PROBABILITY_CASES = [
    ("BinaryCrossentropy", {}, _binary(), _uniform(0.05, 0.95)),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, _binary(), _uniform(0.05, 0.95)),
    ("BinaryCrossentropy", {"from_logits": True}, _binary(), _real()),
    ("BinaryCrossentropy", {"from_logits": True, "label_smoothing": 0.1}, _uniform(0, 1),
     _real()),
    ("BinaryFocalCrossentropy", {}, _binary(), _uniform(0.05, 0.95)),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "alpha": 0.4, "gamma": 1.5,
                                 "label_smoothing": 0.1}, _binary(), _uniform(0.05, 0.95)),
    ("BinaryFocalCrossentropy", {"from_logits": True, "gamma": 3.0}, _binary(), _real()),
    ("CategoricalCrossentropy", {}, _onehot(), _probabilities()),
    ("CategoricalCrossentropy", {}, _probabilities(seed=10), _uniform(0.1, 2.0)),
    ("CategoricalCrossentropy", {"label_smoothing": 0.3}, _onehot(), _probabilities()),
    ("CategoricalCrossentropy", {"from_logits": True}, _onehot(), _real()),
    ("CategoricalCrossentropy", {"from_logits": True, "label_smoothing": 0.2},
     _probabilities(seed=11), _real()),
    ("CategoricalCrossentropy", {"axis": 0}, _probabilities(seed=12).T.copy(),
     _probabilities().T.copy()),
    ("CategoricalFocalCrossentropy", {}, _onehot(), _probabilities()),
    ("CategoricalFocalCrossentropy", {"from_logits": True, "label_smoothing": 0.1,
                                      "gamma": 1.0, "alpha": 0.5}, _onehot(), _real()),
    ("SparseCategoricalCrossentropy", {}, _onehot().argmax(-1).astype(float),
     _probabilities()),
    ("SparseCategoricalCrossentropy", {"from_logits": True},
     _onehot().argmax(-1)[:, None].astype(float), _real()),
    ("SparseCategoricalCrossentropy", {"ignore_class": 2}, _onehot().argmax(-1).astype(float),
     _probabilities()),
    ("KLDivergence", {}, _probabilities(seed=13), _probabilities()),
    ("Poisson", {}, _uniform(0, 3, seed=14), _uniform(0.1, 3)),
    ("MeanSquaredError", {}, _real(seed=15), _real()),
    ("MeanAbsoluteError", {}, _real() + _DIFF, _real()),
    ("MeanAbsolutePercentageError", {}, _real() + _DIFF, _real()),
    ("MeanSquaredLogarithmicError", {}, _uniform(0, 3, seed=16), _uniform(0.1, 3)),
    ("Huber", {}, _real() + _away(_real(seed=17), [-1.0, 1.0]), _real()),
    ("Huber", {"delta": 0.3}, _real() + _away(_real(seed=18), [-0.3, 0.3]), _real()),
    ("LogCosh", {}, _real(seed=19), 3 * _real()),
    ("CosineSimilarity", {}, _real(seed=20), _real()),
    ("CosineSimilarity", {"axis": 0}, _real(seed=21), _real()),
    ("Hinge", {}, _binary(), _away(_uniform(-1.5, 1.5), [-1.0, 1.0])),
    ("Hinge", {}, 2 * _binary() - 1, _away(_uniform(-1.5, 1.5), [-1.0, 1.0])),
    ("SquaredHinge", {}, _binary(), _uniform(-1.5, 1.5)),
    ("CategoricalHinge", {}, _onehot(), _real()),
    ("CategoricalGeneralizedCrossEntropy", {}, _onehot().argmax(-1).astype(float),
     _probabilities()),
    ("CategoricalGeneralizedCrossEntropy", {"q": 0.8}, _onehot().argmax(-1)[:, None] * 1.0,
     _probabilities()),
    ("Dice", {}, _binary(), _uniform(0, 1)),
    ("Dice", {"axis": -1}, _binary(), _uniform(0, 1)),
    ("Dice", {"axis": (1, 2)}, _binary(n=8).reshape(2, 4, 4), _uniform(0, 1, n=8).reshape(2, 4, 4)),
    ("Tversky", {"alpha": 0.3, "beta": 0.7}, _binary(), _uniform(0, 1)),
    ("Tversky", {"axis": -1}, _binary(), _uniform(0, 1)),
    ("CTC", {}, np.array([[1.0, 2.0, 2.0], [3.0, 0.0, 0.0], [0.0, 0.0, 0.0], [1.0, 1.0, 1.0]]),
     np.random.default_rng(40).normal(size=(4, 7, 4))),
    ("Circle", {}, np.array([0.0, 1.0, 0.0, 2.0, 1.0, 3.0]), 0.9 * _probabilities(6, 3)),
    ("Circle", {"gamma": 5.0, "margin": 0.25, "remove_diagonal": False},
     np.array([0.0, 1.0, 0.0, 2.0, 1.0, 1.0]), _real(6, 3) / 3),
]


def _loss_case_id(case):
    return f"{case[0]}-{case[1]}"


def _check_loss(loss, y_true, y_pred, sample_weight=None, logits_of=None):
    """Checks dL/dy_pred (or dL/dlogits when logits_of(z) -> y_pred is given)."""
    def reduced(point):
        if logits_of is None:
            values = loss.forward(y_true, point)[0]
        else:
            values = loss.forward(y_true, logits_of(point), logits=point)[0]
        out = reduce_weighted_values(values, sample_weight, loss.reduction)[0]
        return np.sum(out * weights_for_none) if loss.reduction in ("none", None) else out

    if logits_of is None:
        values, cache = loss.forward(y_true, y_pred)
    else:
        values, cache = loss.forward(y_true, logits_of(y_pred), logits=y_pred)
    _, dvalues = reduce_weighted_values(values, sample_weight, loss.reduction)
    weights_for_none = np.random.default_rng(22).normal(size=values.shape)
    if loss.reduction in ("none", None):
        dvalues = dvalues * weights_for_none
    analytic = loss.backward(dvalues, cache)
    assert analytic.shape == y_pred.shape
    check_gradient(reduced, y_pred.copy(), analytic, name=type(loss).__name__)


@pytest.mark.parametrize("case", PROBABILITY_CASES, ids=_loss_case_id)
def test_loss_backward(case):
    name, kwargs, y_true, y_pred = case
    _check_loss(getattr(losses, name)(**kwargs), y_true, y_pred)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight", "none"])
@pytest.mark.parametrize("case", PROBABILITY_CASES[::3], ids=_loss_case_id)
def test_loss_backward_with_sample_weights_and_reductions(case, reduction):
    name, kwargs, y_true, y_pred = case
    loss = getattr(losses, name)(reduction=reduction, **kwargs)
    values = loss.forward(y_true, y_pred)[0]
    sample_weight = np.random.default_rng(23).uniform(0.2, 2.0, size=values.shape[0])
    _check_loss(loss, y_true, y_pred, sample_weight)


@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean_with_sample_weight"])
def test_batch_valued_loss_backward_with_sample_weights(reduction):
    # Dice with axis=None gives one value for the whole batch; Keras spreads it over the
    # sample weights: loss = reduce(value * w).
    weights = np.random.default_rng(26).uniform(0.2, 2.0, size=N)
    loss = losses.Dice(reduction=reduction)
    _check_loss(loss, _binary(), _uniform(0, 1), sample_weight=weights)
    value = loss.forward(_binary(), _uniform(0, 1))[0]
    expected = {"sum_over_batch_size": value * weights.mean(), "sum": value * weights.sum(),
                "mean_with_sample_weight": value}[reduction]
    np.testing.assert_allclose(loss(_binary(), _uniform(0, 1), sample_weight=weights),
                               expected)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _softmax(z):
    e = np.exp(z - z.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


# The model hands a sigmoid/softmax output's logits to these losses: backward gives dL/dz.
LOGITS_CASES = [
    ("BinaryCrossentropy", {}, _binary(), _sigmoid),
    ("BinaryCrossentropy", {"label_smoothing": 0.2}, _binary(), _sigmoid),
    ("BinaryCrossentropy", {"from_logits": True}, _binary(), _sigmoid),
    ("BinaryFocalCrossentropy", {}, _binary(), _sigmoid),
    ("BinaryFocalCrossentropy", {"apply_class_balancing": True, "label_smoothing": 0.1},
     _binary(), _sigmoid),
    ("BinaryFocalCrossentropy", {"from_logits": True}, _binary(), _sigmoid),
    ("CategoricalCrossentropy", {}, _onehot(), _softmax),
    ("CategoricalCrossentropy", {"label_smoothing": 0.3}, _onehot(), _softmax),
    ("SparseCategoricalCrossentropy", {}, _onehot().argmax(-1).astype(float), _softmax),
    ("SparseCategoricalCrossentropy", {"ignore_class": 1}, _onehot().argmax(-1).astype(float),
     _softmax),
]


@pytest.mark.parametrize("case", LOGITS_CASES, ids=_loss_case_id)
def test_loss_backward_to_output_logits(case):
    name, kwargs, y_true, activation = case
    loss = getattr(losses, name)(**kwargs)
    assert loss.accepts_output_logits
    z = _real(seed=24) * 2
    _check_loss(loss, y_true, z, logits_of=activation)
    weights = np.random.default_rng(25).uniform(0.2, 2.0, size=N)
    _check_loss(loss, y_true, z, sample_weight=weights, logits_of=activation)


def test_loss_clip_masks_stop_the_gradient():
    # Probabilities outside [eps, 1 - eps] (or [eps, 1] for KLD) are clipped: zero gradient.
    p = np.array([[-0.3, 0.4, 1.5, 0.6]])
    binary = np.array([[1.0, 0.0, 1.0, 0.0]])
    distribution = np.array([[0.3, 0.2, 0.4, 0.1]])
    for loss, y in [(losses.BinaryCrossentropy(), binary), (losses.KLDivergence(), distribution)]:
        values, cache = loss.forward(y, p)
        grad = loss.backward(np.ones_like(values), cache)
        assert grad[0, 0] == 0.0 and grad[0, 2] == 0.0, type(loss).__name__
        assert grad[0, 1] != 0.0
        _check_loss(loss, y, p)
    # The focal factor uses the unclipped p, so only its crossentropy part is cut off.
    _check_loss(losses.BinaryFocalCrossentropy(), binary, p)
    msle = losses.MeanSquaredLogarithmicError()
    values, cache = msle.forward(np.array([[1.0, 2.0]]), np.array([[-0.5, 1.0]]))
    grad = msle.backward(np.ones_like(values), cache)
    assert grad[0, 0] == 0.0 and grad[0, 1] != 0.0


def test_every_loss_class_is_gradient_checked():
    checked = {case[0] for case in PROBABILITY_CASES}
    assert checked == {cls.__name__ for cls in losses.LOSS_CLASSES.values()}


# ------------------------------------------------------------------------------ layers


def _dense(**kwargs):
    layer = layers.Dense(3, kernel_initializer="glorot_uniform", bias_initializer="ones",
                         **kwargs)
    return layer


@pytest.mark.parametrize("kwargs", [
    {}, {"use_bias": False}, {"activation": "tanh"}, {"activation": "relu"},
    {"activation": "sigmoid"}, {"activation": "softmax"}, {"activation": "gelu"},
    {"activation": "elu", "use_bias": False}, {"activation": "log_softmax"},
], ids=str)
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 5)], ids=["rank2", "rank3"])
def test_dense_backward(kwargs, shape):
    x = np.random.default_rng(26).normal(size=shape)
    layer = _dense(**kwargs)
    check_layer(layer, x)
    assert len(layer.trainable_weights) == (1 if kwargs.get("use_bias") is False else 2)


@pytest.mark.parametrize("activation", ["sigmoid", "softmax"])
def test_dense_backward_from_logits(activation):
    # With from_logits=True, backward receives dL/d(logits) and skips the activation.
    x = np.random.default_rng(27).normal(size=(4, 5))
    layer = _dense(activation=activation)
    layer._maybe_build(x.shape)
    _, cache = layer.forward(x)
    r = np.random.default_rng(28).normal(size=(4, 3))
    dx, grads = layer.backward(r, cache, from_logits=True)

    def loss(_):
        return np.sum(layer.output_logits(layer.forward(x)[1]) * r)

    check_gradient(loss, x, dx, name="dx from logits")
    for weight, grad in zip(layer.trainable_weights, grads):
        check_gradient(loss, weight.value, grad, name=weight.path)


@pytest.mark.parametrize("activation", ["relu", "softmax", "selu", "sparsemax", "hard_silu"])
def test_activation_layer_backward(activation):
    x = _points_away_from_kinks((3, 2, 4), seed=29, low=-4, high=4)
    if activation == "sparsemax":
        # Keras's sparsemax jumps where its support changes: stay clear of that.
        x = np.array([[3.0, 0.1, -1.0, -2.0], [0.5, 0.45, -3.0, -3.0]])
    check_layer(layers.Activation(activation), x)


@pytest.mark.parametrize("layer,shape", [
    (lambda: layers.Flatten(), (2, 3, 4, 2)),
    (lambda: layers.Flatten(data_format="channels_first"), (2, 3, 4, 2)),
    (lambda: layers.Reshape((4, -1)), (2, 3, 4)),
    (lambda: layers.Reshape((6, 2)), (2, 3, 4)),
], ids=["flatten", "flatten-cf", "reshape-1", "reshape"])
def test_shape_layers_backward(layer, shape):
    check_layer(layer(), np.random.default_rng(30).normal(size=shape))


@pytest.mark.parametrize("noise_shape", [None, (None, 1, 4)])
def test_dropout_backward_with_fixed_mask(noise_shape):
    layer = layers.Dropout(0.4, noise_shape=noise_shape, seed=1)

    def same_mask():
        layer._rng = np.random.default_rng(1)      # every forward draws the same mask

    x = np.random.default_rng(31).normal(size=(3, 5, 4))
    check_layer(layer, x, training=True, before_forward=same_mask)
    same_mask()
    out = layer.forward(x, training=True)[0]
    assert np.any(out == 0) and np.any(out != 0)      # a real mask was applied


# ------------------------------------------------------------------------- whole model


def _model_gradient_check(model, loss, x, y, sample_weight=None):
    model.compile(optimizer="sgd", loss=loss)
    model.build((None,) + x.shape[1:])

    def total_loss():
        y_pred, tape = model._forward(x, training=False)
        return model._loss_and_output_gradients(y, y_pred, tape, sample_weight)[0]

    y_pred, tape = model._forward(x, training=False)
    _, dy, from_logits = model._loss_and_output_gradients(y, y_pred, tape, sample_weight)
    grads = model._gradients(dy, tape, from_logits)
    assert len(grads) == len(model.trainable_weights)
    for weight, grad in zip(model.trainable_weights, grads):
        numeric = numerical_gradient(lambda _: total_loss(), weight.value)
        error = relative_error(grad, numeric)
        assert error < 1e-6, (weight.path, error)
    return from_logits


def test_sequential_backprop_matches_finite_differences_with_regularizers():
    rng = np.random.default_rng(32)
    x = rng.normal(size=(6, 3))
    y = rng.integers(0, 2, (6, 1)).astype(np.float64)
    model = minikeras.Sequential([
        layers.Dense(5, activation="tanh", kernel_regularizer=regularizers.L2(0.05),
                     bias_initializer="ones", bias_regularizer=regularizers.L1(0.02)),
        layers.Dense(4, activation="elu", activity_regularizer=regularizers.L1L2(0.01, 0.03)),
        layers.Dense(1, activation="sigmoid", kernel_regularizer=regularizers.L1L2(0.01, 0.01)),
    ])
    from_logits = _model_gradient_check(model, "binary_crossentropy", x, y,
                                        sample_weight=rng.uniform(0.5, 2.0, 6))
    assert from_logits        # the sigmoid's logits went to the loss


@pytest.mark.parametrize("loss,activation,targets", [
    ("categorical_crossentropy", "softmax", "onehot"),
    ("sparse_categorical_crossentropy", "softmax", "labels"),
    (losses.CategoricalFocalCrossentropy(), "softmax", "onehot"),
    ("kld", "softmax", "onehot"),
    ("mse", "linear", "real"),
    ("huber", "gelu", "real"),
    ("poisson", "softplus", "counts"),
    ("categorical_hinge", "tanh", "onehot"),
    (losses.BinaryFocalCrossentropy(from_logits=True), "sigmoid", "binary"),
])
def test_sequential_backprop_for_other_losses(loss, activation, targets):
    rng = np.random.default_rng(33)
    x = rng.normal(size=(5, 3))
    y = {"onehot": np.eye(3)[rng.integers(0, 3, 5)],
         "labels": rng.integers(0, 3, 5).astype(np.float64),
         "real": rng.normal(size=(5, 3)),
         "counts": rng.integers(0, 4, (5, 3)).astype(np.float64),
         "binary": rng.integers(0, 2, (5, 3)).astype(np.float64)}[targets]
    model = minikeras.Sequential([
        layers.Dense(4, activation="selu", activity_regularizer=regularizers.L2(0.02)),
        layers.Dense(3, activation=activation, kernel_regularizer=regularizers.L2(0.01)),
    ])
    _model_gradient_check(model, loss, x, y)
