"""Probabilistic losses: cross-entropies (plain and focal), KL divergence and Poisson.

Notation: y = y_true, p = y_pred (probabilities unless from_logits), z = logits, K the size of
the averaged axis, eps = backend.epsilon(). Probabilities are clipped to [eps, 1 - eps] before
a log; the clip's derivative is 1 on the closed range and 0 outside, as in TensorFlow.

Logits: on TensorFlow, Keras's cross-entropy ops notice that y_pred came out of a sigmoid or
softmax and use that layer's input z instead (numerically stabler). The model hands those z to
`forward(..., logits=z)` for losses with accepts_output_logits; their backward then returns
dL/dz.
"""

import numpy as np

from minikeras import backend
from minikeras.losses.loss import (
    ElementwiseMeanLoss,
    Loss,
    check_same_shape,
    mask_weights,
    squeeze_or_expand,
)

# --------------------------------------------------------------------- shared maths


def _clip_probabilities(p):
    """Clips p to [eps, 1 - eps]; returns (clipped, inside), inside = where the clip is idle."""
    eps = backend.epsilon()
    inside = (p >= eps) & (p <= 1.0 - eps)
    return np.clip(p, eps, 1.0 - eps).astype(p.dtype), inside


def _exp_minus_abs(z):
    """exp(-|z|), the shared part of a stable sigmoid and of the crossentropy from logits."""
    e = np.abs(z)
    np.negative(e, out=e)
    return np.exp(e, out=e)


def _sigmoid(z, e=None):
    """1 / (1 + exp(-z)) = 1 / (1 + e) for z >= 0, e / (1 + e) below, e = exp(-|z|) (pass it
    when already computed)."""
    if e is None:
        e = _exp_minus_abs(z)
    one_plus_e = 1.0 + e
    return np.where(z >= 0, 1.0 / one_plus_e, e / one_plus_e).astype(z.dtype, copy=False)


def _log_softmax(z, axis=-1):
    shifted = z - z.max(axis=axis, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))


def _sigmoid_crossentropy_from_logits(y, z, e=None):
    """-(y log sigmoid(z) + (1 - y) log(1 - sigmoid(z))) = max(z, 0) - z y + log(1 + exp(-|z|)).

    Its derivative is d/dz = sigmoid(z) - y. e: exp(-|z|) when already computed.
    """
    if e is None:
        e = _exp_minus_abs(z)
    return np.maximum(z, 0) - z * y + np.log1p(e)


def _mean(x, axis):
    """x.mean(axis), computed as np.mean computes it for float32/float64 (sum, then divide by
    the count) without its Python-level overhead, which is most of a small batch's loss."""
    if x.shape[axis] == 1:      # one value per row (a single sigmoid output): itself
        return x.reshape(x.shape[:axis] + x.shape[axis:][1:])
    if x.dtype.itemsize < 4:    # np.mean accumulates float16 in float32
        return x.mean(axis=axis)
    # (np.mean divides in float64 and rounds; a float32 division rounds to the same value.)
    return np.add.reduce(x, axis=axis) / x.shape[axis]


def _times_expanded(dvalues, d, axis):
    """dvalues (the reduced shape) times d (with `axis` kept), in d's dtype."""
    dvalues = dvalues[..., None] if axis == -1 else np.expand_dims(dvalues, axis)
    return (dvalues * d).astype(d.dtype, copy=False)


def _sigmoid_crossentropy_from_probabilities(y, p):
    """-(y log p + (1 - y) log(1 - p)) with p clipped; returns (bce, dbce/dp)."""
    pc, inside = _clip_probabilities(p)
    bce = -(y * np.log(pc) + (1.0 - y) * np.log(1.0 - pc))
    dbce = -(y / pc - (1.0 - y) / (1.0 - pc)) * inside
    return bce, dbce


def _check_smoothing(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1:
        raise ValueError(
            f"`label_smoothing` must be a float in [0, 1]. Received: label_smoothing={value!r}"
        )
    return float(value)


def _check_axis(axis):
    if isinstance(axis, bool) or not isinstance(axis, int):
        raise ValueError(f"`axis` must be of type `int`. Received: axis={axis!r}")
    return axis


def _check_focal(alpha, gamma):
    for name, value in (("alpha", alpha), ("gamma", gamma)):
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
            raise ValueError(
                f"`{name}` must be a non-negative number. Received: {name}={value!r}"
            )
    return float(alpha), float(gamma)


def _align(name, y_true, y_pred, logits):
    """squeeze_or_expand for the cross-entropies: the logits follow y_pred's reshaping."""
    y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
    check_same_shape(name, y_true, y_pred)
    if logits is not None:
        logits = logits.reshape(y_pred.shape)
    return y_true, y_pred, logits, reshaped


def _restore(grad, reshaped):
    return grad if reshaped is None else grad.reshape(reshaped)


# ------------------------------------------------------------------ binary crossentropy


class BinaryCrossentropy(Loss):
    """values = mean over `axis` of -(y log p + (1 - y) log(1 - p)).

    From logits z (p = sigmoid(z)): max(z, 0) - z y + log(1 + exp(-|z|)), d/dz = sigmoid(z) - y.
    From probabilities (clipped): d/dp = -(y / p - (1 - y) / (1 - p)).

    Args:
        from_logits: y_pred holds logits z rather than probabilities.
        label_smoothing: targets become y (1 - s) + s / 2.
        axis: the axis averaged over (last).
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="binary_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, logits, reshaped = _align(self.name, y_true, y_pred, logits)
        if self.label_smoothing:
            y_true = y_true * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        k = y_pred.shape[self.axis]
        if logits is None and self.from_logits:
            logits = y_pred
        if logits is not None:
            e = _exp_minus_abs(logits)      # shared by the loss and its derivative
            elementwise = _sigmoid_crossentropy_from_logits(y_true, logits, e)
            dz = _sigmoid(logits, e) - y_true
            if k != 1:
                dz /= k
            return _mean(elementwise, self.axis), (dz, reshaped)
        elementwise, dp = _sigmoid_crossentropy_from_probabilities(y_true, y_pred)
        return _mean(elementwise, self.axis), (dp / k, reshaped)

    def backward(self, dvalues, cache):
        dmean, reshaped = cache
        return _restore(_times_expanded(dvalues, dmean, self.axis), reshaped)

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class BinaryFocalCrossentropy(Loss):
    """Binary crossentropy scaled down on well-classified entries (Lin et al., focal loss):

        values = mean over `axis` of w * (1 - p_t)^gamma * bce,
        p_t = y p + (1 - y)(1 - p),   w = y alpha + (1 - y)(1 - alpha) if apply_class_balancing
        else 1, bce the binary crossentropy (from logits when they are available, as Keras).

    Derivative: with a = 1 - p_t, da/dp = 1 - 2y, the per-entry term w a^gamma bce gives
        d/dp = w (gamma a^(gamma - 1) (1 - 2y) bce + a^gamma dbce/dp);
    when bce is computed from logits z with p = sigmoid(z), d/dz takes both routes:
        d/dz = w (gamma a^(gamma - 1) (1 - 2y) bce p (1 - p) + a^gamma (sigmoid(z) - y)).

    A sigmoid output layer is assumed when the model hands over logits.

    Args:
        apply_class_balancing: weight positives by alpha and negatives by 1 - alpha.
        alpha: the balancing weight (0.25). gamma: the focusing exponent (2.0).
        from_logits, label_smoothing, axis: as in BinaryCrossentropy.
    """

    accepts_output_logits = True

    def __init__(self, apply_class_balancing=False, alpha=0.25, gamma=2.0, from_logits=False,
                 label_smoothing=0.0, axis=-1, reduction="sum_over_batch_size",
                 name="binary_focal_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.apply_class_balancing = bool(apply_class_balancing)
        self.alpha, self.gamma = _check_focal(alpha, gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, logits, reshaped = _align(self.name, y_true, y_pred, logits)
        y = y_true
        if self.label_smoothing:
            y = y * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing
        output_sigmoid = None
        if self.from_logits:
            # Keras applies sigmoid to y_pred itself; a sigmoid output layer's logits are then
            # not used, but the gradient must still be handed back to them.
            if logits is not None:
                output_sigmoid = y_pred
            z, p = y_pred, _sigmoid(y_pred)
        else:
            z, p = logits, y_pred
        a = 1.0 - (y * p + (1.0 - y) * (1.0 - p))
        focal = np.power(a, self.gamma)
        with np.errstate(divide="ignore"):
            dfocal_dp = self.gamma * np.power(a, self.gamma - 1.0) * (1.0 - 2.0 * y)
        weight = 1.0
        if self.apply_class_balancing:
            weight = y * self.alpha + (1.0 - y) * (1.0 - self.alpha)
        if z is not None:
            bce = _sigmoid_crossentropy_from_logits(y, z)
            # Derivative with respect to z (the logits): through p = sigmoid(z), and bce's own.
            d = weight * (dfocal_dp * bce * p * (1.0 - p) + focal * (_sigmoid(z) - y))
        else:
            bce, dbce = _sigmoid_crossentropy_from_probabilities(y, p)
            d = weight * (dfocal_dp * bce + focal * dbce)
        values = (weight * focal * bce).mean(axis=self.axis)
        k = y_pred.shape[self.axis]
        return values, ((d / k).astype(y_pred.dtype), output_sigmoid, reshaped)

    def backward(self, dvalues, cache):
        dmean, output_sigmoid, reshaped = cache
        grad = np.expand_dims(dvalues, self.axis) * dmean
        if output_sigmoid is not None:
            grad = grad * output_sigmoid * (1.0 - output_sigmoid)   # on to the layer's logits
        return _restore(grad.astype(dmean.dtype), reshaped)

    def get_config(self):
        config = super().get_config()
        config.update({"apply_class_balancing": self.apply_class_balancing,
                       "alpha": self.alpha, "gamma": self.gamma,
                       "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


# ------------------------------------------------------------- categorical crossentropy


class CategoricalCrossentropy(Loss):
    """values = -sum over classes of y log q.

    From probabilities: q = p / sum(p), clipped to [eps, 1 - eps].
    From logits z: q = softmax(z), and d/dz = softmax(z) - y, TensorFlow's gradient (the exact
    derivative is softmax(z) sum(y) - y; the two agree whenever the targets sum to 1).

    Args:
        from_logits: y_pred holds logits.
        label_smoothing: targets become y (1 - s) + s / num_classes.
        axis: the class axis.
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, logits, reshaped = _align(self.name, y_true, y_pred, logits)
        if self.label_smoothing:
            num_classes = y_true.shape[-1]
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        if logits is None and self.from_logits:
            logits = y_pred
        if logits is not None:
            log_q = _log_softmax(logits, self.axis)
            values = -(y_true * log_q).sum(axis=self.axis)
            return values, ("logits", np.exp(log_q) - y_true, reshaped)
        total = y_pred.sum(axis=self.axis, keepdims=True)
        normalised = y_pred / total
        q, inside = _clip_probabilities(normalised)
        values = -(y_true * np.log(q)).sum(axis=self.axis)
        dq = (-y_true / q) * inside                     # through the clip
        return values, ("probabilities", (dq, normalised, total), reshaped)

    def backward(self, dvalues, cache):
        kind, saved, reshaped = cache
        dvalues = np.expand_dims(dvalues, self.axis)
        if kind == "logits":
            dz = saved
            return _restore((dvalues * dz).astype(dz.dtype), reshaped)
        dq, normalised, total = saved
        dq = dvalues * dq
        # q = p / sum(p): dL/dp_j = (dq_j - sum_i dq_i q_i) / sum(p)
        dp = (dq - (dq * normalised).sum(axis=self.axis, keepdims=True)) / total
        return _restore(dp.astype(normalised.dtype), reshaped)

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


class CategoricalFocalCrossentropy(Loss):
    """Categorical crossentropy scaled down on confident classes:

        values = sum over classes of alpha (1 - q)^gamma (-y log q),
        q = p / sum(p) clipped to [eps, 1 - eps]   (p = softmax(y_pred) if from_logits).

    Keras computes this from probabilities even after a softmax output layer.
    Derivative: d/dq = alpha (gamma (1 - q)^(gamma - 1) y log q - (1 - q)^gamma y / q), then
    through the clip, the normalisation p / sum(p) and (from_logits) the softmax.

    Args:
        alpha: weighting factor (0.25). gamma: focusing exponent (2.0).
        from_logits, label_smoothing, axis: as in CategoricalCrossentropy.
    """

    def __init__(self, alpha=0.25, gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name="categorical_focal_crossentropy",
                 dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.alpha, self.gamma = _check_focal(alpha, gamma)
        self.from_logits = bool(from_logits)
        self.label_smoothing = _check_smoothing(label_smoothing)
        self.axis = _check_axis(axis)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, _, reshaped = _align(self.name, y_true, y_pred, None)
        axis = self.axis
        if self.label_smoothing:
            num_classes = y_true.shape[-1]
            y_true = y_true * (1.0 - self.label_smoothing) + self.label_smoothing / num_classes
        p = y_pred
        if self.from_logits:
            p = np.exp(_log_softmax(y_pred, axis))
        total = p.sum(axis=axis, keepdims=True)
        normalised = p / total
        q, inside = _clip_probabilities(normalised)
        log_q = np.log(q)
        modulating = np.power(1.0 - q, self.gamma)
        values = (self.alpha * modulating * (-y_true * log_q)).sum(axis=axis)
        dmodulating = self.gamma * np.power(1.0 - q, self.gamma - 1.0)
        dq = self.alpha * (dmodulating * y_true * log_q - modulating * y_true / q) * inside
        return values, (dq.astype(y_pred.dtype), normalised, total,
                        p if self.from_logits else None, reshaped)

    def backward(self, dvalues, cache):
        dq, normalised, total, softmax_p, reshaped = cache
        axis = self.axis
        dq = np.expand_dims(dvalues, axis) * dq
        dp = (dq - (dq * normalised).sum(axis=axis, keepdims=True)) / total
        if softmax_p is not None:
            dp = softmax_p * (dp - (dp * softmax_p).sum(axis=axis, keepdims=True))
        return _restore(dp.astype(dq.dtype), reshaped)

    def get_config(self):
        config = super().get_config()
        config.update({"alpha": self.alpha, "gamma": self.gamma,
                       "from_logits": self.from_logits, "label_smoothing": self.label_smoothing,
                       "axis": self.axis})
        return config


# ------------------------------------------------------ sparse categorical crossentropy


class SparseCategoricalCrossentropy(Loss):
    """Categorical crossentropy with integer class labels: values = -log q[label].

    Without from_logits, TensorFlow computes it as softmax crossentropy on z = log(clip(p)),
    which renormalises p; this does the same. d/dz = softmax(z) - onehot(label), and
    dz/dp = 1 / p inside the clip.

    Args:
        from_logits: y_pred holds logits.
        ignore_class: a label value whose entries get zero loss and no weight in the mean
            (None: none). Keras then also stops using a softmax layer's logits.
        axis: the class axis; only -1, as in Keras on TensorFlow.
    """

    accepts_output_logits = True

    def __init__(self, from_logits=False, ignore_class=None, reduction="sum_over_batch_size",
                 axis=-1, name="sparse_categorical_crossentropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        self.from_logits = bool(from_logits)
        if ignore_class is not None and (isinstance(ignore_class, bool)
                                         or not isinstance(ignore_class, (int, np.integer))):
            raise ValueError(
                f"`ignore_class` must be an integer or None. Received: "
                f"ignore_class={ignore_class!r}"
            )
        self.ignore_class = ignore_class
        if axis != -1:
            raise ValueError(f"Only axis=-1 is currently supported. Received: axis={axis!r}")
        self.axis = axis

    def _unmasked_forward(self, y_true, y_pred, logits):
        """Keras's per-entry values (zero at ignored entries) and the backward cache."""
        labels = _sparse_labels(self.name, y_true, y_pred, self.ignore_class)
        valid = None
        output_softmax = None
        if self.ignore_class is not None:
            valid = labels != self.ignore_class
            labels = np.where(valid, labels, 0)
            y_pred = np.where(valid[..., None], y_pred, 0.0).astype(y_pred.dtype)
            if logits is not None:
                # Masking y_pred hides the softmax's logits from Keras: it uses probabilities,
                # and the gradient is carried back through the softmax here.
                output_softmax = y_pred
                logits = None
        _check_label_range(self.name, labels, y_pred.shape[-1])
        if logits is None and self.from_logits:
            logits = y_pred
        if logits is not None:
            z, inside, p = logits, None, None
        else:
            p, inside = _clip_probabilities(y_pred)
            z = np.log(p)
        log_q = _log_softmax(z)
        values = -np.take_along_axis(log_q, labels[..., None], axis=-1)[..., 0]
        if valid is not None:
            values = values * valid
        return values, (np.exp(log_q), labels, valid, inside, p, output_softmax)

    def forward(self, y_true, y_pred, logits=None):
        values, cache = self._unmasked_forward(y_true, y_pred, logits)
        valid = cache[2]
        weights = None
        if valid is not None:
            # Keras masks the ignored entries out of the reduction.
            weights = mask_weights(valid, self.reduction).astype(values.dtype)
            values = values * weights
        return values, cache + (weights,)

    def backward(self, dvalues, cache):
        softmax_z, labels, valid, inside, p, output_softmax, weights = cache
        if weights is not None:
            dvalues = dvalues * weights
        dz = softmax_z.copy()                       # d/dz = softmax(z) - onehot(label)
        np.put_along_axis(dz, labels[..., None],
                          np.take_along_axis(dz, labels[..., None], axis=-1) - 1.0, axis=-1)
        dz *= dvalues[..., None]
        if inside is None:
            return dz.astype(softmax_z.dtype)
        dp = dz / p * inside                        # z = log(p): dz/dp = 1 / p
        if valid is not None:
            dp = dp * valid[..., None]              # y_pred was replaced by 0 there
        if output_softmax is not None:
            dp = output_softmax * (dp - (dp * output_softmax).sum(axis=-1, keepdims=True))
        return dp.astype(softmax_z.dtype)

    def call(self, y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=self.dtype)
        return self._unmasked_forward(y_true.astype(self.dtype), y_pred, None)[0]

    def get_config(self):
        config = super().get_config()
        config.update({"from_logits": self.from_logits, "ignore_class": self.ignore_class,
                       "axis": self.axis})
        return config


def _sparse_labels(name, y_true, y_pred, ignore_class):
    labels = y_true
    if labels.ndim == y_pred.ndim and labels.shape[-1] == 1:
        labels = labels[..., 0]
    if labels.shape != y_pred.shape[:-1]:
        raise ValueError(
            f"Loss {name!r} expects integer labels of shape {y_pred.shape[:-1]} (or with a "
            f"trailing 1) for predictions of shape {y_pred.shape}. "
            f"Received: y_true.shape={y_true.shape}"
        )
    if labels.size and not np.all(np.mod(labels, 1) == 0):
        where = tuple(int(i) for i in np.argwhere(np.mod(labels, 1) != 0)[0])
        index = ", ".join(str(i) for i in where)
        raise ValueError(
            f"Loss {name!r} expects integer class labels in `y_true`. "
            f"Received: y_true[{index}]={labels[where].item()!r}"
        )
    return labels.astype(np.int64)


def _check_label_range(name, labels, num_classes):
    if labels.size and (labels.min() < 0 or labels.max() >= num_classes):
        raise ValueError(
            f"Loss {name!r}: labels must lie in [0, {num_classes - 1}] for {num_classes} "
            f"classes. Received labels from {labels.min()} to {labels.max()}"
        )


# ------------------------------------------------------------ divergences and counts


class KLDivergence(Loss):
    """values = sum over the last axis of y log(y / p), with y and p clipped to [eps, 1];
    d/dp = -y / p where p lies in [eps, 1], else 0."""

    def __init__(self, reduction="sum_over_batch_size", name="kl_divergence", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        eps = backend.epsilon()
        y = np.clip(y_true, eps, 1.0).astype(y_pred.dtype)
        p = np.clip(y_pred, eps, 1.0).astype(y_pred.dtype)
        inside = (y_pred >= eps) & (y_pred <= 1.0)
        values = np.sum(y * np.log(y / p), axis=-1)
        return values, ((-y / p) * inside, reshaped)

    def backward(self, dvalues, cache):
        dp, reshaped = cache
        return _restore((dvalues[..., None] * dp).astype(dp.dtype), reshaped)


class Poisson(ElementwiseMeanLoss):
    """e = p - y log(p + eps); de/dp = 1 - y / (p + eps). p must be positive (use an
    exponential or softplus output)."""

    def __init__(self, reduction="sum_over_batch_size", name="poisson", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def elementwise(self, y_true, y_pred):
        shifted = y_pred + y_pred.dtype.type(backend.epsilon())
        return y_pred - y_true * np.log(shifted), 1.0 - y_true / shifted


class CategoricalGeneralizedCrossEntropy(Loss):
    """Generalized cross entropy (Zhang & Sabuncu), robust to noisy labels, with integer labels:

        values = (1 - p_label^q) / q,        d/dp_label = -p_label^(q - 1), 0 elsewhere.

    q -> 0 recovers the crossentropy, q = 1 the mean absolute error.

    Args:
        q: in (0, 1) (default 0.5).
    """

    def __init__(self, q=0.5, reduction="sum_over_batch_size",
                 name="categorical_generalized_cross_entropy", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if isinstance(q, bool) or not isinstance(q, (int, float)) or not 0 < q < 1:
            raise ValueError(f"`q` must be in the interval (0, 1). Received: q={q!r}")
        self.q = float(q)

    def forward(self, y_true, y_pred, logits=None):
        labels = _sparse_labels(self.name, y_true, y_pred, None)
        _check_label_range(self.name, labels, y_pred.shape[-1])
        p = np.take_along_axis(y_pred, labels[..., None], axis=-1)[..., 0]
        values = (1.0 - np.power(p, self.q)) / self.q
        return values, (labels, -np.power(p, self.q - 1.0), y_pred.shape)

    def backward(self, dvalues, cache):
        labels, dp_label, shape = cache
        grad = np.zeros(shape, dtype=dp_label.dtype)
        np.put_along_axis(grad, labels[..., None], (dvalues * dp_label)[..., None], axis=-1)
        return grad

    def get_config(self):
        config = super().get_config()
        config["q"] = self.q
        return config
