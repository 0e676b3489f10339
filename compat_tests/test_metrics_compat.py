"""Metrics against Keras: result() after the same batches (with and without sample weights),
and metrics compiled into a model trained on both engines from the same start."""

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both

RNG = np.random.default_rng(42)
N, C = 64, 5
PROBS = RNG.random((N, 1)).astype("float32")
LABELS01 = RNG.integers(0, 2, (N, 1)).astype("float32")
SOFTMAX = RNG.dirichlet(np.ones(C), N).astype("float32")
ONEHOT = np.eye(C, dtype="float32")[RNG.integers(0, C, N)]
SPARSE = RNG.integers(0, C, N).astype("float32")
REG_TRUE = RNG.normal(size=(N, 3)).astype("float32")
REG_PRED = RNG.normal(size=(N, 3)).astype("float32")
POS_TRUE = RNG.random((N, 3)).astype("float32") * 3
POS_PRED = RNG.random((N, 3)).astype("float32") * 3
SIGNS = np.where(RNG.random((N, 3)) > 0.5, 1.0, -1.0).astype("float32")
WEIGHTS = RNG.random(N).astype("float32")
# Two batches, so that accumulation across update_state calls is checked too.
HALF = N // 2

CASES = {
    # name: (constructor lambda(k), y_true, y_pred)
    "Accuracy": (lambda k: k.metrics.Accuracy(), LABELS01, (PROBS > 0.5).astype("float32")),
    "BinaryAccuracy": (lambda k: k.metrics.BinaryAccuracy(), LABELS01, PROBS),
    "BinaryAccuracy_t0.3": (lambda k: k.metrics.BinaryAccuracy(threshold=0.3), LABELS01, PROBS),
    "CategoricalAccuracy": (lambda k: k.metrics.CategoricalAccuracy(), ONEHOT, SOFTMAX),
    "SparseCategoricalAccuracy": (lambda k: k.metrics.SparseCategoricalAccuracy(), SPARSE,
                                  SOFTMAX),
    "TopK_k2": (lambda k: k.metrics.TopKCategoricalAccuracy(k=2), ONEHOT, SOFTMAX),
    "SparseTopK_k3": (lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=3), SPARSE,
                      SOFTMAX),
    "MeanSquaredError": (lambda k: k.metrics.MeanSquaredError(), REG_TRUE, REG_PRED),
    "MeanAbsoluteError": (lambda k: k.metrics.MeanAbsoluteError(), REG_TRUE, REG_PRED),
    "MAPE": (lambda k: k.metrics.MeanAbsolutePercentageError(), REG_TRUE, REG_PRED),
    "MSLE": (lambda k: k.metrics.MeanSquaredLogarithmicError(), POS_TRUE, POS_PRED),
    "RootMeanSquaredError": (lambda k: k.metrics.RootMeanSquaredError(), REG_TRUE, REG_PRED),
    "CosineSimilarity": (lambda k: k.metrics.CosineSimilarity(), REG_TRUE, REG_PRED),
    "LogCoshError": (lambda k: k.metrics.LogCoshError(), REG_TRUE, REG_PRED),
    "R2Score": (lambda k: k.metrics.R2Score(), REG_TRUE, REG_TRUE + 0.5 * REG_PRED),
    "BinaryCrossentropy": (lambda k: k.metrics.BinaryCrossentropy(), LABELS01, PROBS),
    "BinaryCrossentropy_logits": (
        lambda k: k.metrics.BinaryCrossentropy(from_logits=True, label_smoothing=0.1),
        LABELS01, REG_PRED[:, :1]),
    "CategoricalCrossentropy": (lambda k: k.metrics.CategoricalCrossentropy(), ONEHOT,
                                SOFTMAX),
    "SparseCategoricalCrossentropy": (lambda k: k.metrics.SparseCategoricalCrossentropy(),
                                      SPARSE, SOFTMAX),
    "KLDivergence": (lambda k: k.metrics.KLDivergence(), ONEHOT * 0.8 + 0.04, SOFTMAX),
    "Poisson": (lambda k: k.metrics.Poisson(), POS_TRUE, POS_PRED),
    "Hinge": (lambda k: k.metrics.Hinge(), SIGNS, REG_PRED),
    "SquaredHinge": (lambda k: k.metrics.SquaredHinge(), SIGNS, REG_PRED),
    "CategoricalHinge": (lambda k: k.metrics.CategoricalHinge(), ONEHOT, SOFTMAX),
    "Precision": (lambda k: k.metrics.Precision(), LABELS01, PROBS),
    "Recall": (lambda k: k.metrics.Recall(), LABELS01, PROBS),
    "Precision_thresholds": (lambda k: k.metrics.Precision(thresholds=[0.7, 0.2, 0.5]),
                             LABELS01, PROBS),
    "Recall_even_thresholds": (lambda k: k.metrics.Recall(thresholds=[0.0, 0.25, 0.5, 0.75,
                                                                      1.0]),
                               LABELS01, PROBS),
    "Precision_top_k": (lambda k: k.metrics.Precision(top_k=2), ONEHOT, SOFTMAX),
    "Recall_class_id": (lambda k: k.metrics.Recall(class_id=1), ONEHOT, SOFTMAX),
    "Precision_top_k_class_id": (lambda k: k.metrics.Precision(top_k=2, class_id=3), ONEHOT,
                                 SOFTMAX),
    "TruePositives": (lambda k: k.metrics.TruePositives(), LABELS01, PROBS),
    "FalsePositives": (lambda k: k.metrics.FalsePositives(thresholds=[0.2, 0.6]), LABELS01,
                       PROBS),
    "TrueNegatives": (lambda k: k.metrics.TrueNegatives(), LABELS01, PROBS),
    "FalseNegatives": (lambda k: k.metrics.FalseNegatives(), LABELS01, PROBS),
    "SensitivityAtSpecificity": (lambda k: k.metrics.SensitivityAtSpecificity(0.5),
                                 LABELS01, PROBS),
    "SpecificityAtSensitivity": (lambda k: k.metrics.SpecificityAtSensitivity(0.7,
                                                                              num_thresholds=50),
                                 LABELS01, PROBS),
    "PrecisionAtRecall": (lambda k: k.metrics.PrecisionAtRecall(0.6), LABELS01, PROBS),
    "RecallAtPrecision_class_id": (lambda k: k.metrics.RecallAtPrecision(0.3, class_id=2),
                                   ONEHOT, SOFTMAX),
    "F1Score": (lambda k: k.metrics.F1Score(), ONEHOT, SOFTMAX),
    "F1Score_micro_threshold": (lambda k: k.metrics.F1Score(average="micro", threshold=0.3),
                                ONEHOT, SOFTMAX),
    "FBetaScore_weighted": (lambda k: k.metrics.FBetaScore(average="weighted", beta=2.0),
                            ONEHOT, SOFTMAX),
    "FBetaScore_macro": (lambda k: k.metrics.FBetaScore(average="macro", beta=0.5,
                                                        threshold=0.25),
                         ONEHOT, SOFTMAX),
    "PearsonCorrelation": (lambda k: k.metrics.PearsonCorrelation(), REG_TRUE, REG_PRED),
    "ConcordanceCorrelation": (lambda k: k.metrics.ConcordanceCorrelation(), REG_TRUE,
                               REG_TRUE + 0.3 * REG_PRED),
    "IoU": (lambda k: k.metrics.IoU(num_classes=C, target_class_ids=[0, 2, 4]), SPARSE,
            np.argmax(SOFTMAX, axis=1).astype("float32")),
    "MeanIoU_ignore": (lambda k: k.metrics.MeanIoU(num_classes=C, ignore_class=1), SPARSE,
                       np.argmax(SOFTMAX, axis=1).astype("float32")),
    "BinaryIoU": (lambda k: k.metrics.BinaryIoU(threshold=0.4), LABELS01, PROBS),
    "OneHotIoU": (lambda k: k.metrics.OneHotIoU(num_classes=C, target_class_ids=[1, 3]),
                  ONEHOT, SOFTMAX),
    "OneHotMeanIoU": (lambda k: k.metrics.OneHotMeanIoU(num_classes=C), ONEHOT, SOFTMAX),
    "AUC_ROC": (lambda k: k.metrics.AUC(), LABELS01, PROBS),
    "AUC_PR": (lambda k: k.metrics.AUC(curve="PR"), LABELS01, PROBS),
    "AUC_ROC_minoring_50": (lambda k: k.metrics.AUC(num_thresholds=50,
                                                   summation_method="minoring"),
                            LABELS01, PROBS),
    "AUC_PR_majoring": (lambda k: k.metrics.AUC(curve="PR", summation_method="majoring"),
                        LABELS01, PROBS),
    "AUC_custom_thresholds": (lambda k: k.metrics.AUC(thresholds=[0.1, 0.35, 0.5, 0.9]),
                              LABELS01, PROBS),
    "AUC_from_logits": (lambda k: k.metrics.AUC(from_logits=True), LABELS01,
                        REG_PRED[:, :1]),
    "AUC_multi_label": (lambda k: k.metrics.AUC(multi_label=True), ONEHOT, SOFTMAX),
    "AUC_multi_label_PR_weighted": (
        lambda k: k.metrics.AUC(multi_label=True, curve="PR", label_weights=[1, 2, 0, 1, 3]),
        ONEHOT, SOFTMAX),
}


INTEGER_WEIGHTS = RNG.integers(0, 4, N).astype("float32")


def _run(metric, y_true, y_pred, weights):
    if weights is not None and "IoU" in type(metric).__name__:
        weights = INTEGER_WEIGHTS          # IoU counts are integers: whole weights
    for part in (slice(0, HALF), slice(HALF, N)):
        sw = None if weights is None else weights[part]
        metric.update_state(y_true[part], y_pred[part], sample_weight=sw)
    return np.asarray(metric.result(), dtype="float64")


@pytest.mark.parametrize("weighted", [False, True], ids=["unweighted", "weighted"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_metric_result_matches_keras(case, weighted):
    make, y_true, y_pred = CASES[case]
    weights = WEIGHTS if weighted else None
    if case.startswith("R2Score") and weighted:
        weights = WEIGHTS
    expected = _run(make(keras), y_true, y_pred, weights)
    got = _run(make(minikeras), y_true, y_pred, weights)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


def test_reset_state_matches_keras():
    for module in (keras, minikeras):
        metric = module.metrics.AUC()
        metric.update_state(LABELS01, PROBS)
        metric.reset_state()
        metric.update_state(LABELS01[:HALF], PROBS[:HALF])
        if module is keras:
            expected = float(metric.result())
        else:
            got = float(metric.result())
    np.testing.assert_allclose(got, expected, rtol=1e-5)


@pytest.mark.parametrize("name", ["mse", "MSE", "mae", "mape", "msle", "bce", "auc", "AUC",
                                  "precision", "recall", "binary_accuracy", "true_positives",
                                  "top_k_categorical_accuracy", "kl_divergence", "poisson",
                                  "log_cosh_error", "root_mean_squared_error", "hinge",
                                  "cosine_similarity", "MeanSquaredError",
                                  "sparse_top_k_categorical_accuracy", "r2_score"])
def test_get_resolves_the_same_class_as_keras(name):
    assert type(minikeras.metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__


# Keras metric names minikeras does not provide.
NOT_PROVIDED = set()


def test_every_keras_metric_name_resolves_to_the_same_class():
    from keras.src.metrics import ALL_OBJECTS_DICT

    missing = set()
    for name, cls in ALL_OBJECTS_DICT.items():
        if cls.__name__ in NOT_PROVIDED:
            missing.add(cls.__name__)
            continue
        assert minikeras.metrics.METRIC_CLASSES[name].__name__ == cls.__name__, name
    assert missing == NOT_PROVIDED


def test_default_names_and_directions_match_keras():
    classes = ["AUC", "Precision", "Recall", "TruePositives", "MeanSquaredError",
               "RootMeanSquaredError", "LogCoshError", "KLDivergence", "Poisson",
               "CosineSimilarity", "Hinge", "BinaryAccuracy", "TopKCategoricalAccuracy",
               "Mean", "Sum", "R2Score", "BinaryCrossentropy"]
    for name in classes:
        ref = getattr(keras.metrics, name)(name=None) if name in (
            "AUC", "Precision", "Recall", "TruePositives") else getattr(keras.metrics, name)()
        ours = getattr(minikeras.metrics, name)()
        assert ours.name.split("_")[0] == ref.name.split("_")[0], (ours.name, ref.name)
        assert getattr(ours, "_direction", None) == getattr(ref, "_direction", None), name


# ------------------------------------------------------------------ metrics in compile

def _binary_model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="relu"),
        k.layers.Dense(1, activation="sigmoid"),
    ])


def _softmax_model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="tanh"),
        k.layers.Dense(C, activation="softmax"),
    ])


def _regression_model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="relu"),
        k.layers.Dense(3),
    ])


X = RNG.normal(size=(96, 4)).astype("float32")
Y_BINARY = (X[:, :1] + 0.5 * X[:, 1:2] > 0).astype("float32")      # (n, 1): Keras's "bce"
# metric needs targets of the same rank as the predictions.
Y_CLASS = np.argmax(X @ RNG.normal(size=(4, C)), axis=1).astype("float32")
Y_REG = (X[:, :3] * 2 + 0.1).astype("float32")
SAMPLE_WEIGHT = RNG.random(96).astype("float32") * 2


def test_binary_metrics_in_compile_match_keras():
    reference, ours = build_pair(_binary_model)
    metrics = ["accuracy", "binary_accuracy", "AUC", "precision", "recall", "mse", "bce",
               "true_positives", "false_negatives"]
    ref, got = fit_both(reference, ours, X, Y_BINARY,
                        dict(optimizer="adam", loss="binary_crossentropy", metrics=metrics),
                        epochs=4, batch_size=16, validation_split=0.25)
    assert_histories_close(ref, got)
    assert list(got) == list(ref)            # the same (sorted) key order


def test_metric_objects_in_compile_are_keyed_by_their_names():
    def metrics(k):
        return [k.metrics.AUC(name="pr_auc", curve="PR"),
                k.metrics.Precision(name="p_at_3", thresholds=0.3),
                k.metrics.BinaryAccuracy(name="acc_at_7", threshold=0.7),
                k.metrics.binary_crossentropy]
    reference, ours = build_pair(_binary_model)
    reference.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics(keras))
    ours.compile(optimizer="sgd", loss="binary_crossentropy", metrics=metrics(minikeras))
    ref = reference.fit(X, Y_BINARY, epochs=3, batch_size=32, shuffle=False, verbose=0)
    got = ours.fit(X, Y_BINARY, epochs=3, batch_size=32, shuffle=False, verbose=0)
    assert_histories_close(ref.history, got.history)


def test_categorical_metrics_in_compile_match_keras():
    reference, ours = build_pair(_softmax_model)
    metrics = ["accuracy", "sparse_top_k_categorical_accuracy",
               "sparse_categorical_crossentropy"]
    ref, got = fit_both(reference, ours, X, Y_CLASS,
                        dict(optimizer="adam", loss="sparse_categorical_crossentropy",
                             metrics=metrics),
                        epochs=3, batch_size=16, validation_split=0.25)
    assert_histories_close(ref, got)


def test_regression_metrics_in_compile_match_keras():
    reference, ours = build_pair(_regression_model)
    metrics = ["mae", "mape", "msle", "root_mean_squared_error", "cosine_similarity",
               "log_cosh_error", "r2_score"]
    ref, got = fit_both(reference, ours, X, Y_REG,
                        dict(optimizer="adam", loss="mse", metrics=metrics,
                             weighted_metrics=["mse", "mae"]),
                        epochs=3, batch_size=16, validation_split=0.25,
                        sample_weight=SAMPLE_WEIGHT)
    assert_histories_close(ref, got)
    assert "weighted_mae" in got and got["weighted_mae"] != got["mae"]
