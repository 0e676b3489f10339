"""`Loss`: the base class of loss objects, and the reduction shared by every loss.

A loss maps (y_true, y_pred) to one value per sample, `values`. The reduction turns those into
the scalar that training minimises:

    loss = sum(sample_weight * values) / values.size        ("sum_over_batch_size", the default)

Each loss class implements `forward(y_true, y_pred, logits=None) -> (values, cache)` and
`backward(dvalues, cache) -> dL/d(y_pred)`. When `logits` is given (the model's output came
from a sigmoid or softmax and the loss is a cross-entropy), the loss is computed from the logits
and backward returns dL/d(logits), as Keras on TensorFlow does.
"""

import numpy as np

from minikeras import backend
from minikeras.backend.eager_tensor import as_tensor

REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", "none", None)


class Loss:
    """Base class of losses.

    Args:
        name: name of the loss (used in History keys of multi-output models).
        reduction: "sum_over_batch_size" (default), "sum", "mean",
            "mean_with_sample_weight" or "none".
        dtype: float type of the computation (default floatx).
    """

    # True for the losses that call Keras's cross-entropy ops, which on TensorFlow take the
    # logits of a sigmoid/softmax output instead of its probabilities.
    accepts_output_logits = False

    def __init__(self, name=None, reduction="sum_over_batch_size", dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(
                f"Invalid value for argument `reduction`. Expected one of {list(REDUCTIONS)}. "
                f"Received: reduction={reduction!r}"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name or _snake(type(self).__name__)
        self.reduction = reduction
        self.dtype = backend.standardize_dtype(dtype)

    # Subclasses implement these two (or only `call`, written with keras.ops: the tape then
    # gives the backward pass).
    def forward(self, y_true, y_pred, logits=None):
        """y_true, y_pred: (batch, ...). Returns (values, cache); values (batch,) or
        (batch, ...) without the reduced axis.

        logits: the pre-activation of a sigmoid/softmax output layer (same shape as y_pred),
        given only to losses with accepts_output_logits. When given, backward must return
        dL/d(logits) instead of dL/d(y_pred).
        """
        if type(self).call is Loss.call:
            raise NotImplementedError(f"{type(self).__name__} implements neither forward "
                                      "nor call.")
        return _traced_values(self.call, y_true, y_pred)

    def backward(self, dvalues, cache):
        """dvalues: dL/d(values). Returns dL/d(y_pred), or dL/d(logits) if forward had them."""
        if type(self).call is Loss.call:
            raise NotImplementedError(f"{type(self).__name__} implements neither backward "
                                      "nor call.")
        return _traced_backward(dvalues, cache)

    def call(self, y_true, y_pred):
        """Keras's per-sample loss values."""
        y_true, y_pred = _as_arrays(y_true, y_pred, self.dtype)
        return self.forward(y_true, y_pred)[0]

    def __call__(self, y_true, y_pred, sample_weight=None):
        """The reduced loss: a float, or inside a training step / GradientTape block a
        tracked scalar (one node whose backward is this loss's backward)."""
        from minikeras.ops import tape

        tracked = tape.lift(y_pred)
        y_true, y_pred = _as_arrays(tape.unwrap(y_true), tape.unwrap(y_pred), self.dtype)
        values, cache = self.forward(y_true, y_pred)
        loss, dvalues = reduce_weighted_values(values, sample_weight, self.reduction)
        if tracked is None:
            return as_tensor(np.asarray(loss, dtype=y_pred.dtype))   # `.numpy()` as on TF
        return tape.Tracked(np.asarray(loss, dtype=y_pred.dtype), [tracked],
                            lambda g: [g * self.backward(dvalues, cache)])


    def get_config(self):
        return {"name": self.name, "reduction": self.reduction, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


class LossFunctionWrapper(Loss):
    """A loss from any function `fn(y_true, y_pred) -> per-sample values` written with
    keras.ops (`compile(loss=my_loss)`); its gradient comes from the tape.

    Args:
        fn: the function. name: default fn's name. reduction, dtype: as Loss.
        **kwargs: passed to fn on every call.
    """

    def __init__(self, fn, reduction="sum_over_batch_size", name=None, dtype=None, **kwargs):
        super().__init__(name=name or getattr(fn, "__name__", None), reduction=reduction,
                         dtype=dtype)
        self.fn = fn
        self._fn_kwargs = kwargs

    def forward(self, y_true, y_pred, logits=None):
        return _traced_values(lambda t, p: self.fn(t, p, **self._fn_kwargs), y_true, y_pred)

    def backward(self, dvalues, cache):
        return _traced_backward(dvalues, cache)

    def get_config(self):
        config = super().get_config()
        config["fn"] = getattr(self.fn, "__name__", repr(self.fn))
        return config


def _traced_values(function, y_true, y_pred):
    """values = function(y_true, y_pred) run on the tape (y_pred tracked). Returns (values,
    cache); y_true is first brought to y_pred's rank and dtype, as Keras does."""
    from minikeras.ops import tape

    y_true = np.asarray(y_true)
    y_pred = np.asarray(y_pred)
    if y_true.dtype != y_pred.dtype and y_pred.dtype.kind == "f":
        y_true = y_true.astype(y_pred.dtype)
    original_shape = y_pred.shape
    y_true, y_pred, _ = squeeze_or_expand(y_true, y_pred)
    with tape.Trace():
        pred = tape.Tracked(y_pred)
        values = function(y_true, pred)
    return np.asarray(tape.unwrap(values)), (pred, values, original_shape)


def _traced_backward(dvalues, cache):
    from minikeras.ops import tape

    pred, values, original_shape = cache
    grad = tape.gradients([(values, dvalues)], [pred])[0]
    if grad is None:
        grad = np.zeros_like(pred.value)
    return grad.reshape(original_shape)


class ElementwiseMeanLoss(Loss):
    """A loss of the form values = mean over the last axis of e(y_true, y_pred).

    Subclasses implement `elementwise(y_true, y_pred) -> (e, de_dpred)`: the per-element loss
    and its derivative with respect to y_pred, side by side. Then, with K the last axis's size,

        values = mean(e, axis=-1)            dL/dy_pred = dvalues[..., None] * de_dpred / K
    """

    def elementwise(self, y_true, y_pred):
        raise NotImplementedError

    def forward(self, y_true, y_pred, logits=None):
        y_true, y_pred, reshaped = squeeze_or_expand(y_true, y_pred)
        check_same_shape(self.name, y_true, y_pred)
        e, de_dpred = self.elementwise(y_true, y_pred)
        return np.mean(e, axis=-1), (de_dpred, reshaped)

    def backward(self, dvalues, cache):
        de_dpred, reshaped = cache
        dpred = dvalues[..., None] * de_dpred / de_dpred.shape[-1]
        return dpred if reshaped is None else dpred.reshape(reshaped)


def reduce_weighted_values(values, sample_weight=None, reduction="sum_over_batch_size"):
    """Applies sample weights and the reduction.

    values: (batch, ...). sample_weight: None or broadcastable to values after rank alignment.
    Returns (loss, dvalues): the reduced loss and d(loss)/d(values), of values' shape.
    """
    values = np.asarray(values)
    if values.ndim == 0 and sample_weight is not None:
        return _reduce_batch_value(values, sample_weight, reduction)
    if sample_weight is None and values.ndim > 0 and values.size and \
            reduction not in ("none", None):
        # Every weight is 1 (the common case, taken without building the ones): the same
        # sum and division as below, in fewer NumPy calls.
        dtype = values.dtype.type
        divisor = 1.0 if reduction == "sum" else float(values.size)
        total = np.add.reduce(values, axis=None)
        return dtype(total / divisor), np.full(values.shape, dtype(1.0) / dtype(divisor),
                                               dtype=values.dtype)
    weights = np.ones_like(values)
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=values.dtype)
        while sample_weight.ndim > values.ndim and sample_weight.shape[-1] == 1:
            sample_weight = sample_weight[..., 0]
        while sample_weight.ndim < values.ndim:
            sample_weight = sample_weight[..., None]
        weights = np.broadcast_to(sample_weight, values.shape)
    if reduction in ("none", None) or values.ndim == 0:
        return values * weights, weights
    total = np.sum(values * weights)
    if reduction == "sum":
        divisor = 1.0
    elif reduction == "mean_with_sample_weight" and sample_weight is not None:
        divisor = float(np.sum(weights))
    else:
        divisor = float(values.size)
    if divisor == 0.0:
        return values.dtype.type(0.0), np.zeros_like(values)
    return values.dtype.type(total / divisor), (weights / divisor).astype(values.dtype)


def _reduce_batch_value(value, sample_weight, reduction):
    """One loss value for the whole batch (Dice, Tversky with axis=None) and per-sample
    weights w: Keras spreads the value over the samples, loss = reduce(value * w)."""
    w = np.asarray(sample_weight, dtype=value.dtype).reshape(-1)
    if reduction in ("none", None):
        return value * w, np.sum(w).astype(value.dtype)
    if reduction == "sum":
        divisor = 1.0
    elif reduction == "mean_with_sample_weight":
        divisor = float(np.sum(w))
    else:
        divisor = float(w.size)
    if divisor == 0.0:
        return value.dtype.type(0.0), np.zeros_like(value)
    return (value.dtype.type(np.sum(value * w) / divisor),
            np.asarray(np.sum(w) / divisor, dtype=value.dtype))


def align_ranks(y_true, y_pred):
    """Keras's rank alignment: (batch,) targets against (batch, 1) predictions, and back."""
    if y_true.ndim == y_pred.ndim - 1 and y_pred.shape[-1] == 1:
        y_true = y_true[..., None]
    elif y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        y_true = y_true[..., 0]
    return y_true


def squeeze_or_expand(y_true, y_pred):
    """Keras's squeeze_or_expand_to_same_rank, applied by every Keras loss class.

    A trailing axis of size 1 on one side is matched by adding an axis to a rank-1 other side
    ((batch,) against (batch, 1)), or else squeezed away. Returns (y_true, y_pred, reshaped):
    reshaped is None, or y_pred's original shape, which backward gives its gradient back.
    """
    reshaped = None
    if y_true.ndim == y_pred.ndim + 1 and y_true.shape[-1] == 1:
        if y_pred.ndim == 1:
            reshaped = y_pred.shape
            y_pred = y_pred[..., None]
        else:
            y_true = y_true[..., 0]
    elif y_pred.ndim == y_true.ndim + 1 and y_pred.shape[-1] == 1:
        if y_true.ndim == 1:
            y_true = y_true[..., None]
        else:
            reshaped = y_pred.shape
            y_pred = y_pred[..., 0]
    return y_true, y_pred, reshaped


def check_same_shape(name, y_true, y_pred):
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"Loss {name!r}: `y_true` and `y_pred` must have the same shape. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )


def _as_arrays(y_true, y_pred, dtype):
    return np.asarray(y_true, dtype=dtype), np.asarray(y_pred, dtype=dtype)


def mask_weights(valid, reduction):
    """Keras's weights for a loss mask (valid: bool array of values' shape).

    For "sum_over_batch_size" and "mean" the valid entries weigh total / valid, so that the
    reduction averages over the valid entries only; otherwise the mask is 0/1.
    """
    valid = np.asarray(valid)
    if reduction in ("sum_over_batch_size", "mean"):
        count = valid.sum()
        scale = valid.size / count if count else 0.0
        return valid * scale
    return valid.astype(np.float64)


def _snake(name):
    from minikeras.utils.naming import to_snake_case

    return to_snake_case(name)
