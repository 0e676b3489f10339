"""Turning compile()'s arguments into objects: the loss, the metrics and their names."""

from minikeras import losses as losses_module
from minikeras import metrics as metrics_module

_ACCURACY_NAMES = ("accuracy", "acc")


def resolve_losses(loss, output_names):
    """compile's `loss` -> one Loss (or None: that output has no loss) per output.

    output_names: the model's output names ([None] for an unbuilt Sequential). One loss
    applies to every output; a list gives one per output, in order; a dict one per output
    name.
    """
    count = len(output_names)
    if loss is None:
        # Keras accepts this: the loss then comes from add_loss or a custom train_step.
        return [None] * count
    if isinstance(loss, dict):
        if count == 1 and output_names[0] is None:
            raise ValueError(
                "A dict of losses needs a model whose outputs are known (build it first). "
                f"Received: loss={loss!r}"
            )
        if sorted(loss) != sorted(output_names):
            raise ValueError(
                f"Expected keys {list(output_names)} in loss dict, but found "
                f"loss.keys()={list(loss)}"
            )
        return [_resolve_one(loss[name]) for name in output_names]
    if isinstance(loss, (list, tuple)):
        if len(loss) != count:
            raise ValueError(
                f"`loss` must have one entry per model output: expected {count} (outputs "
                f"{list(output_names)}). Received: loss={loss!r}"
            )
        return [_resolve_one(entry) for entry in loss]
    if count == 1:
        return [resolve_loss(loss)]
    return [resolve_loss(loss) for _ in output_names]    # one instance each: some keep state


def _resolve_one(loss):
    return None if loss is None else resolve_loss(loss)


def resolve_loss(loss):
    if loss is None:
        raise ValueError(
            "No loss to compute. Provide a `loss` argument in `compile()`. Received: loss=None"
        )
    if isinstance(loss, (list, tuple, dict)):
        raise ValueError(
            f"Expected one loss (a name, function or Loss). Received: loss={loss!r}"
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


def resolve_loss_weights(loss_weights, output_names):
    """compile's `loss_weights` -> one float per output (1.0 where none is given)."""
    count = len(output_names)
    if loss_weights is None:
        return [1.0] * count
    if isinstance(loss_weights, dict):
        unknown = [key for key in loss_weights if key not in output_names]
        if unknown and not (count == 1 and len(loss_weights) == 1):
            raise ValueError(
                f"`loss_weights` keys must be output names {list(output_names)}. Received: "
                f"loss_weights={loss_weights!r}"
            )
        if count == 1 and len(loss_weights) == 1:
            return [_weight(next(iter(loss_weights.values())), loss_weights)]
        return [_weight(loss_weights.get(name, 1.0), loss_weights) for name in output_names]
    if isinstance(loss_weights, (list, tuple)):
        if len(loss_weights) != count:
            raise ValueError(
                f"`loss_weights` must have one entry per model output: expected {count}. "
                f"Received: loss_weights={loss_weights!r}"
            )
        return [_weight(w, loss_weights) for w in loss_weights]
    return [_weight(loss_weights, loss_weights)] * count


def _weight(value, given):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(
            f"`loss_weights` must hold numbers. Received: loss_weights={given!r}"
        )
    return float(value)


def metrics_per_output(name, identifiers, output_names):
    """compile's `metrics` (or `weighted_metrics`) -> one list of identifiers per output.

    A flat list is for a single-output model; with several outputs, a list of lists (one per
    output) or a dict {output name: list (or one metric)}, as Keras takes them.
    """
    count = len(output_names)
    if identifiers is None:
        return [[] for _ in output_names]
    if isinstance(identifiers, dict) and count > 1:
        unknown = [key for key in identifiers if key not in output_names]
        if unknown:
            raise ValueError(
                f"`{name}` dict keys must be output names {list(output_names)}. Received: "
                f"{name}={identifiers!r}"
            )
        per_output = []
        for output_name in output_names:
            entry = identifiers.get(output_name, [])
            if isinstance(entry, (str, metrics_module.Metric)) or callable(entry):
                entry = [entry]
            per_output.append(check_metric_identifiers(name, entry))
        return per_output
    if count > 1:
        nested = isinstance(identifiers, (list, tuple)) and len(identifiers) == count and all(
            isinstance(entry, (list, tuple)) or entry is None for entry in identifiers)
        if not nested:
            raise ValueError(
                f"Invalid `{name}`. For a model with several outputs {list(output_names)}, "
                f"`{name}` must be a dict keyed by output name or a list with one list per "
                f"output. Received: {name}={identifiers!r}"
            )
        return [check_metric_identifiers(name, entry) for entry in identifiers]
    return [check_metric_identifiers(name, identifiers)]


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
            f"The model has a single output: `{name}` must be a list. "
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
