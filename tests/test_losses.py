"""minikeras.losses: the registry and compile names, Keras's exact formulas on hand-computed
values, reductions and masks, shapes, configs and errors.

(Against real Keras: compat_tests/test_losses_compat.py; finite differences of every
backward: tests/test_gradients.py.)
"""

import math

import numpy as np
import pytest

import minikeras
from minikeras import losses
from minikeras.losses import reduce_weighted_values

EPS = 1e-7

KERAS_FUNCTIONS = {
    "binary_crossentropy", "binary_focal_crossentropy", "categorical_crossentropy",
    "categorical_focal_crossentropy", "sparse_categorical_crossentropy", "kl_divergence",
    "poisson", "mean_squared_error", "mean_absolute_error", "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error", "huber", "log_cosh", "cosine_similarity", "hinge",
    "squared_hinge", "categorical_hinge", "dice", "tversky",
    "categorical_generalized_cross_entropy", "ctc", "circle",
}
KERAS_CLASSES = {
    "BinaryCrossentropy", "BinaryFocalCrossentropy", "CategoricalCrossentropy",
    "CategoricalFocalCrossentropy", "SparseCategoricalCrossentropy", "KLDivergence",
    "Poisson", "MeanSquaredError", "MeanAbsoluteError", "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError", "Huber", "LogCosh", "CosineSimilarity", "Hinge",
    "SquaredHinge", "CategoricalHinge", "Dice", "Tversky", "CategoricalGeneralizedCrossEntropy",
    "CTC", "Circle",
}
KERAS_ALIASES = {"bce", "BCE", "kld", "KLD", "mae", "MAE", "mse", "MSE", "mape", "MAPE",
                 "msle", "MSLE"}


# ------------------------------------------------------------------- registry / names


def test_public_names():
    assert set(losses.__all__) == KERAS_FUNCTIONS | KERAS_CLASSES | {
        "Loss", "get", "serialize", "deserialize", "reduce_weighted_values"}
    namespace = {}
    exec("from minikeras.losses.losses import *", namespace)
    assert set(namespace) - {"__builtins__"} == KERAS_FUNCTIONS | KERAS_CLASSES


def test_registries_agree_with_each_other_and_with_get():
    assert set(losses.LOSS_CLASSES) == KERAS_FUNCTIONS
    assert {cls.__name__ for cls in losses.LOSS_CLASSES.values()} == KERAS_CLASSES
    assert set(losses.ALIASES) == KERAS_ALIASES
    for name, cls in losses.LOSS_CLASSES.items():
        function = getattr(losses, name)
        assert losses.LOSS_FUNCTIONS[function] == name
        assert type(losses.get(name)) is cls
        assert type(losses.get(function)) is cls
        assert type(losses.get(cls.__name__)) is cls
        assert type(losses.get(cls)) is cls
    for alias, name in losses.ALIASES.items():
        assert type(losses.get(alias)) is losses.LOSS_CLASSES[name]
        assert losses.LOSS_FUNCTIONS[getattr(losses, alias)] == name


def test_get_is_exact_about_names_and_wraps_custom_callables():
    for wrong in ["Mse", "huber_loss", "crossentropy", "MeanSquaredErrors"]:
        with pytest.raises(ValueError, match=repr(wrong)):
            losses.get(wrong)

    def absolute(y_true, y_pred):       # any function written with keras.ops
        return (y_pred - y_true) ** 2.0

    custom = losses.get(absolute)
    assert custom.name == "absolute"
    y_true, y_pred = np.array([[1.0], [2.0]]), np.array([[1.5], [1.0]])
    values, cache = custom.forward(y_true, y_pred)
    np.testing.assert_allclose(values, [[0.25], [1.0]])
    np.testing.assert_allclose(custom.backward(np.ones((2, 1)), cache), [[1.0], [-2.0]])
    with pytest.raises(ValueError):
        losses.get(42)
    instance = losses.Huber(delta=2.0)
    assert losses.get(instance) is instance


@pytest.mark.parametrize("cls", sorted(losses.LOSS_CLASSES.values(), key=lambda c: c.__name__),
                         ids=lambda c: c.__name__)
def test_config_round_trip(cls):
    loss = cls(reduction="sum", name="custom")
    config = loss.get_config()
    assert config["name"] == "custom" and config["reduction"] == "sum"
    again = losses.deserialize(losses.serialize(loss))
    assert type(again) is cls and again.get_config() == config
    assert type(losses.get(losses.serialize(loss))) is cls


def test_keras_function_configs_are_understood():
    config = {"module": "keras.losses", "class_name": "function",
              "config": "mean_squared_error", "registered_name": "mean_squared_error"}
    assert type(losses.get(config)) is losses.MeanSquaredError
    assert type(losses.deserialize("kld")) is losses.KLDivergence


def test_non_default_arguments_survive_serialization():
    loss = losses.BinaryFocalCrossentropy(apply_class_balancing=True, alpha=0.4, gamma=1.0,
                                          from_logits=True, label_smoothing=0.1, axis=-1)
    again = losses.get(losses.serialize(loss))
    assert (again.alpha, again.gamma, again.from_logits, again.label_smoothing,
            again.apply_class_balancing) == (0.4, 1.0, True, 0.1, True)
    assert losses.get(losses.serialize(losses.Huber(delta=0.3))).delta == 0.3
    assert losses.get(losses.serialize(losses.CosineSimilarity(axis=0))).axis == 0
    scce = losses.get(losses.serialize(losses.SparseCategoricalCrossentropy(ignore_class=-1)))
    assert scce.ignore_class == -1


def test_default_names_are_keras():
    assert losses.Huber().name == "huber_loss"
    assert losses.KLDivergence().name == "kl_divergence"
    assert losses.Dice().name == "dice"
    assert losses.MeanAbsolutePercentageError().name == "mean_absolute_percentage_error"


def test_only_the_crossentropy_ops_take_a_layers_logits():
    takes = {cls.__name__ for cls in losses.LOSS_CLASSES.values() if cls.accepts_output_logits}
    assert takes == {"BinaryCrossentropy", "BinaryFocalCrossentropy",
                     "CategoricalCrossentropy", "SparseCategoricalCrossentropy"}


# -------------------------------------------------------------- Keras's exact formulas

VALUES = [
    # MAPE: 100 * |y - p| / max(|y|, eps); a zero target divides by eps.
    ("mean_absolute_percentage_error", {}, [[0.0, 2.0]], [[1.0, 1.0]],
     [100 * (1 / EPS + 0.5) / 2]),
    # MSLE: log(max(x, eps) + 1) on both sides.
    ("mean_squared_logarithmic_error", {}, [[1.0, -3.0]], [[-5.0, 1.0]],
     [((math.log(EPS + 1) - math.log(2)) ** 2 + (math.log(2) - math.log(EPS + 1)) ** 2) / 2]),
    # Hinge: 0/1 labels become -1/1 ...
    ("hinge", {}, [[0.0, 1.0]], [[0.3, 0.2]], [(1.3 + 0.8) / 2]),
    # ... only when every label is 0 or 1.
    ("hinge", {}, [[0.0, 2.0]], [[0.3, 0.2]], [(1.0 + 0.6) / 2]),
    ("squared_hinge", {}, [[-1.0, 1.0]], [[0.5, 2.0]], [1.5 ** 2 / 2]),
    ("categorical_hinge", {}, [[0.0, 1.0, 0.0]], [[0.3, 0.5, 0.9]], [1.4]),
    ("categorical_hinge", {}, [[0.0, 1.0, 0.0]], [[0.3, 3.0, 0.9]], [0.0]),
    # KLD clips both sides to [eps, 1].
    ("kl_divergence", {}, [[0.0, 1.0]], [[0.5, 0.5]],
     [EPS * math.log(EPS / 0.5) + math.log(2.0)]),
    ("poisson", {}, [[2.0, 0.0]], [[1.0, 3.0]], [(1.0 - 2.0 * math.log(1.0 + EPS) + 3.0) / 2]),
    ("huber", {"delta": 1.0}, [[0.0, 0.0]], [[0.5, 3.0]], [(0.125 + 2.5) / 2]),
    ("log_cosh", {}, [[0.0, 0.0]], [[1.0, 1000.0]],
     [(math.log(math.cosh(1.0)) + 1000.0 - math.log(2.0)) / 2]),
    ("cosine_similarity", {}, [[1.0, 0.0], [0.0, 0.0]], [[2.0, 2.0], [1.0, 1.0]],
     [-1 / math.sqrt(2), 0.0]),
    ("mean_squared_error", {}, [[1.0, 2.0]], [[0.0, 0.0]], [2.5]),
    ("mean_absolute_error", {}, [[1.0, -2.0]], [[0.0, 0.0]], [1.5]),
    ("binary_crossentropy", {}, [[1.0, 0.0]], [[0.8, 0.0]],
     [(-math.log(0.8) - math.log(1 - EPS)) / 2]),
    ("binary_crossentropy", {"label_smoothing": 0.2}, [[1.0]], [[0.8]],
     [-(0.9 * math.log(0.8) + 0.1 * math.log(0.2))]),
    ("binary_crossentropy", {"from_logits": True}, [[1.0]], [[0.0]], [math.log(2.0)]),
    ("categorical_crossentropy", {}, [[0.0, 1.0]], [[1.0, 3.0]], [-math.log(0.75)]),
    ("categorical_crossentropy", {"label_smoothing": 0.5}, [[0.0, 1.0]], [[0.25, 0.75]],
     [-(0.25 * math.log(0.25) + 0.75 * math.log(0.75))]),
    ("sparse_categorical_crossentropy", {}, [1.0], [[0.25, 0.75]], [-math.log(0.75)]),
    ("sparse_categorical_crossentropy", {"from_logits": True}, [[0.0]], [[0.0, 0.0]],
     [math.log(2.0)]),
    ("binary_focal_crossentropy", {"gamma": 2.0}, [[1.0]], [[0.8]],
     [0.2 ** 2 * -math.log(0.8)]),
    ("binary_focal_crossentropy", {"gamma": 2.0, "apply_class_balancing": True, "alpha": 0.3},
     [[0.0]], [[0.8]], [0.7 * 0.8 ** 2 * -math.log(0.2)]),
    ("categorical_focal_crossentropy", {}, [[0.0, 1.0]], [[0.25, 0.75]],
     [0.25 * 0.25 ** 2 * -math.log(0.75)]),
    ("categorical_generalized_cross_entropy", {"q": 0.5}, [1.0, 0.0], [[0.75, 0.25]] * 2,
     [(1 - math.sqrt(0.25)) / 0.5, (1 - math.sqrt(0.75)) / 0.5]),
    ("dice", {}, [[1.0, 0.0], [1.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]],
     1 - 2 * 1.5 / (3 + 2 + EPS)),
    ("dice", {"axis": -1}, [[1.0, 0.0], [1.0, 1.0]], [[0.5, 0.5], [1.0, 0.0]],
     [1 - 1.0 / (2 + EPS), 1 - 2.0 / (3 + EPS)]),
    ("tversky", {"alpha": 0.3, "beta": 0.7}, [[1.0, 0.0], [1.0, 1.0]],
     [[0.5, 0.5], [1.0, 0.0]], 1 - 1.5 / (1.5 + 0.3 * 1.5 + 0.7 * 0.5 + EPS)),
]


@pytest.mark.parametrize("name,kwargs,y_true,y_pred,expected", VALUES,
                         ids=[f"{v[0]}-{v[1]}-{v[2]}" for v in VALUES])
def test_keras_formulas(name, kwargs, y_true, y_pred, expected):
    values = getattr(losses, name)(np.array(y_true), np.array(y_pred, dtype="float64"),
                                   **kwargs)
    np.testing.assert_allclose(values, expected, rtol=1e-10, atol=1e-15)


def test_functional_forms_give_per_sample_values_in_the_input_dtype():
    rng = np.random.default_rng(0)
    y = rng.uniform(0.1, 1, (5, 3)).astype("float32")
    p = rng.uniform(0.1, 1, (5, 3)).astype("float32")
    per_batch = {"dice", "tversky"}                      # axis=None: one value per batch
    labels = {"sparse_categorical_crossentropy", "categorical_generalized_cross_entropy",
              "ctc", "circle"}
    for name in sorted(KERAS_FUNCTIONS - per_batch - labels):
        values = getattr(losses, name)(y, p)
        assert values.shape == (5,) and values.dtype == np.float32, name
        assert getattr(losses, name)(y.astype("float64"), p.astype("float64")).dtype == \
            np.float64


def test_ctc_sums_over_every_alignment():
    # Uniform 2-class frames: one frame emitting label 1 has probability 1/2; two frames
    # have three alignments of it, (1, 1), (0, 1), (1, 0): 3/4; label (1, 1) needs a blank
    # between its two 1s, so it is impossible in two frames and certain-ish in three.
    two_classes = np.zeros((1, 1, 2))
    np.testing.assert_allclose(losses.ctc(np.array([[1.0]]), two_classes), [math.log(2.0)])
    np.testing.assert_allclose(losses.ctc(np.array([[1.0, 0.0]]), np.zeros((1, 2, 2))),
                               [-math.log(0.75)])
    np.testing.assert_allclose(losses.ctc(np.array([[1.0, 1.0]]), np.zeros((1, 3, 2))),
                               [-math.log(1 / 8)])
    with np.errstate(divide="ignore"):
        assert np.isinf(losses.ctc(np.array([[1.0, 1.0]]), np.zeros((1, 2, 2)))[0])
    with pytest.raises(ValueError, match="y_pred.shape=\\(1, 2\\)"):
        losses.ctc(np.array([[1.0]]), np.zeros((1, 2)))


def test_circle_masks_samples_without_a_positive_pair():
    embeddings = np.array([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.0, 1.0]])
    labels = np.array([0.0, 0.0, 1.0, 2.0])
    values = losses.circle(labels, embeddings)
    assert values[0] > 0 and values[1] > 0 and values[2] == 0 and values[3] == 0
    loss = losses.Circle()
    np.testing.assert_allclose(loss(labels, embeddings), values.sum() / 2, rtol=1e-5)
    with pytest.raises(NotImplementedError, match="ref_labels"):
        losses.circle(labels, embeddings, ref_labels=labels)


def test_cosine_similarity_of_a_zero_vector_is_zero_with_a_finite_gradient():
    loss = losses.CosineSimilarity()
    values, cache = loss.forward(np.array([[1.0, 2.0]]), np.array([[0.0, 0.0]]))
    assert values.tolist() == [0.0]
    grad = loss.backward(np.ones(1), cache)
    assert np.isfinite(grad).all()


# ------------------------------------------------------- TensorFlow's gradient quirks


def test_softmax_crossentropy_gradient_is_softmax_minus_targets():
    # TensorFlow's kernel returns softmax(z) - y even when y does not sum to 1.
    loss = losses.CategoricalCrossentropy(from_logits=True)
    z = np.array([[1.0, 2.0, 3.0]])
    y = np.array([[1.0, 1.0, 0.0]])
    values, cache = loss.forward(y, z)
    grad = loss.backward(np.ones(1), cache)
    softmax = np.exp(z) / np.exp(z).sum()
    np.testing.assert_allclose(grad, softmax - y)


def test_hinge_gradient_passes_at_the_hinge():
    loss = losses.Hinge()
    values, cache = loss.forward(np.array([[1.0]]), np.array([[1.0]]))   # margin exactly 0
    assert values.tolist() == [0.0]
    assert loss.backward(np.ones(1), cache).tolist() == [[-1.0]]


def test_categorical_hinge_shares_the_max_gradient_among_ties():
    loss = losses.CategoricalHinge()
    values, cache = loss.forward(np.array([[0.0, 1.0, 0.0]]), np.array([[0.5, 0.2, 0.5]]))
    np.testing.assert_allclose(values, [1.3])
    np.testing.assert_allclose(loss.backward(np.ones(1), cache), [[0.5, -1.0, 0.5]])


# ------------------------------------------------------------- reductions and masks


def test_reductions():
    values = np.array([1.0, 2.0, 3.0, 6.0])
    weights = np.array([1.0, 0.0, 2.0, 0.5])
    assert reduce_weighted_values(values)[0] == 3.0
    assert reduce_weighted_values(values, weights)[0] == (1 + 6 + 3) / 4
    assert reduce_weighted_values(values, weights, "sum")[0] == 10.0
    assert reduce_weighted_values(values, weights, "mean_with_sample_weight")[0] == 10 / 3.5
    np.testing.assert_allclose(reduce_weighted_values(values, weights, "none")[0],
                               values * weights)
    loss = losses.MeanSquaredError(reduction="sum")
    assert loss([[1.0], [2.0]], [[0.0], [0.0]], sample_weight=[2.0, 1.0]) == 6.0


def test_ignore_class_is_left_out_of_the_mean():
    y = np.array([0.0, 1.0, -1.0, -1.0])
    p = np.array([[0.5, 0.5], [0.25, 0.75], [0.9, 0.1], [0.3, 0.7]])
    loss = losses.SparseCategoricalCrossentropy(ignore_class=-1)
    expected = [math.log(2.0), -math.log(0.75), 0.0, 0.0]
    np.testing.assert_allclose(loss.call(y, p), expected, rtol=1e-6)
    np.testing.assert_allclose(loss(y, p), sum(expected) / 2, rtol=1e-6)
    np.testing.assert_allclose(losses.SparseCategoricalCrossentropy(
        ignore_class=-1, reduction="sum")(y, p), sum(expected), rtol=1e-6)
    # Everything ignored: zero loss, zero gradient.
    everything = np.full(4, -1.0)
    values, cache = loss.forward(everything, p)
    assert loss(everything, p) == 0.0
    _, dvalues = reduce_weighted_values(values)
    assert np.all(loss.backward(dvalues, cache) == 0.0)


def test_targets_and_predictions_are_aligned_like_keras():
    loss = losses.MeanSquaredError()
    y_pred = np.array([[1.0], [2.0], [4.0]])
    assert loss.call(np.array([0.0, 0.0, 0.0]), y_pred).shape == (3,)      # (n,) vs (n, 1)
    values, cache = loss.forward(np.array([[0.0], [0.0], [0.0]]), y_pred[:, 0])
    assert values.shape == (3,)                                            # (n, 1) vs (n,)
    assert loss.backward(np.ones(3), cache).shape == (3,)                  # gradient as p


# ----------------------------------------------------------------------- errors


def test_errors_name_the_argument_and_value():
    with pytest.raises(ValueError, match="y_true.shape=\\(2, 3\\), y_pred.shape=\\(2, 2\\)"):
        losses.MeanSquaredError()(np.zeros((2, 3)), np.zeros((2, 2)))
    with pytest.raises(ValueError, match="label_smoothing=2"):
        losses.BinaryCrossentropy(label_smoothing=2)
    with pytest.raises(ValueError, match="delta=0"):
        losses.Huber(delta=0)
    with pytest.raises(ValueError, match="reduction='average'"):
        losses.Poisson(reduction="average")
    with pytest.raises(ValueError, match="axis=True"):
        losses.CategoricalCrossentropy(axis=True)
    with pytest.raises(ValueError, match="axis=0"):
        losses.SparseCategoricalCrossentropy(axis=0)
    with pytest.raises(ValueError, match="gamma=-1"):
        losses.CategoricalFocalCrossentropy(gamma=-1)
    with pytest.raises(ValueError, match="from 0 to 3"):
        losses.SparseCategoricalCrossentropy()(np.array([0.0, 3.0]), np.full((2, 3), 1 / 3))
    with pytest.raises(ValueError, match="integer class labels"):
        losses.SparseCategoricalCrossentropy()(np.array([0.5]), np.full((1, 3), 1 / 3))


def test_losses_work_in_compile_by_every_identifier_form():
    x = np.random.default_rng(1).normal(size=(8, 3)).astype("float32")
    y = np.random.default_rng(2).normal(size=(8, 2)).astype("float32")
    results = []
    for identifier in ["huber", losses.huber, losses.Huber(), losses.Huber]:
        minikeras.utils.set_random_seed(0)
        model = minikeras.Sequential([minikeras.layers.Input((3,)),
                                      minikeras.layers.Dense(2)])
        model.compile(optimizer="sgd", loss=identifier)
        results.append(model.fit(x, y, epochs=2, verbose=0).history["loss"])
    for other in results[1:]:
        np.testing.assert_allclose(other, results[0])
