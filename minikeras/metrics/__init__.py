"""`keras.metrics`: metric classes, per-sample metric functions, and the names compile accepts.

Names accepted by `get` (and so by `compile(metrics=[...])`), as in Keras: each class name
("AUC", "MeanSquaredError"), its snake-case form ("auc", "mean_squared_error",
"top_k_categorical_accuracy"), and the short aliases "mse", "mae", "mape", "msle", "bce" (also
upper case). In compile, "accuracy"/"acc" are resolved by the model from the targets' and
predictions' shapes, and the History key is the string as given.
"""

from minikeras.losses import (  # keras.metrics re-exports these per-sample loss functions
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_hinge,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
)
from minikeras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    SparseTopKCategoricalAccuracy,
    TopKCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
    sparse_top_k_categorical_accuracy,
    top_k_categorical_accuracy,
)
from minikeras.metrics.confusion_metrics import (
    AUC,
    FalseNegatives,
    FalsePositives,
    Precision,
    PrecisionAtRecall,
    Recall,
    RecallAtPrecision,
    SensitivityAtSpecificity,
    SpecificityAtSensitivity,
    TrueNegatives,
    TruePositives,
)
from minikeras.metrics.correlation_metrics import (
    ConcordanceCorrelation,
    PearsonCorrelation,
    concordance_correlation,
    pearson_correlation,
)
from minikeras.metrics.f_score_metrics import F1Score, FBetaScore
from minikeras.metrics.hinge_metrics import CategoricalHinge, Hinge, SquaredHinge
from minikeras.metrics.iou_metrics import BinaryIoU, IoU, MeanIoU, OneHotIoU, OneHotMeanIoU
from minikeras.metrics.metric import Metric
from minikeras.metrics.probabilistic_metrics import (
    BinaryCrossentropy,
    CategoricalCrossentropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from minikeras.metrics.reduction_metrics import Mean, MeanMetricWrapper, Sum
from minikeras.metrics.regression_metrics import (
    CosineSimilarity,
    LogCoshError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    R2Score,
    RootMeanSquaredError,
)
from minikeras.utils.naming import to_snake_case

ALL_CLASSES = [
    Metric, Mean, Sum, MeanMetricWrapper,
    MeanSquaredError, RootMeanSquaredError, MeanAbsoluteError, MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError, CosineSimilarity, LogCoshError, R2Score,
    AUC, FalseNegatives, FalsePositives, Precision, PrecisionAtRecall, Recall,
    RecallAtPrecision, SensitivityAtSpecificity, SpecificityAtSensitivity, TrueNegatives,
    TruePositives, F1Score, FBetaScore, PearsonCorrelation, ConcordanceCorrelation,
    IoU, BinaryIoU, MeanIoU, OneHotIoU, OneHotMeanIoU,
    Hinge, SquaredHinge, CategoricalHinge,
    KLDivergence, Poisson, BinaryCrossentropy, CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    Accuracy, BinaryAccuracy, CategoricalAccuracy, SparseCategoricalAccuracy,
    TopKCategoricalAccuracy, SparseTopKCategoricalAccuracy,
]

# Every name `get` accepts -> class.
METRIC_CLASSES = {cls.__name__: cls for cls in ALL_CLASSES}
METRIC_CLASSES.update({to_snake_case(cls.__name__): cls for cls in ALL_CLASSES})
METRIC_CLASSES.update({
    "bce": BinaryCrossentropy, "BCE": BinaryCrossentropy,
    "mse": MeanSquaredError, "MSE": MeanSquaredError,
    "mae": MeanAbsoluteError, "MAE": MeanAbsoluteError,
    "mape": MeanAbsolutePercentageError, "MAPE": MeanAbsolutePercentageError,
    "msle": MeanSquaredLogarithmicError, "MSLE": MeanSquaredLogarithmicError,
})

LOSS_FUNCTIONS_REEXPORTED = [
    binary_crossentropy, binary_focal_crossentropy, categorical_crossentropy,
    categorical_focal_crossentropy, categorical_hinge, hinge, huber, kl_divergence, log_cosh,
    mean_absolute_error, mean_absolute_percentage_error, mean_squared_error,
    mean_squared_logarithmic_error, poisson, sparse_categorical_crossentropy, squared_hinge,
]

# Metric functions -> the class that averages them (named after the function in compile).
METRIC_FUNCTIONS = {
    accuracy: Accuracy,
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    top_k_categorical_accuracy: TopKCategoricalAccuracy,
    sparse_top_k_categorical_accuracy: SparseTopKCategoricalAccuracy,
    pearson_correlation: PearsonCorrelation,
    concordance_correlation: ConcordanceCorrelation,
}


def get(identifier):
    """A Metric from a name, a metric function, a config dict, a class or an instance.

    Names are those of METRIC_CLASSES (Keras's: "auc", "AUC", "mse", "precision", ...).
    A function becomes the running mean of its values, named after the function (for
    Keras's own functions, the matching class, e.g. binary_accuracy -> BinaryAccuracy).
    None gives None.
    """
    if identifier is None:
        return None
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in METRIC_CLASSES:
            return METRIC_CLASSES[identifier]()
        raise ValueError(
            f"Could not interpret metric identifier: {identifier!r}. Valid names: "
            f"{sorted(set(METRIC_CLASSES) | {'accuracy', 'acc'})}"
        )
    if callable(identifier):
        name = getattr(identifier, "__name__", None)
        if identifier in METRIC_FUNCTIONS:
            return METRIC_FUNCTIONS[identifier](name=name)
        # Metrics need no gradient, so any per-sample function works.
        return MeanMetricWrapper(identifier, name=name)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    """{"class_name": ..., "config": ...} of a Metric."""
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    """The Metric described by serialize()'s dict."""
    name = config.get("class_name") if isinstance(config, dict) else None
    cls = METRIC_CLASSES.get(name)
    if cls is None or cls in (Metric, MeanMetricWrapper):
        raise ValueError(f"Unknown metric: {name!r}. Received: config={config!r}")
    return cls.from_config(config.get("config", {}))


# keras.metrics exports every function above but `accuracy`.
__all__ = sorted(
    {cls.__name__ for cls in ALL_CLASSES}
    | {fn.__name__ for fn in METRIC_FUNCTIONS if fn is not accuracy}
    | {fn.__name__ for fn in LOSS_FUNCTIONS_REEXPORTED}
    | {"deserialize", "get", "serialize"}
)
