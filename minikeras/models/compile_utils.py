"""Turning compile()'s arguments into objects: the loss, the metrics and their names."""

from minikeras import losses as losses_module
from minikeras import metrics as metrics_module

_ACCURACY_NAMES = ("accuracy", "acc")


def resolve_loss(loss):
    if loss is None:
        raise ValueError(
            "No loss to compute. Provide a `loss` argument in `compile()`. Received: loss=None"
        )
    if isinstance(loss, (list, tuple, dict)):
        if isinstance(loss, (list, tuple)) and len(loss) == 1:
            return resolve_loss(loss[0])
        raise ValueError(
            "minikeras models have a single output, so `loss` must be a single loss. "
            f"Received: loss={loss!r}"
        )
    if isinstance(loss, str) and loss.lower() in ("crossentropy", "ce"):
        return ShapeChosenCrossentropy(name=loss)
    return losses_module.get(loss)


class ShapeChosenCrossentropy(losses_module.Loss):
    """compile(loss="crossentropy") (or "ce"): Keras's shortcut that picks binary, sparse
    categorical or categorical cross-entropy from the shapes of the first targets and
    predictions it sees, with the same rule as "accuracy"."""

    accepts_output_logits = True

    def __init__(self, name="crossentropy"):
        super().__init__(name=name)
        self.chosen = None

    def forward(self, y_true, y_pred, logits=None):
        if self.chosen is None:
            if y_pred.shape[-1] == 1:
                self.chosen = losses_module.BinaryCrossentropy()
            elif y_true.ndim < y_pred.ndim or y_true.shape[-1] == 1:
                self.chosen = losses_module.SparseCategoricalCrossentropy()
            else:
                self.chosen = losses_module.CategoricalCrossentropy()
        return self.chosen.forward(y_true, y_pred, logits=logits)

    def backward(self, dvalues, cache):
        return self.chosen.backward(dvalues, cache)


def resolve_loss_weight(loss_weights):
    if loss_weights is None:
        return 1.0
    if isinstance(loss_weights, (list, tuple)) and len(loss_weights) == 1:
        loss_weights = loss_weights[0]
    if isinstance(loss_weights, dict) and len(loss_weights) == 1:
        loss_weights = next(iter(loss_weights.values()))
    if isinstance(loss_weights, bool) or not isinstance(loss_weights, (int, float)):
        raise ValueError(
            f"`loss_weights` must be a number (or a list of one number) for a single-output "
            f"model. Received: loss_weights={loss_weights!r}"
        )
    return float(loss_weights)


def check_metric_identifiers(name, identifiers):
    """Checks compile's metrics list early, so an unknown name fails in compile()."""
    if identifiers is None:
        return []
    if isinstance(identifiers, (str, metrics_module.Metric)) or callable(identifiers):
        raise ValueError(
            f"Expected `{name}` argument to be a list. Received: {name}={identifiers!r}"
        )
    if isinstance(identifiers, dict):
        raise ValueError(
            f"minikeras models have a single output: `{name}` must be a list. "
            f"Received: {name}={identifiers!r}"
        )
    identifiers = list(identifiers)
    for identifier in identifiers:
        if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
            continue
        metrics_module.get(identifier)      # raises with the valid names if unknown
    return identifiers


def build_metric(identifier, y_true, y_pred):
    """A fresh Metric for one compile() entry, named as Keras names it.

    "accuracy" / "acc" become binary, sparse categorical or categorical accuracy depending on
    the shapes of the targets and predictions, as in Keras.
    """
    if isinstance(identifier, str) and identifier.lower() in _ACCURACY_NAMES:
        binary = y_pred.shape[-1] == 1
        sparse = y_true.ndim < y_pred.ndim or (y_true.shape[-1] == 1 and y_pred.shape[-1] > 1)
        if binary:
            metric = metrics_module.BinaryAccuracy()
        elif sparse:
            metric = metrics_module.SparseCategoricalAccuracy()
        else:
            metric = metrics_module.CategoricalAccuracy()
    else:
        metric = metrics_module.get(identifier)
    if isinstance(identifier, str):
        metric.name = identifier
    return metric
