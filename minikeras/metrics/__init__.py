"""`keras.metrics`: metric classes, per-sample metric functions, and the names compile accepts."""

from minikeras.metrics.accuracy_metrics import (
    Accuracy,
    BinaryAccuracy,
    CategoricalAccuracy,
    SparseCategoricalAccuracy,
    accuracy,
    binary_accuracy,
    categorical_accuracy,
    sparse_categorical_accuracy,
)
from minikeras.metrics.metric import Mean, MeanMetricWrapper, Metric

# compile(metrics=[...]) strings -> metric class. "accuracy"/"acc" are resolved by the model
# from the loss and output shape (see models/compile_utils.py).
METRIC_CLASSES = {
    "binary_accuracy": BinaryAccuracy,
    "categorical_accuracy": CategoricalAccuracy,
    "sparse_categorical_accuracy": SparseCategoricalAccuracy,
}
METRIC_FUNCTIONS = {
    binary_accuracy: BinaryAccuracy,
    categorical_accuracy: CategoricalAccuracy,
    sparse_categorical_accuracy: SparseCategoricalAccuracy,
    accuracy: Accuracy,
}


def get(identifier):
    """A Metric from a name, a metric function, a config dict, a class or an instance."""
    if isinstance(identifier, Metric):
        return identifier
    if isinstance(identifier, type) and issubclass(identifier, Metric):
        return identifier()
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier in METRIC_CLASSES:
            return METRIC_CLASSES[identifier]()
        for cls in set(METRIC_CLASSES.values()):
            if cls.__name__ == identifier:
                return cls()
        raise ValueError(
            f"Could not interpret metric identifier: {identifier!r}. Valid names: "
            f"{sorted(set(METRIC_CLASSES) | {'accuracy', 'acc'})}"
        )
    if callable(identifier) and identifier in METRIC_FUNCTIONS:
        return METRIC_FUNCTIONS[identifier](name=identifier.__name__)
    if callable(identifier):
        # Metrics need no gradient, so any per-sample function works.
        return MeanMetricWrapper(identifier)
    raise ValueError(f"Could not interpret metric identifier: {identifier!r}")


def serialize(metric):
    return {"class_name": type(metric).__name__, "config": metric.get_config()}


def deserialize(config):
    for cls in set(METRIC_CLASSES.values()) | {Mean, Accuracy}:
        if cls.__name__ == config["class_name"]:
            return cls.from_config(config.get("config", {}))
    raise ValueError(f"Unknown metric: {config['class_name']!r}")


__all__ = [
    "Accuracy", "BinaryAccuracy", "CategoricalAccuracy", "Mean", "MeanMetricWrapper", "Metric",
    "SparseCategoricalAccuracy", "accuracy", "binary_accuracy", "categorical_accuracy",
    "deserialize", "get", "serialize", "sparse_categorical_accuracy",
]
