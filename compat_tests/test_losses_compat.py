"""Every built-in loss against Keras (TensorFlow backend): trained 20 epochs in a model that
suits it, History by History, with the loss given as a string, a function or an instance."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

RNG = np.random.default_rng(0)
N = 200
X = RNG.normal(size=(N, 3)).astype("float32")
_W = RNG.normal(size=(3, 3))
_SCORES = X @ _W

DATA = {
    "real": np.tanh(_SCORES[:, :2]).astype("float32"),                       # (N, 2)
    "away_from_zero": (2.0 + np.tanh(_SCORES[:, :2])).astype("float32"),    # for MAPE
    "positive": np.exp(0.5 * _SCORES[:, :2]).astype("float32"),             # for MSLE
    "counts": RNG.poisson(np.exp(0.4 * _SCORES[:, :2])).astype("float32"),  # for Poisson
    "binary": (_SCORES[:, 0] > 0).astype("float32"),                         # (N,)
    "binary_2d": (_SCORES[:, :2] > 0).astype("float32"),                     # (N, 2)
    "signs": np.where(_SCORES[:, :2] > 0, 1.0, -1.0).astype("float32"),     # for hinge
    "onehot": np.eye(3, dtype="float32")[_SCORES.argmax(axis=1)],            # (N, 3)
    "labels": _SCORES.argmax(axis=1).astype("float32"),                      # (N,)
    "distributions": (np.exp(_SCORES) / np.exp(_SCORES).sum(1, keepdims=True))
    .astype("float32"),                                                       # for KLD
}


def _model(units, activation):
    def build(k):
        return k.Sequential([
            k.layers.Input((3,)),
            k.layers.Dense(8, activation="tanh"),
            k.layers.Dense(6, activation="relu"),
            k.layers.Dense(units, activation=activation),
        ])
    return build


def _loss(name, **kwargs):
    """A loss instance built with each module: per_module(lambda k: k.losses.Name(...))."""
    return per_module(lambda k: getattr(k.losses, name)(**kwargs))


def _function(name):
    return per_module(lambda k: getattr(k.losses, name))


# (id, loss identifier, output units, output activation, targets). Between them the cases
# give the loss as a string (name, alias, class name), a function and an instance.
CASES = [
    # regression
    ("mse-string", "mse", 2, "linear", "real"),
    ("mae-alias", "MAE", 2, "linear", "real"),
    ("mape-instance", _loss("MeanAbsolutePercentageError"), 2, "linear", "away_from_zero"),
    ("msle-string", "msle", 2, "softplus", "positive"),
    ("huber-delta", _loss("Huber", delta=0.3), 2, "linear", "real"),
    ("log_cosh-function", _function("log_cosh"), 2, "linear", "real"),
    ("cosine-instance", _loss("CosineSimilarity", axis=-1), 2, "linear", "real"),
    # probabilistic
    ("bce-alias", "bce", 1, "sigmoid", "binary"),
    ("bce-logits-smoothing", _loss("BinaryCrossentropy", from_logits=True,
                                   label_smoothing=0.1), 1, "linear", "binary"),
    ("bfce-string", "binary_focal_crossentropy", 1, "sigmoid", "binary"),
    ("bfce-logits-balanced", _loss("BinaryFocalCrossentropy", from_logits=True,
                                   apply_class_balancing=True, gamma=1.5,
                                   label_smoothing=0.1), 2, "linear", "binary_2d"),
    ("cce-function", _function("categorical_crossentropy"), 3, "softmax", "onehot"),
    ("cce-logits-smoothing", _loss("CategoricalCrossentropy", from_logits=True,
                                   label_smoothing=0.2), 3, "linear", "onehot"),
    ("scce-class-name", "SparseCategoricalCrossentropy", 3, "softmax", "labels"),
    ("scce-logits", _loss("SparseCategoricalCrossentropy", from_logits=True), 3, "linear",
     "labels"),
    ("scce-ignore-class", _loss("SparseCategoricalCrossentropy", ignore_class=2), 3,
     "softmax", "labels"),
    ("cfce-instance", _loss("CategoricalFocalCrossentropy"), 3, "softmax", "onehot"),
    ("kld-alias", "KLD", 3, "softmax", "distributions"),
    ("poisson-exponential", "poisson", 2, "exponential", "counts"),
    # hinge
    ("hinge-01-labels", "hinge", 2, "tanh", "binary_2d"),
    ("squared_hinge-signs", _function("squared_hinge"), 2, "tanh", "signs"),
    ("categorical_hinge", "categorical_hinge", 3, "tanh", "onehot"),
    # segmentation and noisy labels
    ("dice-string", "dice", 2, "sigmoid", "binary_2d"),
    ("tversky-instance", _loss("Tversky", alpha=0.3, beta=0.7, axis=-1), 2, "sigmoid",
     "binary_2d"),
    ("generalized-ce", _loss("CategoricalGeneralizedCrossEntropy", q=0.7), 3, "softmax",
     "labels"),
    ("circle-string", "circle", 3, "tanh", "labels"),
]
# Validation (Keras's test step) costs a second trace and time per epoch: a few cases only.
WITH_VALIDATION = {"mse-string", "bce-alias", "scce-ignore-class"}


def test_every_loss_is_trained_against_keras():
    names = set()
    for _, identifier, *_ in CASES:
        loss = minikeras.losses.get(identifier(minikeras) if callable(identifier)
                                    and getattr(identifier, "_per_module", False)
                                    else identifier)
        names.add(type(loss).__name__)
    names.add("CTC")                              # test_ctc_trains_like_keras (sequences)
    assert names == {cls.__name__ for cls in minikeras.losses.LOSS_CLASSES.values()}


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_loss_trains_like_keras(case):
    case_id, loss, units, activation, targets = case
    reference, ours = build_pair(_model(units, activation))
    ref, got = fit_both(reference, ours, X, DATA[targets],
                        dict(loss=loss, optimizer="adam"), epochs=20, batch_size=32,
                        validation_split=0.2 if case_id in WITH_VALIDATION else 0.0)
    assert_histories_close(ref, got, rtol=1e-4)
    assert ref["loss"][-1] != ref["loss"][0]


def test_ctc_trains_like_keras():
    rng = np.random.default_rng(3)
    frames, classes = 6, 5
    x = rng.normal(size=(96, frames, 4)).astype("float32")
    lengths = rng.integers(0, 4, size=96)
    y = rng.integers(1, classes, size=(96, 3)) * (np.arange(3)[None, :] < lengths[:, None])

    def build(k):
        return k.Sequential([k.layers.Input((frames, 4)), k.layers.Dense(8, activation="tanh"),
                             k.layers.Dense(classes)])

    reference, ours = build_pair(build)
    ref, got = fit_both(reference, ours, x, y.astype("float32"),
                        dict(loss="ctc", optimizer="adam"), epochs=20, batch_size=32)
    assert_histories_close(ref, got, rtol=1e-4)
    assert ref["loss"][-1] < ref["loss"][0]


def test_sample_weights_and_class_weights_match_keras():
    weights = RNG.uniform(0.2, 2.0, size=N).astype("float32")
    reference, ours = build_pair(_model(3, "softmax"))
    ref, got = fit_both(reference, ours, X, DATA["labels"],
                        dict(loss="sparse_categorical_crossentropy", optimizer="adam",
                             weighted_metrics=[]),
                        epochs=20, batch_size=32, sample_weight=weights)
    assert_histories_close(ref, got, rtol=1e-4)


@pytest.fixture
def float64_policy():
    """Keras caches its global dtype policy when the first layer is made: set_floatx alone
    (as build_pair does) would leave the Keras model in float32."""
    keras.config.set_dtype_policy("float64")
    yield
    keras.config.set_dtype_policy("float32")


# Plain SGD: Keras's float64 Adam rounds its beta powers to float32 (see the report).
FLOAT64_CASES = [
    ("mse", 2, "linear", "real"),
    (_loss("CategoricalCrossentropy", label_smoothing=0.1), 3, "softmax", "onehot"),
    (_loss("SparseCategoricalCrossentropy", from_logits=True), 3, "linear", "labels"),
]


@pytest.mark.parametrize("case", FLOAT64_CASES, ids=lambda c: str(getattr(c, "__name__", c)))
def test_loss_trains_like_keras_in_float64(case, float64_policy):
    loss, units, activation, targets = case
    reference, ours = build_pair(_model(units, activation), floatx="float64")
    assert {w.dtype for w in reference.weights} == {"float64"}
    ref, got = fit_both(reference, ours, X.astype("float64"),
                        DATA[targets].astype("float64"),
                        dict(loss=loss, optimizer=per_module(lambda k: k.optimizers.SGD(0.1))),
                        epochs=20, batch_size=32)
    assert_histories_close(ref, got, rtol=1e-7, atol=1e-12)


# ------------------------------------------------------- functional forms, directly

FUNCTION_CASES = [
    ("binary_crossentropy", {"from_logits": True, "label_smoothing": 0.2}, "binary_2d",
     "real"),
    ("binary_focal_crossentropy", {"apply_class_balancing": True}, "binary_2d", "probs2"),
    ("categorical_crossentropy", {"label_smoothing": 0.1}, "onehot", "probs3"),
    ("categorical_focal_crossentropy", {"from_logits": True}, "onehot", "logits3"),
    ("sparse_categorical_crossentropy", {"from_logits": True}, "labels", "logits3"),
    ("sparse_categorical_crossentropy", {"ignore_class": 1}, "labels", "probs3"),
    ("kl_divergence", {}, "distributions", "probs3"),
    ("poisson", {}, "counts", "positive"),
    ("mean_squared_error", {}, "real", "real_pred"),
    ("mean_absolute_error", {}, "real", "real_pred"),
    ("mean_absolute_percentage_error", {}, "real", "real_pred"),
    ("mean_squared_logarithmic_error", {}, "positive", "real_pred"),
    ("huber", {"delta": 0.4}, "real", "real_pred"),
    ("log_cosh", {}, "real", "large_pred"),
    ("cosine_similarity", {"axis": 0}, "real", "real_pred"),
    ("hinge", {}, "binary_2d", "real_pred"),
    ("squared_hinge", {}, "signs", "real_pred"),
    ("categorical_hinge", {}, "onehot", "logits3"),
    ("dice", {}, "binary_2d", "probs2"),
    ("dice", {"axis": -1}, "binary_2d", "probs2"),
    ("tversky", {"alpha": 0.2, "beta": 0.8, "axis": -1}, "binary_2d", "probs2"),
    ("categorical_generalized_cross_entropy", {"q": 0.3}, "labels", "probs3"),
    ("circle", {"gamma": 20.0}, "labels", "logits3"),
]

_PREDICTIONS = {
    "real": RNG.normal(size=(N, 2)).astype("float32"),
    "real_pred": RNG.normal(size=(N, 2)).astype("float32"),
    "large_pred": (RNG.normal(size=(N, 2)) * 100).astype("float32"),
    "probs2": RNG.uniform(0, 1, size=(N, 2)).astype("float32"),
    "probs3": DATA["distributions"][::-1].copy(),
    "logits3": RNG.normal(size=(N, 3)).astype("float32") * 3,
    "positive": RNG.uniform(0.0, 3.0, size=(N, 2)).astype("float32"),
}


@pytest.mark.parametrize("name,kwargs,targets,predictions", FUNCTION_CASES,
                         ids=[f"{c[0]}-{c[1]}" for c in FUNCTION_CASES])
def test_loss_functions_match_keras(name, kwargs, targets, predictions):
    y_true, y_pred = DATA[targets], _PREDICTIONS[predictions]
    ours = getattr(minikeras.losses, name)(y_true, y_pred, **kwargs)
    ref = getattr(keras.losses, name)(tf.constant(y_true), tf.constant(y_pred), **kwargs)
    np.testing.assert_allclose(ours, np.asarray(ref), rtol=2e-6, atol=1e-6)
    assert ours.dtype == np.float32
