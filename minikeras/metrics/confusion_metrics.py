"""Metrics from confusion-matrix counts at thresholds: TP/FP/TN/FN, Precision, Recall, the
"X at Y" family (PrecisionAtRecall, SensitivityAtSpecificity...) and AUC.

A prediction p is "positive" at threshold t when p > t; a label is positive when non-zero.
Each metric keeps weighted counts per threshold, summed over the batches of the epoch
(metrics_utils.confusion_counts does the vectorised counting), and derives its result from
them:

    precision = TP / (TP + FP)        recall = TP / (TP + FN)        (0 when the sum is 0)
"""

import numpy as np

from minikeras import backend
from minikeras.metrics import metrics_utils
from minikeras.metrics.metric import Metric


def _divide_no_nan(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    safe = np.where(b == 0, 1.0, b)
    return np.where(b == 0, 0.0, a / safe)


def _single_or_all(values, thresholds):
    """A float for one threshold, else the array (one value per threshold)."""
    return float(values[0]) if len(thresholds) == 1 else np.asarray(values)


class _ConfusionMatrixConditionCount(Metric):
    """Base of TruePositives & co.: one weighted count per threshold.

    Args:
        thresholds: a float or list of floats in [0, 1] (default 0.5). result() is a float
            for one threshold, else an array with one count per threshold.
    """

    _condition = None        # "tp", "fp", "tn" or "fn"

    def __init__(self, thresholds=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.init_thresholds = thresholds
        self.thresholds = metrics_utils.check_thresholds(thresholds, default_threshold=0.5)
        self._evenly = metrics_utils.is_evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self):
        self.accumulator = np.zeros(len(self.thresholds))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true, y_pred: (batch, ...) alike; sample_weight: (batch,) or like y_pred."""
        counts = metrics_utils.confusion_counts(
            y_true, y_pred, self.thresholds, evenly_distributed=self._evenly,
            sample_weight=sample_weight, dtype=self.dtype)
        self.accumulator = self.accumulator + counts[self._condition]

    def result(self):
        return _single_or_all(self.accumulator, self.thresholds)

    def get_config(self):
        config = super().get_config()
        config["thresholds"] = self.init_thresholds
        return config


class TruePositives(_ConfusionMatrixConditionCount):
    """Weighted number of positive labels predicted positive."""

    _condition = "tp"


class FalsePositives(_ConfusionMatrixConditionCount):
    """Weighted number of negative labels predicted positive."""

    _condition = "fp"


class TrueNegatives(_ConfusionMatrixConditionCount):
    """Weighted number of negative labels predicted negative."""

    _condition = "tn"


class FalseNegatives(_ConfusionMatrixConditionCount):
    """Weighted number of positive labels predicted negative."""

    _condition = "fn"


class _PrecisionRecall(Metric):
    """Shared set-up of Precision and Recall.

    Args:
        thresholds: float or list of floats in [0, 1]; default 0.5, or, with top_k, no
            threshold at all (every top-k class counts as predicted).
        top_k: only the k highest-scoring classes of each sample can be positive.
        class_id: compute the metric for this column only.
    """

    _counts = ()             # which counts result() needs

    def __init__(self, thresholds=None, top_k=None, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        self.init_thresholds = thresholds
        self.top_k = top_k
        self.class_id = class_id
        default = 0.5 if top_k is None else metrics_utils.NEG_INF
        self.thresholds = metrics_utils.check_thresholds(thresholds, default_threshold=default)
        self._evenly = metrics_utils.is_evenly_distributed(self.thresholds)
        self.reset_state()

    def reset_state(self):
        for key in self._counts:
            setattr(self, _COUNT_NAMES[key], np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true, y_pred: (batch, ...) alike, or (batch, classes) with top_k / class_id."""
        counts = metrics_utils.confusion_counts(
            y_true, y_pred, self.thresholds, evenly_distributed=self._evenly,
            sample_weight=sample_weight, top_k=self.top_k, class_id=self.class_id,
            dtype=self.dtype)
        for key in self._counts:
            name = _COUNT_NAMES[key]
            setattr(self, name, getattr(self, name) + counts[key])

    def get_config(self):
        config = super().get_config()
        config.update({"thresholds": self.init_thresholds, "top_k": self.top_k,
                       "class_id": self.class_id})
        return config


_COUNT_NAMES = {"tp": "true_positives", "fp": "false_positives", "tn": "true_negatives",
                "fn": "false_negatives"}


class Precision(_PrecisionRecall):
    """TP / (TP + FP): the fraction of positive predictions that are right."""

    _counts = ("tp", "fp")

    def result(self):
        precision = _divide_no_nan(self.true_positives,
                                   self.true_positives + self.false_positives)
        return _single_or_all(precision, self.thresholds)


class Recall(_PrecisionRecall):
    """TP / (TP + FN): the fraction of positive labels that are found."""

    _counts = ("tp", "fn")

    def result(self):
        recall = _divide_no_nan(self.true_positives,
                                self.true_positives + self.false_negatives)
        return _single_or_all(recall, self.thresholds)


class _SensitivitySpecificityBase(Metric):
    """Base of the "best X subject to Y >= value" metrics.

    Counts are kept at `num_thresholds` evenly spaced thresholds in [0, 1] (one threshold,
    0.5, if num_thresholds is 1); result() is the largest value of the dependent rate among
    the thresholds where the constrained rate reaches `value` (0 if none does).

    Args:
        value: the constraint's target, in [0, 1].
        num_thresholds: thresholds to try.
        class_id: compute the metric for this column only.
    """

    def __init__(self, value, num_thresholds=200, class_id=None, name=None, dtype=None):
        super().__init__(name=name, dtype=dtype)
        self._direction = "up"
        if num_thresholds <= 0:
            raise ValueError(
                "Argument `num_thresholds` must be an integer > 0. "
                f"Received: num_thresholds={num_thresholds}"
            )
        self.value = value
        self.class_id = class_id
        if num_thresholds == 1:
            self.thresholds = [0.5]
            self._evenly = False
        else:
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self.thresholds = [0.0] + inner + [1.0]
            self._evenly = True
        self.reset_state()

    def reset_state(self):
        for name in _COUNT_NAMES.values():
            setattr(self, name, np.zeros(len(self.thresholds)))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true: 0/1 labels; y_pred: scores in [0, 1], same shape (or classes with
        class_id)."""
        counts = metrics_utils.confusion_counts(
            y_true, y_pred, self.thresholds, evenly_distributed=self._evenly,
            sample_weight=sample_weight, class_id=self.class_id, dtype=self.dtype)
        for key, name in _COUNT_NAMES.items():
            setattr(self, name, getattr(self, name) + counts[key])

    def _rates(self):
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        return {"sensitivity": _divide_no_nan(tp, tp + fn),       # = recall
                "specificity": _divide_no_nan(tn, tn + fp),
                "precision": _divide_no_nan(tp, tp + fp)}

    def _max_where_reached(self, constrained, dependent):
        rates = self._rates()
        feasible = rates[constrained] >= self.value
        return float(np.max(np.where(feasible, rates[dependent], 0.0), initial=0.0))

    def get_config(self):
        config = super().get_config()
        config["class_id"] = self.class_id
        return config


def _check_rate(name, value):
    if value < 0 or value > 1:
        raise ValueError(
            f"Argument `{name}` must be in the range [0, 1]. Received: {name}={value}"
        )
    return value


class SensitivityAtSpecificity(_SensitivitySpecificityBase):
    """The best sensitivity (recall) among thresholds with specificity >= `specificity`."""

    def __init__(self, specificity, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        self.specificity = _check_rate("specificity", specificity)
        self.num_thresholds = num_thresholds
        super().__init__(specificity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        return self._max_where_reached("specificity", "sensitivity")

    def get_config(self):
        config = super().get_config()
        config.update({"num_thresholds": self.num_thresholds,
                       "specificity": self.specificity})
        return config


class SpecificityAtSensitivity(_SensitivitySpecificityBase):
    """The best specificity among thresholds with sensitivity >= `sensitivity`."""

    def __init__(self, sensitivity, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        self.sensitivity = _check_rate("sensitivity", sensitivity)
        self.num_thresholds = num_thresholds
        super().__init__(sensitivity, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        return self._max_where_reached("sensitivity", "specificity")

    def get_config(self):
        config = super().get_config()
        config.update({"num_thresholds": self.num_thresholds,
                       "sensitivity": self.sensitivity})
        return config


class PrecisionAtRecall(_SensitivitySpecificityBase):
    """The best precision among thresholds with recall >= `recall`."""

    def __init__(self, recall, num_thresholds=200, class_id=None, name=None, dtype=None):
        self.recall = _check_rate("recall", recall)
        self.num_thresholds = num_thresholds
        super().__init__(recall, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        return self._max_where_reached("sensitivity", "precision")

    def get_config(self):
        config = super().get_config()
        config.update({"num_thresholds": self.num_thresholds, "recall": self.recall})
        return config


class RecallAtPrecision(_SensitivitySpecificityBase):
    """The best recall among thresholds with precision >= `precision`."""

    def __init__(self, precision, num_thresholds=200, class_id=None, name=None,
                 dtype=None):
        self.precision = _check_rate("precision", precision)
        self.num_thresholds = num_thresholds
        super().__init__(precision, num_thresholds=num_thresholds, class_id=class_id,
                         name=name, dtype=dtype)

    def result(self):
        return self._max_where_reached("precision", "sensitivity")

    def get_config(self):
        config = super().get_config()
        config.update({"num_thresholds": self.num_thresholds, "precision": self.precision})
        return config


CURVES = {"roc": "ROC", "pr": "PR", "prgain": "PRGAIN"}
SUMMATION_METHODS = ("interpolation", "majoring", "minoring")


class AUC(Metric):
    """Area under the ROC or precision-recall curve, from counts at fixed thresholds.

    The curve is sampled at `num_thresholds` thresholds: 0 - epsilon, (i + 1) / (n - 1) for
    i < n - 2, and 1 + epsilon (or 0 - epsilon, the given thresholds, 1 + epsilon). Each
    threshold gives one point (x, y) of the curve, e.g. (FPR, TPR) for ROC, and the area is
    a Riemann sum over consecutive points:

        area = sum_i (x_i - x_{i+1}) * height_i,    height_i = (y_i + y_{i+1}) / 2
                                                    ("interpolation"; min / max for
                                                    "minoring" / "majoring")

    For PR with "interpolation", precision is interpolated as Davis & Goadrich (2006) do,
    integrating TP / (TP + FP) exactly along a straight line in (TP, TP + FP) between
    points.

    Args:
        num_thresholds: number of thresholds (> 1), default 200.
        curve: "ROC", "PR" (or "PRGAIN").
        summation_method: "interpolation", "majoring" or "minoring".
        thresholds: explicit thresholds in [0, 1] (then num_thresholds = len + 2).
        multi_label: treat each column as its own label and average the per-label AUCs.
        num_labels: number of labels (multi_label only; otherwise found on first update).
        label_weights: (labels,) weights of the labels in the average (or in the counts,
            without multi_label).
        from_logits: y_pred holds logits (passed through a sigmoid first).
    """

    def __init__(self, num_thresholds=200, curve="ROC", summation_method="interpolation",
                 name=None, dtype=None, thresholds=None, multi_label=False, num_labels=None,
                 label_weights=None, from_logits=False):
        self._direction = "up"
        self._init_from_thresholds = thresholds is not None
        if thresholds is not None:
            inner = sorted(metrics_utils.check_thresholds(thresholds))
            self.num_thresholds = len(inner) + 2
            self._evenly = metrics_utils.is_evenly_distributed(
                np.array([0.0] + inner + [1.0]))
        else:
            if num_thresholds <= 1:
                raise ValueError(
                    "Argument `num_thresholds` must be an integer > 1. "
                    f"Received: num_thresholds={num_thresholds}"
                )
            self.num_thresholds = num_thresholds
            inner = [(i + 1) * 1.0 / (num_thresholds - 1) for i in range(num_thresholds - 2)]
            self._evenly = True
        # The end points sit just outside [0, 1] so that p = 0 and p = 1 fall inside.
        self._thresholds = np.array([0.0 - backend.epsilon()] + inner
                                    + [1.0 + backend.epsilon()])
        self.curve = _check_choice("curve", curve, CURVES)
        self.summation_method = _check_choice(
            "summation_method", summation_method,
            {m: m for m in SUMMATION_METHODS})
        super().__init__(name=name, dtype=dtype)
        self.multi_label = multi_label
        self.num_labels = num_labels
        if num_labels and not multi_label:
            raise ValueError("`num_labels` is needed only when `multi_label` is True.")
        self.label_weights = None if label_weights is None else \
            np.asarray(label_weights, dtype=np.float64)
        self._from_logits = from_logits
        self.reset_state()

    @property
    def thresholds(self):
        return list(self._thresholds)

    def reset_state(self):
        self.true_positives = self.false_positives = None
        self.true_negatives = self.false_negatives = None
        if self.multi_label and self.num_labels:
            self._zero_counts(self.num_labels)
        elif not self.multi_label:
            self._zero_counts(None)

    def _zero_counts(self, num_labels):
        shape = (self.num_thresholds,) if num_labels is None else \
            (self.num_thresholds, num_labels)
        for name in _COUNT_NAMES.values():
            setattr(self, name, np.zeros(shape))

    def update_state(self, y_true, y_pred, sample_weight=None):
        """y_true: (batch, ...) 0/1 labels; y_pred: same shape, scores in [0, 1] (or logits).
        multi_label: (batch, labels)."""
        y_pred = np.asarray(y_pred, dtype=self.dtype)
        if self.true_positives is None:                # multi_label: labels known now
            self._zero_counts(y_pred.shape[-1] if y_pred.ndim == 2 else None)
        if self._from_logits:
            y_pred = _sigmoid(y_pred)
        counts = metrics_utils.confusion_counts(
            y_true, y_pred, self._thresholds, evenly_distributed=self._evenly,
            sample_weight=sample_weight, multi_label=self.multi_label,
            label_weights=None if self.multi_label else self.label_weights,
            dtype=self.dtype)
        for key, name in _COUNT_NAMES.items():
            setattr(self, name, getattr(self, name) + counts[key])

    def result(self):
        if self.true_positives is None:
            return 0.0
        tp, fp = self.true_positives, self.false_positives
        tn, fn = self.true_negatives, self.false_negatives
        if self.curve == "PR" and self.summation_method == "interpolation":
            return self._average_labels(self._interpolated_pr_auc())
        recall = _divide_no_nan(tp, tp + fn)
        if self.curve == "ROC":
            x, y = _divide_no_nan(fp, fp + tn), recall        # (FPR, TPR)
        elif self.curve == "PR":
            x, y = recall, _divide_no_nan(tp, tp + fp)        # (recall, precision)
        else:
            x, y = self._precision_recall_gains()
        if self.summation_method == "interpolation":
            heights = (y[:-1] + y[1:]) / 2.0
        elif self.summation_method == "minoring":
            heights = np.minimum(y[:-1], y[1:])
        else:
            heights = np.maximum(y[:-1], y[1:])
        areas = (x[:-1] - x[1:]) * heights
        return self._average_labels(areas)

    def _interpolated_pr_auc(self):
        """Per-segment areas under the PR curve, precision interpolated along the segment.

        Between thresholds i and i+1, TP changes by dtp while P = TP + FP changes by dp;
        along the segment precision = (slope * P + intercept) / P with slope = dtp / dp. Its
        integral over recall (= TP / total positives) has the closed form used below.
        """
        tp, fp, fn = self.true_positives, self.false_positives, self.false_negatives
        p = tp + fp
        dtp = tp[:-1] - tp[1:]
        dp = p[:-1] - p[1:]
        slope = _divide_no_nan(dtp, np.maximum(dp, 0))
        intercept = tp[1:] - slope * p[1:]
        both_positive = (p[:-1] > 0) & (p[1:] > 0)
        p_ratio = np.where(both_positive, _divide_no_nan(p[:-1], np.maximum(p[1:], 0)), 1.0)
        return _divide_no_nan(slope * (dtp + intercept * np.log(p_ratio)),
                              np.maximum(tp[1:] + fn[1:], 0))

    def _precision_recall_gains(self):
        tp, fp, tn, fn = (self.true_positives, self.false_positives, self.true_negatives,
                          self.false_negatives)
        scale = _divide_no_nan(tp + fn, tn + fp)             # positives / negatives
        recall_gain = 1.0 - scale * _divide_no_nan(fn, tp)
        precision_gain = 1.0 - scale * _divide_no_nan(fp, tp)
        recall_gain = np.where(tp == 0, 0.0, recall_gain)
        precision_gain = np.where(tp == 0, 1.0, precision_gain)
        return np.maximum(recall_gain, 0.0), precision_gain

    def _average_labels(self, terms):
        """Sums the per-segment terms; with multi_label, averages the labels' areas."""
        if not self.multi_label:
            return float(np.sum(terms))
        by_label = np.sum(terms, axis=0)
        if self.label_weights is None:
            return float(np.mean(by_label))
        return float(_divide_no_nan(np.sum(by_label * self.label_weights),
                                    np.sum(self.label_weights)))

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_thresholds": self.num_thresholds, "curve": self.curve,
            "summation_method": self.summation_method, "multi_label": self.multi_label,
            "num_labels": self.num_labels,
            "label_weights": None if self.label_weights is None else
            self.label_weights.tolist(),
            "from_logits": self._from_logits,
        })
        if self._init_from_thresholds:
            config["thresholds"] = self.thresholds[1:-1]
        return config


def _check_choice(argument, value, choices):
    """Case-insensitive lookup of value in choices (lower-case key -> canonical value)."""
    key = value.lower() if isinstance(value, str) else value
    if key not in choices:
        raise ValueError(
            f"Invalid `{argument}` argument value. Expected one of "
            f"{sorted(set(choices.values()))}. Received: {argument}={value!r}"
        )
    return choices[key]


def _sigmoid(z):
    return np.where(z >= 0, 1.0 / (1.0 + np.exp(-np.abs(z))),
                    np.exp(-np.abs(z)) / (1.0 + np.exp(-np.abs(z)))).astype(z.dtype)
