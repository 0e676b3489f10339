"""Shared helpers of the metrics: rank alignment, per-sample reduction, confusion counts."""

import numpy as np

# The score given to classes outside the top k (so that no threshold counts them positive).
NEG_INF = -1e10


def squeeze_or_expand_to_same_rank(x1, x2, expand_rank_1=True):
    """Keras's rank alignment when two ranks differ by one and the longer ends in 1:
    a rank-1 partner is expanded to (n, 1) (if expand_rank_1), otherwise the trailing 1 is
    dropped. Any other pair is returned unchanged."""
    if x1.ndim == x2.ndim + 1 and x1.shape[-1] == 1:
        if x2.ndim == 1 and expand_rank_1:
            x2 = x2[..., None]
        else:
            x1 = x1[..., 0]
    elif x2.ndim == x1.ndim + 1 and x2.shape[-1] == 1:
        if x1.ndim == 1 and expand_rank_1:
            x1 = x1[..., None]
        else:
            x2 = x2[..., 0]
    return x1, x2


def reduce_to_samplewise_values(values, sample_weight, reduce_fn, dtype):
    """Weighted values reduced to one per sample, and the matching weights.

    values: (batch, ...) or a scalar. sample_weight: None, a scalar, (batch,) or any shape
    that lines up with values' leading axes. Values are first reduced (reduce_fn: np.mean or
    np.sum) over the axes the weights do not have, multiplied by the weights, then reduced to
    (batch,). Returns (values, sample_weight); sample_weight is then None, a scalar or
    (batch,).
    """
    values = np.asarray(values, dtype=dtype)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)
        values, sample_weight = squeeze_or_expand_to_same_rank(values, sample_weight)
        weight_ndim = sample_weight.ndim
        if values.ndim > weight_ndim:
            values = reduce_fn(values, axis=tuple(range(weight_ndim, values.ndim)))
        sample_weight = np.broadcast_to(sample_weight, values.shape)
        values = values * sample_weight
        if weight_ndim > 1:
            sample_weight = reduce_fn(sample_weight, axis=tuple(range(1, weight_ndim)))
    if values.ndim > 1:
        values = reduce_fn(values, axis=tuple(range(1, values.ndim)))
    return values, sample_weight


def check_thresholds(thresholds, default_threshold=0.5):
    """The thresholds as a list (a single number becomes [number]); each must lie in [0, 1]."""
    if thresholds is None:
        return [default_threshold]
    listed = list(thresholds) if isinstance(thresholds, (list, tuple, np.ndarray)) \
        else [thresholds]
    invalid = [t for t in listed if t is None or not 0 <= t <= 1]
    if invalid:
        raise ValueError(f"Threshold values must be in [0, 1]. Received: {invalid}")
    return listed


def is_evenly_distributed(thresholds):
    """True for thresholds i / (n - 1), i = 0..n-1 (n >= 3), up to epsilon at the ends."""
    from minikeras import backend

    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=backend.epsilon()))


def filter_top_k(y_pred, k):
    """Keeps the k largest scores of each row; the others become NEG_INF.

    Ties are broken towards the lower class index, as TensorFlow's top_k does.
    y_pred: (..., classes).
    """
    order = np.argsort(-y_pred, axis=-1, kind="stable")
    in_top_k = np.zeros(y_pred.shape, dtype=bool)
    np.put_along_axis(in_top_k, order[..., :k], True, axis=-1)
    return np.where(in_top_k, y_pred, NEG_INF)


def confusion_counts(y_true, y_pred, thresholds, evenly_distributed=False,
                     sample_weight=None, top_k=None, class_id=None, multi_label=False,
                     label_weights=None, dtype="float32"):
    """Weighted true/false positive/negative counts at each threshold.

    A prediction p counts as positive at threshold t when p > t; a label counts as positive
    when it is non-zero.

    y_true, y_pred: (batch, ...) with the same number of entries (after rank alignment).
    thresholds: (T,) in [0, 1]. sample_weight: None or broadcastable to (batch,) / y_pred.
    top_k: only the k highest scores of each row can be positive. class_id: only that
    column of y_true / y_pred is used. multi_label: count each column (label) separately.
    label_weights: (labels,) weights of the columns (not with multi_label).

    Returns a dict {"tp", "fp", "tn", "fn"} of arrays (T,), or (T, labels) if multi_label.

    Vectorised: each prediction is put in the bucket of the thresholds it exceeds, then
    per-bucket weight sums (np.bincount) are accumulated from the top threshold down:

        k = number of thresholds below p;   tp[j] = sum of positive weights with k > j

    With evenly spaced thresholds (AUC's default), k comes from ceil(p * (T - 1)) after
    clipping p to [0, 1], as Keras computes it, so that both agree at bucket edges.
    """
    y_true = np.asarray(y_true, dtype=dtype)
    y_pred = np.asarray(y_pred, dtype=dtype)
    thresholds = np.asarray(thresholds, dtype=dtype)
    y_pred, y_true = squeeze_or_expand_to_same_rank(y_pred, y_true)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=dtype)[..., None]
        _, sample_weight = squeeze_or_expand_to_same_rank(y_true, sample_weight,
                                                          expand_rank_1=False)
    if top_k is not None:
        y_pred = filter_top_k(y_pred, top_k)
    if class_id is not None:
        if y_pred.ndim == 1:
            raise ValueError(
                "When class_id is provided, y_pred must be a 2D array with shape "
                f"(num_samples, num_classes). Received: y_pred.shape={y_pred.shape}"
            )
        y_true = y_true[..., class_id, None]
        y_pred = y_pred[..., class_id, None]
    if y_true.shape != y_pred.shape:
        y_true = np.broadcast_to(y_true, y_pred.shape)

    weights = np.ones(y_pred.shape, dtype=dtype)
    if sample_weight is not None:
        weights = weights * np.broadcast_to(sample_weight, y_pred.shape)
    if label_weights is not None:
        weights = weights * np.broadcast_to(np.asarray(label_weights, dtype=dtype),
                                            y_pred.shape)
    positive = y_true != 0

    num_thresholds = thresholds.shape[0]
    if evenly_distributed:
        clipped = np.clip(y_pred, 0.0, 1.0)
        bucket = np.ceil(clipped * np.asarray(num_thresholds - 1, dtype=dtype)) - 1
        if thresholds[0] < 0 or thresholds[-1] > 1:
            # The end thresholds sit epsilon outside [0, 1]: every p exceeds the first.
            bucket = np.maximum(bucket, 0)
        above = bucket.astype(np.int64) + 1          # thresholds exceeded: 0..T-1
    else:
        order = np.argsort(thresholds, kind="stable")
        above = np.searchsorted(thresholds[order], y_pred, side="left")
        above = np.where(np.isnan(y_pred), 0, above)

    if multi_label:
        if y_pred.ndim != 2:
            raise ValueError(
                "`y_pred` must have rank 2 when `multi_label=True`. "
                f"Received: y_pred.shape={y_pred.shape}"
            )
        num_labels = y_pred.shape[1]
        label_index = np.broadcast_to(np.arange(num_labels), y_pred.shape)
    else:
        num_labels = 1
        label_index = np.zeros(y_pred.shape, dtype=np.int64)
    # One bincount for all labels: bin (label, above) -> label * (T + 1) + above.
    bins = (label_index * (num_thresholds + 1) + above).ravel()
    size = num_labels * (num_thresholds + 1)

    def per_threshold(mask):
        w = np.where(mask, weights, 0.0).ravel().astype(np.float64)
        counts = np.bincount(bins, weights=w, minlength=size).reshape(num_labels, -1)
        # Sum over buckets above j: reverse cumulative sum, then drop the "0 exceeded" bin.
        at_least = np.cumsum(counts[:, ::-1], axis=1)[:, ::-1]
        return at_least[:, 1:].T, counts.sum(axis=1)      # (T, labels), (labels,)

    tp, total_pos = per_threshold(positive)
    fp, total_neg = per_threshold(~positive)
    counts = {"tp": tp, "fp": fp, "fn": total_pos - tp, "tn": total_neg - fp}
    if not evenly_distributed:
        # Back from sorted thresholds to the order given.
        unsorted = {}
        for key, value in counts.items():
            restored = np.empty_like(value)
            restored[order] = value
            unsorted[key] = restored
        counts = unsorted
    if not multi_label:
        counts = {key: value[:, 0] for key, value in counts.items()}
    return counts
