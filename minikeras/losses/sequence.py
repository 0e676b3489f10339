"""Connectionist temporal classification (CTC, Graves et al. 2006): a loss for sequences whose
alignment with the input frames is unknown (speech, handwriting).

Notation: B samples, T frames, C classes (class 0 is the blank), L the padded label length.
y_true: (B, L) integer labels, 0 = padding after the labels. y_pred: (B, T, C) logits (the
loss applies the softmax itself, as tf.nn.ctc_loss does).

Each label sequence l is extended with blanks, l' = (0, l1, 0, l2, ..., lL, 0) of length
S = 2L + 1, and the probability of l sums over every frame-by-frame path that collapses to it:

    forward   alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)]) y_t(l'_s)
    backward  beta_t(s)  = (beta_{t+1}(s) + beta_{t+1}(s+1) [+ beta_{t+1}(s+2)]) y_t(l'_s)
    loss      -log P(l | x) = -log(alpha_{T-1}(S-1) + alpha_{T-1}(S-2))

The bracketed skip is allowed when l'_s is not a blank and differs from l'_{s-2}. The
recursions run in log space. Both include the frame's own emission, so the gradient with
respect to the logits u_t is

    dL/du_tk = y_tk - sum over s with l'_s = k of alpha_t(s) beta_t(s) / (y_tk P(l | x)).

The recursions loop over frames (each step depends on the last); each step is vectorised over
the batch and the extended label positions.
"""

import numpy as np

from minikeras.losses.loss import Loss


def _log_softmax(z):
    shifted = z - z.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _logsumexp(*terms):
    """Elementwise log(sum(exp(terms))) of same-shaped arrays, -inf where all are -inf."""
    stacked = np.stack(terms)
    top = stacked.max(axis=0)
    safe_top = np.where(np.isfinite(top), top, 0.0)
    with np.errstate(divide="ignore"):
        return safe_top + np.log(np.exp(stacked - safe_top).sum(axis=0))


class CTC(Loss):
    """values[b] = -log P(y_true[b] | y_pred[b]), see the module docstring.

    y_true: (batch, max_label_length) integer labels in [1, classes), padded with 0.
    y_pred: (batch, frames, classes) logits; every frame counts.
    """

    def __init__(self, reduction="sum_over_batch_size", name="ctc", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)

    def forward(self, y_true, y_pred, logits=None):
        labels, lengths = _ctc_labels(self.name, y_true, y_pred)
        batch, frames, _ = y_pred.shape
        log_probs = _log_softmax(y_pred)                                  # (B, T, C)

        # Extended labels l' (B, S): blanks at even positions, the labels in between.
        span = 2 * labels.shape[1] + 1
        extended = np.zeros((batch, span), dtype=np.int64)
        extended[:, 1::2] = labels
        valid = np.arange(span)[None, :] < (2 * lengths + 1)[:, None]    # (B, S)
        skip = np.zeros((batch, span), dtype=bool)
        skip[:, 2:] = (extended[:, 2:] != 0) & (extended[:, 2:] != extended[:, :-2])
        emit = np.take_along_axis(log_probs, extended[:, None, :].repeat(frames, axis=1),
                                  axis=2)                                 # (B, T, S)
        emit = np.where(valid[:, None, :], emit, -np.inf)

        alpha = np.full((batch, frames, span), -np.inf, dtype=log_probs.dtype)
        alpha[:, 0, 0] = emit[:, 0, 0]
        alpha[:, 0, 1] = np.where(lengths > 0, emit[:, 0, 1], -np.inf)
        for t in range(1, frames):
            previous = alpha[:, t - 1]
            stay = previous
            step = _shift(previous, 1)
            jump = np.where(skip, _shift(previous, 2), -np.inf)
            alpha[:, t] = _logsumexp(stay, step, jump) + emit[:, t]

        beta = np.full((batch, frames, span), -np.inf, dtype=log_probs.dtype)
        last = 2 * lengths                                               # index S_b - 1
        rows = np.arange(batch)
        beta[rows, -1, last] = emit[rows, -1, last]
        has_label = lengths > 0
        beta[rows[has_label], -1, last[has_label] - 1] = emit[rows[has_label], -1,
                                                              last[has_label] - 1]
        skip_from = np.zeros((batch, span), dtype=bool)                  # s -> s + 2 allowed
        skip_from[:, :-2] = skip[:, 2:]
        for t in range(frames - 2, -1, -1):
            following = beta[:, t + 1]
            stay = following
            step = _shift(following, -1)
            jump = np.where(skip_from, _shift(following, -2), -np.inf)
            beta[:, t] = _logsumexp(stay, step, jump) + emit[:, t]

        end = alpha[rows, -1, last]
        before_end = np.where(has_label, alpha[rows, -1, np.maximum(last - 1, 0)], -np.inf)
        log_likelihood = _logsumexp(end, before_end)                      # (B,)

        # Posterior of each class at each frame: sum over s with l'_s = k of
        # alpha_t(s) beta_t(s) / (y_t(l'_s) P), gathered with a one-hot matrix (no scatter).
        with np.errstate(invalid="ignore"):
            log_occupancy = alpha + beta - emit - log_likelihood[:, None, None]
        occupancy = np.where(np.isfinite(log_occupancy), np.exp(log_occupancy), 0.0)
        onehot = np.eye(y_pred.shape[2], dtype=y_pred.dtype)[extended]   # (B, S, C)
        posterior = np.einsum("bts,bsc->btc", occupancy, onehot)
        dlogits = np.exp(log_probs) - posterior
        feasible = np.isfinite(log_likelihood)                            # else loss is inf
        dlogits = np.where(feasible[:, None, None], dlogits, 0.0).astype(y_pred.dtype)
        return (-log_likelihood).astype(y_pred.dtype), dlogits

    def backward(self, dvalues, dlogits):
        return dvalues[:, None, None] * dlogits


def _shift(a, k):
    """a shifted right by k along the last axis (left for k < 0), filled with -inf."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[:, k:] = a[:, :-k]
    else:
        out[:, :k] = a[:, -k:]
    return out


def _ctc_labels(name, y_true, y_pred):
    if y_true.ndim != 2:
        raise ValueError(
            "Targets `y_true` are expected to be a tensor of shape `(batch_size, max_length)` "
            f"in integer format. Received: y_true.shape={y_true.shape}"
        )
    if y_pred.ndim != 3:
        raise ValueError(
            "Logits `y_pred` are expected to be a tensor of shape `(batch_size, max_length, "
            f"num_classes)`. Received: y_pred.shape={y_pred.shape}"
        )
    if y_true.shape[0] != y_pred.shape[0]:
        raise ValueError(
            f"Loss {name!r}: y_true and y_pred must have the same batch size. "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    if y_true.size and not np.all(np.mod(y_true, 1) == 0):
        raise ValueError(f"Loss {name!r} expects integer labels in `y_true`.")
    labels = y_true.astype(np.int64)
    if labels.size and (labels.min() < 0 or labels.max() >= y_pred.shape[2]):
        raise ValueError(
            f"Loss {name!r}: labels must lie in [0, {y_pred.shape[2] - 1}] (0 pads). "
            f"Received labels from {labels.min()} to {labels.max()}"
        )
    # Keras counts the non-zero labels; they are taken to come first.
    lengths = (labels != 0).sum(axis=1)
    return labels, lengths
