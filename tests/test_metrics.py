"""Metrics on data small enough to check by hand: values, accumulation over batches,
reset_state, sample weights, names and the identifiers `get` accepts."""

import numpy as np
import pytest

from minikeras import metrics
from minikeras.metrics import metrics_utils


def _result(metric, y_true, y_pred, sample_weight=None):
    metric.update_state(np.asarray(y_true, dtype="float32"), np.asarray(y_pred, dtype="float32"),
                        sample_weight=sample_weight)
    return metric.result()


# ------------------------------------------------------------------ reductions

def test_mean_weighted_accumulate_and_reset():
    m = metrics.Mean()
    m.update_state([1, 3, 5, 7])
    assert m.result() == 4.0
    m.update_state([10], sample_weight=[4])            # (16 + 40) / (4 + 4)
    assert m.result() == pytest.approx(7.0)
    m.reset_state()
    assert m.result() == 0.0                          # empty: 0, not NaN
    m.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert m.result() == 2.0


def test_mean_reduces_each_sample_before_weighting():
    m = metrics.Mean()
    # per-sample means 1.5 and 10, weights 1 and 3
    m.update_state([[1.0, 2.0], [10.0, 10.0]], sample_weight=[1.0, 3.0])
    assert m.result() == pytest.approx((1.5 + 30.0) / 4.0)
    m = metrics.Mean()
    m.update_state([1.0, 3.0], sample_weight=2.0)      # a scalar weight
    assert m.result() == pytest.approx(2.0)


def test_sum_and_weighted_sum():
    s = metrics.Sum()
    s.update_state([1, 3, 5, 7])
    assert s.result() == 16.0
    s.update_state([1, 3, 5, 7], sample_weight=[1, 1, 0, 0])
    assert s.result() == 20.0
    s.reset_state()
    assert s.result() == 0.0


def test_mean_metric_wrapper_passes_kwargs_and_is_named_like_keras():
    def scaled_error(y_true, y_pred, scale=1.0):
        return scale * np.abs(y_true - y_pred)

    m = metrics.MeanMetricWrapper(scaled_error, scale=10.0)
    assert m.name.startswith("mean_metric_wrapper")
    assert _result(m, [0.0, 1.0], [0.5, 1.0]) == pytest.approx(2.5)
    assert m.get_config()["scale"] == 10.0


# -------------------------------------------------------------------- accuracy

def test_binary_accuracy_threshold_and_weights():
    y_true, y_pred = [[1], [1], [0], [0]], [[0.98], [1], [0], [0.6]]
    assert _result(metrics.BinaryAccuracy(), y_true, y_pred) == 0.75
    assert _result(metrics.BinaryAccuracy(), y_true, y_pred,
                   sample_weight=[1, 0, 0, 1]) == 0.5
    assert _result(metrics.BinaryAccuracy(threshold=0.7), y_true, y_pred) == 1.0
    # (batch,) targets against (batch, 1) predictions
    assert _result(metrics.BinaryAccuracy(), [1, 1, 0, 0], y_pred) == 0.75


def test_categorical_and_sparse_accuracy():
    y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    assert _result(metrics.CategoricalAccuracy(), [[0, 0, 1], [0, 1, 0]], y_pred) == 0.5
    assert _result(metrics.SparseCategoricalAccuracy(), [[2], [1]], y_pred,
                   sample_weight=[0.7, 0.3]) == pytest.approx(0.3)
    assert _result(metrics.Accuracy(), [[1], [2], [3], [4]], [[0], [2], [3], [4]]) == 0.75


def test_top_k_accuracies_count_ties_as_in_the_top_k():
    y_pred = [[0.1, 0.9, 0.8], [0.05, 0.95, 0]]
    assert _result(metrics.TopKCategoricalAccuracy(k=1), [[0, 0, 1], [0, 1, 0]], y_pred) == 0.5
    assert _result(metrics.TopKCategoricalAccuracy(k=2), [[0, 0, 1], [0, 1, 0]], y_pred) == 1.0
    assert _result(metrics.SparseTopKCategoricalAccuracy(k=1), [2, 1], y_pred,
                   sample_weight=[0.7, 0.3]) == pytest.approx(0.3)
    # class 2 ties with class 1 for the top score: both are "in the top 1", as in TensorFlow
    assert _result(metrics.SparseTopKCategoricalAccuracy(k=1), [2], [[0.1, 0.5, 0.5]]) == 1.0
    ids = metrics.SparseTopKCategoricalAccuracy(k=2, from_sorted_ids=True)
    assert _result(ids, [2, 1], [[1, 2, 0], [0, 2, 1]]) == 0.5


# ------------------------------------------------------------------- regression

def test_regression_metrics_by_hand():
    y_true, y_pred = [[0.0, 1.0], [0.0, 0.0]], [[1.0, 1.0], [1.0, 0.0]]
    assert _result(metrics.MeanSquaredError(), y_true, y_pred) == pytest.approx(0.5)
    assert _result(metrics.MeanAbsoluteError(), y_true, y_pred) == pytest.approx(0.5)
    assert _result(metrics.RootMeanSquaredError(), y_true, [[1.0, 1.0], [0.0, 0.0]]) == \
        pytest.approx(0.5)
    assert _result(metrics.MeanAbsolutePercentageError(), [[2.0], [4.0]], [[1.0], [5.0]]) == \
        pytest.approx((50.0 + 25.0) / 2)
    assert _result(metrics.MeanSquaredLogarithmicError(), [[0.0]], [[np.e - 1]]) == \
        pytest.approx(1.0, rel=1e-5)
    assert _result(metrics.LogCoshError(), [[0.0]], [[1.0]]) == \
        pytest.approx(np.log(np.cosh(1.0)), rel=1e-5)
    assert _result(metrics.CosineSimilarity(), [[0.0, 1.0], [1.0, 1.0]],
                   [[1.0, 0.0], [1.0, 1.0]]) == pytest.approx(0.5, rel=1e-5)


def test_rmse_is_root_of_the_epoch_mean_not_a_mean_of_roots():
    m = metrics.RootMeanSquaredError()
    m.update_state([[0.0]], [[2.0]])          # squared error 4
    m.update_state([[0.0]], [[0.0]])          # squared error 0
    assert m.result() == pytest.approx(np.sqrt(2.0))


def test_r2_score_perfect_and_mean_predictions():
    y = np.array([[1.0], [2.0], [3.0], [4.0]])
    assert _result(metrics.R2Score(), y, y) == pytest.approx(1.0)
    assert _result(metrics.R2Score(), y, np.full_like(y, 2.5)) == pytest.approx(0.0)


# ------------------------------------------------------------- probabilistic

def test_probabilistic_metrics_use_the_losses_values():
    from minikeras import losses

    y_true = np.array([[0.0, 1.0], [1.0, 0.0]], dtype="float32")
    y_pred = np.array([[0.4, 0.6], [0.7, 0.3]], dtype="float32")
    expected = np.mean(losses.categorical_crossentropy(y_true, y_pred))
    assert _result(metrics.CategoricalCrossentropy(), y_true, y_pred) == \
        pytest.approx(float(expected))
    assert _result(metrics.CategoricalCrossentropy(), y_true, y_pred) == \
        pytest.approx(-(np.log(0.6) + np.log(0.7)) / 2, rel=1e-5)
    assert _result(metrics.SparseCategoricalCrossentropy(), [1, 0], y_pred) == \
        pytest.approx(-(np.log(0.6) + np.log(0.7)) / 2, rel=1e-5)
    assert _result(metrics.BinaryCrossentropy(), [[1.0]], [[0.8]]) == \
        pytest.approx(-np.log(0.8), rel=1e-5)
    assert _result(metrics.Poisson(), [[1.0]], [[2.0]]) == \
        pytest.approx(2.0 - np.log(2.0), rel=1e-5)
    assert _result(metrics.KLDivergence(), y_true, y_true) == pytest.approx(0.0, abs=1e-5)


def test_hinge_metrics():
    assert _result(metrics.Hinge(), [[1.0, -1.0]], [[0.5, 0.5]]) == pytest.approx(1.0)
    assert _result(metrics.SquaredHinge(), [[1.0, -1.0]], [[0.5, 0.5]]) == \
        pytest.approx(1.25)
    # correct-class score 0.2, best wrong 0.7: max(0, 0.7 - 0.2 + 1)
    assert _result(metrics.CategoricalHinge(), [[0.0, 1.0, 0.0]], [[0.1, 0.2, 0.7]]) == \
        pytest.approx(1.5)


# ------------------------------------------------------------------ confusion

Y_TRUE = [0, 1, 1, 1]
Y_PRED = [1, 0, 1, 1]


def test_confusion_counts_by_hand():
    assert _result(metrics.TruePositives(), Y_TRUE, Y_PRED) == 2.0
    assert _result(metrics.FalsePositives(), Y_TRUE, Y_PRED) == 1.0
    assert _result(metrics.TrueNegatives(), Y_TRUE, Y_PRED) == 0.0
    assert _result(metrics.FalseNegatives(), Y_TRUE, Y_PRED) == 1.0
    assert _result(metrics.TruePositives(), Y_TRUE, Y_PRED, sample_weight=[0, 0, 1, 0.5]) == 1.5
    fp = metrics.FalsePositives(thresholds=[0.15, 0.5, 0.85])
    np.testing.assert_array_equal(
        _result(fp, [0, 0, 0, 1], [0.1, 0.6, 0.9, 0.95]), [2.0, 2.0, 1.0])


def test_precision_recall_thresholds_top_k_class_id():
    assert _result(metrics.Precision(), Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert _result(metrics.Recall(), Y_TRUE, Y_PRED) == pytest.approx(2 / 3)
    assert _result(metrics.Precision(), Y_TRUE, Y_PRED, sample_weight=[1, 0, 0, 1]) == 0.5
    # thresholds given in any order: one result per threshold, in that order
    precision = metrics.Precision(thresholds=[0.7, 0.1])
    np.testing.assert_allclose(_result(precision, [0, 1, 1], [0.3, 0.5, 0.9]), [1.0, 2 / 3])
    y_true = [[0, 0, 1, 1]]
    y_pred = [[1, 0.5, 0.3, 0.2]]
    assert _result(metrics.Precision(top_k=2), y_true, y_pred) == 0.0     # top 2: classes 0, 1
    assert _result(metrics.Recall(top_k=3), y_true, y_pred) == 0.5        # class 2 found
    assert _result(metrics.Precision(class_id=2), [[0, 0, 1], [1, 0, 0]],
                   [[0.1, 0.2, 0.7], [0.1, 0.2, 0.7]]) == 0.5
    assert _result(metrics.Recall(class_id=0), [[0, 0, 1], [1, 0, 0]],
                   [[0.1, 0.2, 0.7], [0.1, 0.2, 0.7]]) == 0.0


def test_precision_is_zero_without_positive_predictions():
    assert _result(metrics.Precision(), [1, 1], [0.1, 0.2]) == 0.0


def test_precision_accumulates_and_resets():
    m = metrics.Precision()
    m.update_state([1, 0], [0.9, 0.9])
    m.update_state([1, 1], [0.9, 0.9])
    assert m.result() == pytest.approx(3 / 4)
    m.reset_state()
    m.update_state([1], [0.9])
    assert m.result() == 1.0


def test_threshold_validation_quotes_the_value():
    with pytest.raises(ValueError, match=r"\[1.5\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="num_thresholds"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="curve"):
        metrics.AUC(curve="XY")


def test_auc_separable_reversed_and_against_the_exact_area():
    auc = metrics.AUC()
    assert _result(auc, [0, 0, 1, 1], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(1.0)
    assert _result(metrics.AUC(), [1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]) == pytest.approx(0.0)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 2000)
    p = np.clip(0.3 * y + rng.random(2000) * 0.7, 0, 1)
    # The exact ROC AUC: fraction of (positive, negative) pairs ranked correctly.
    pos, neg = p[y == 1], p[y == 0]
    exact = np.mean(pos[:, None] > neg[None, :]) + 0.5 * np.mean(pos[:, None] == neg[None, :])
    fine = metrics.AUC(num_thresholds=5001)
    assert _result(fine, y, p) == pytest.approx(exact, abs=2e-3)


def test_auc_accumulates_like_one_big_batch_and_weights_like_repetition():
    rng = np.random.default_rng(1)
    y = rng.integers(0, 2, 300)
    p = rng.random(300)
    whole = _result(metrics.AUC(curve="PR"), y, p)
    parts = metrics.AUC(curve="PR")
    for i in range(0, 300, 70):
        parts.update_state(y[i:i + 70], p[i:i + 70])
    assert parts.result() == pytest.approx(whole)
    weighted = _result(metrics.AUC(), y[:50], p[:50], sample_weight=np.full(50, 2.0))
    repeated = _result(metrics.AUC(), np.tile(y[:50], 2), np.tile(p[:50], 2))
    assert weighted == pytest.approx(repeated)


def test_auc_multi_label_averages_the_labels():
    y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]])
    p = np.array([[0.9, 0.9], [0.1, 0.1], [0.8, 0.2], [0.2, 0.8]])   # label 0 perfect
    auc = metrics.AUC(multi_label=True)
    value = _result(auc, y, p)
    assert auc.true_positives.shape == (200, 2)
    label1 = _result(metrics.AUC(), y[:, 1], p[:, 1])
    assert value == pytest.approx((1.0 + label1) / 2)


def test_confusion_counts_match_a_direct_comparison():
    rng = np.random.default_rng(3)
    y = rng.integers(0, 2, 500).astype("float32")
    p = rng.random(500).astype("float32")
    w = rng.random(500).astype("float32")
    thresholds = [0.9, 0.05, 0.5, 0.3]
    counts = metrics_utils.confusion_counts(y, p, thresholds, sample_weight=w)
    above = p[None, :] > np.array(thresholds, dtype="float32")[:, None]
    np.testing.assert_allclose(counts["tp"], (above * (y == 1) * w).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(counts["fp"], (above * (y == 0) * w).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(counts["tn"], (~above * (y == 0) * w).sum(axis=1), rtol=1e-5)
    np.testing.assert_allclose(counts["fn"], (~above * (y == 1) * w).sum(axis=1), rtol=1e-5)


def test_auc_handles_a_million_predictions():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 2, 1_000_000)
    auc = metrics.AUC()
    assert 0.45 < _result(auc, y, rng.random(1_000_000)) < 0.55


# ------------------------------------------------------------------ get & names

@pytest.mark.parametrize("name, cls", [
    ("mse", metrics.MeanSquaredError), ("MSE", metrics.MeanSquaredError),
    ("mae", metrics.MeanAbsoluteError), ("mape", metrics.MeanAbsolutePercentageError),
    ("msle", metrics.MeanSquaredLogarithmicError), ("bce", metrics.BinaryCrossentropy),
    ("auc", metrics.AUC), ("AUC", metrics.AUC), ("precision", metrics.Precision),
    ("recall", metrics.Recall), ("binary_accuracy", metrics.BinaryAccuracy),
    ("top_k_categorical_accuracy", metrics.TopKCategoricalAccuracy),
    ("root_mean_squared_error", metrics.RootMeanSquaredError),
    ("log_cosh_error", metrics.LogCoshError), ("kl_divergence", metrics.KLDivergence),
    ("true_positives", metrics.TruePositives), ("RootMeanSquaredError",
                                                metrics.RootMeanSquaredError),
])
def test_get_accepts_keras_names(name, cls):
    assert type(metrics.get(name)) is cls


def test_get_rejects_unknown_names_listing_valid_ones():
    with pytest.raises(ValueError, match="'f2'.*Valid names.*'auc'"):
        metrics.get("f2")


def test_get_wraps_functions_under_their_name():
    m = metrics.get(metrics.binary_accuracy)
    assert isinstance(m, metrics.BinaryAccuracy) and m.name == "binary_accuracy"

    def my_error(y_true, y_pred):
        return np.abs(y_true - y_pred)

    assert metrics.get(my_error).name == "my_error"
    assert metrics.get(None) is None


def test_default_names_are_made_unique_as_in_keras():
    first, second = metrics.AUC(), metrics.AUC()
    assert second.name != first.name and second.name.startswith("auc")
    assert metrics.MeanSquaredError().name == "mean_squared_error"      # explicit default
    assert metrics.LogCoshError().name == "logcosh"


def test_serialize_round_trip_keeps_the_configuration():
    original = metrics.AUC(num_thresholds=50, curve="PR", name="pr")
    copy = metrics.deserialize(metrics.serialize(original))
    assert type(copy) is metrics.AUC
    assert copy.get_config() == original.get_config()
    p = metrics.deserialize(metrics.serialize(metrics.Precision(thresholds=[0.2, 0.4],
                                                                top_k=2)))
    assert p.thresholds == [0.2, 0.4] and p.top_k == 2


def test_directions_for_monitoring():
    assert metrics.AUC()._direction == "up"
    assert metrics.MeanSquaredError()._direction == "down"
    assert not hasattr(metrics.Mean(), "_direction")
    assert not hasattr(metrics.TruePositives(), "_direction")


def test_metric_strings_in_compile_become_history_keys():
    import minikeras

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  minikeras.layers.Dense(1, activation="sigmoid")])
    model.compile("sgd", "binary_crossentropy",
                  metrics=["acc", "AUC", "mse", metrics.Precision(name="prec")])
    history = model.fit(x, y, epochs=2, verbose=0, validation_split=0.25)
    assert list(history.history) == sorted(["AUC", "acc", "loss", "mse", "prec", "val_AUC",
                                            "val_acc", "val_loss", "val_mse", "val_prec"])
    with pytest.raises(ValueError, match="Could not interpret metric identifier"):
        model.compile("sgd", "binary_crossentropy", metrics=["not_a_metric"])


# ------------------------------------------------------- "X at Y" and F-scores

def test_at_constraint_metrics_by_hand():
    y_true = [0, 0, 0, 1, 1, 1]
    y_pred = [0.1, 0.2, 0.6, 0.4, 0.7, 0.9]
    # With thresholds 0, 0.25, 0.5, 0.75, 1 (num_thresholds=5):
    #   t=0.25: TP 3, FP 1 -> recall 1, precision 3/4, specificity 2/3
    #   t=0.5:  TP 2, FP 1 -> recall 2/3, precision 2/3, specificity 2/3
    #   t=0.75: TP 1, FP 0 -> recall 1/3, precision 1, specificity 1
    assert _result(metrics.PrecisionAtRecall(0.9, num_thresholds=5), y_true, y_pred) == \
        pytest.approx(0.75)
    assert _result(metrics.RecallAtPrecision(0.9, num_thresholds=5), y_true, y_pred) == \
        pytest.approx(1 / 3)
    assert _result(metrics.SensitivityAtSpecificity(0.9, num_thresholds=5), y_true,
                   y_pred) == pytest.approx(1 / 3)
    assert _result(metrics.SpecificityAtSensitivity(0.6, num_thresholds=5), y_true,
                   y_pred) == pytest.approx(2 / 3)
    with pytest.raises(ValueError, match="recall=1.5"):
        metrics.PrecisionAtRecall(1.5)


def test_f_scores_by_hand():
    y_true = [[1, 0, 0], [0, 1, 0], [0, 1, 0], [0, 0, 1]]
    y_pred = [[0.8, 0.1, 0.1], [0.6, 0.3, 0.1], [0.1, 0.7, 0.2], [0.1, 0.2, 0.7]]
    # argmax predictions: 0, 0, 1, 2 -> class 0: P 1/2 R 1; class 1: P 1 R 1/2; class 2: 1, 1
    per_class = _result(metrics.F1Score(), y_true, y_pred)
    np.testing.assert_allclose(per_class, [2 / 3, 2 / 3, 1.0], rtol=1e-5)
    assert _result(metrics.F1Score(average="macro"), y_true, y_pred) == \
        pytest.approx(7 / 9, rel=1e-5)
    assert _result(metrics.F1Score(average="micro"), y_true, y_pred) == \
        pytest.approx(0.75, rel=1e-5)
    weighted = (2 / 3 * 1 + 2 / 3 * 2 + 1.0 * 1) / 4
    assert _result(metrics.F1Score(average="weighted"), y_true, y_pred) == \
        pytest.approx(weighted, rel=1e-5)
    # beta = 2 favours recall: class 0 (P 1/2, R 1) -> 5 * 0.5 / (4 * 0.5 + 1) = 5/6
    fbeta = _result(metrics.FBetaScore(beta=2.0), y_true, y_pred)
    assert fbeta[0] == pytest.approx(5 / 6, rel=1e-5)
    with pytest.raises(ValueError, match="beta=2 of type"):
        metrics.FBetaScore(beta=2)


# ------------------------------------------------------------ IoU, correlation

def test_iou_by_hand():
    y_true = [0, 0, 1, 1]
    y_pred = [0, 1, 0, 1]
    # class 0: TP 1, FP 1, FN 1 -> 1/3; class 1 the same
    assert _result(metrics.MeanIoU(num_classes=2), y_true, y_pred) == pytest.approx(1 / 3)
    assert _result(metrics.IoU(num_classes=3, target_class_ids=[0, 2]), y_true, y_pred) == \
        pytest.approx(1 / 3)                     # class 2 never occurs: left out
    assert _result(metrics.BinaryIoU(target_class_ids=[1], threshold=0.5), [0, 1, 1],
                   [0.6, 0.4, 0.9]) == pytest.approx(1 / 3)
    one_hot = metrics.OneHotMeanIoU(num_classes=2)
    assert _result(one_hot, [[1, 0], [1, 0], [0, 1], [0, 1]],
                   [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.1, 0.9]]) == pytest.approx(1 / 3)
    with pytest.raises(ValueError, match="Target class id 3 is out of range"):
        metrics.IoU(num_classes=3, target_class_ids=[3])


def test_correlations_by_hand():
    y_true = [[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]
    assert _result(metrics.PearsonCorrelation(), y_true, [[2.0, 4.0, 6.0], [3.0, 2.0, 1.0]]) \
        == pytest.approx(0.0, abs=1e-6)          # +1 and -1
    assert _result(metrics.ConcordanceCorrelation(), y_true, y_true) == \
        pytest.approx(1.0, rel=1e-5)


def test_a_custom_metric_written_the_keras_way():
    class CountPositives(metrics.Metric):
        def __init__(self, name="count_positives", **kwargs):
            super().__init__(name=name, **kwargs)
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(np.sum(np.asarray(y_pred) > 0.5))

        def result(self):
            return self.count

    m = CountPositives()
    m.update_state([1, 0, 1], [0.7, 0.9, 0.1])
    m.update_state([1], [0.6])
    assert float(np.asarray(m.result())) == 3.0
    assert [v.path for v in m.variables] == ["count_positives/count"]
    m.reset_state()
    assert float(np.asarray(m.result())) == 0.0
