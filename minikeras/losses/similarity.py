"""Circle loss (Sun et al. 2020) for metric learning on L2-normalised embeddings.

Notation: y = y_true, integer labels (B,); E = y_pred, embeddings (B, d), normalised by the
model (each row of unit length). Every sample is compared with every other one of the batch:

    D = max(1 - E E^T, 0)                              cosine distances (B, B)
    positive pairs: same label (the diagonal left out if remove_diagonal); negative: different
    W+ = max(m + D, 0) on positives,   W- = max(1 + m - D, 0) on negatives
    P_i = logsumexp_j over positives of -gamma W+_ij (m - D_ij)
    N_i = logsumexp_j over negatives of  gamma W-_ij (1 - m - D_ij)
    values_i = softplus(P_i + N_i)

As in Keras, a sample whose loss is exactly 0 (no positive pair in the batch) is masked out of
the mean. Backward follows the same chain: softplus' = sigmoid; logsumexp' = softmax over the
pairs; then through the weights (not held constant, as in Keras) and the distances to E:
dL/dE = dS E + dS^T E for S = E E^T.
"""

import numpy as np

from minikeras.losses.loss import Loss, mask_weights


def _masked_logsumexp(z, mask):
    """Row-wise logsumexp over the entries where mask is True, and its softmax (the
    derivative). Rows without an entry give -inf and a zero derivative."""
    masked = np.where(mask, z, -np.inf)
    top = masked.max(axis=1, keepdims=True)
    top = np.where(np.isfinite(top), top, 0.0)
    e = np.where(mask, np.exp(masked - top), 0.0)
    total = e.sum(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        lse = (np.log(total) + top)[:, 0]
        softmax = np.where(total > 0, e / total, 0.0)
    return lse, softmax


class Circle(Loss):
    """Circle loss on a batch of embeddings, see the module docstring.

    Args:
        gamma: the scale (80.0). margin: the relaxation m (0.4).
        remove_diagonal: leave each sample's pair with itself out of the positives.
    """

    def __init__(self, gamma=80.0, margin=0.4, remove_diagonal=True,
                 reduction="sum_over_batch_size", name="circle", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        for arg, value in (("gamma", gamma), ("margin", margin)):
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise ValueError(f"`{arg}` must be a number. Received: {arg}={value!r}")
        self.gamma = float(gamma)
        self.margin = float(margin)
        self.remove_diagonal = bool(remove_diagonal)

    def _unmasked_forward(self, y_true, y_pred):
        labels = _circle_labels(self.name, y_true, y_pred)
        gamma, m = self.gamma, self.margin
        positive = labels[:, None] == labels[None, :]
        negative = ~positive
        if self.remove_diagonal:
            positive = positive & ~np.eye(len(labels), dtype=bool)

        raw = 1.0 - y_pred @ y_pred.T                                    # (B, B)
        d = np.maximum(raw, 0.0)
        pos_arg = positive * (m + d)
        neg_arg = negative * (1.0 + m - d)
        w_pos = np.maximum(pos_arg, 0.0)
        w_neg = np.maximum(neg_arg, 0.0)
        pos_logits = -gamma * w_pos * (m - d)
        neg_logits = gamma * w_neg * (1.0 - m - d)
        p, a = _masked_logsumexp(pos_logits, positive)
        n, b = _masked_logsumexp(neg_logits, negative)
        total = p + n
        values = np.logaddexp(0.0, total).astype(y_pred.dtype)          # softplus
        with np.errstate(over="ignore"):
            dsoftplus = 1.0 / (1.0 + np.exp(-total))                     # sigmoid

        # d(logits)/dD, through both the weights and the distances.
        dpos_dd = -gamma * (positive * (pos_arg >= 0) * (m - d) - w_pos)
        dneg_dd = -gamma * (negative * (neg_arg >= 0) * (1.0 - m - d) + w_neg)
        dvalues_dd = dsoftplus[:, None] * (a * dpos_dd + b * dneg_dd)    # (B, B)
        dvalues_ds = -dvalues_dd * (raw >= 0)                            # D = max(1 - S, 0)
        return values, (dvalues_ds, y_pred)

    def forward(self, y_true, y_pred, logits=None):
        values, cache = self._unmasked_forward(y_true, y_pred)
        weights = mask_weights(values > 0, self.reduction).astype(values.dtype)
        return values * weights, cache + (weights,)

    def backward(self, dvalues, cache):
        dvalues_ds, embeddings, weights = cache
        ds = (dvalues * weights)[:, None] * dvalues_ds                   # dL/dS, (B, B)
        return (ds @ embeddings + ds.T @ embeddings).astype(embeddings.dtype)

    def call(self, y_true, y_pred):
        y_true, y_pred = np.asarray(y_true), np.asarray(y_pred, dtype=self.dtype)
        return self._unmasked_forward(y_true, y_pred)[0]

    def get_config(self):
        config = super().get_config()
        config.update({"gamma": self.gamma, "margin": self.margin,
                       "remove_diagonal": self.remove_diagonal})
        return config


def _circle_labels(name, y_true, y_pred):
    labels = y_true.reshape(-1) if y_true.ndim == 2 and y_true.shape[-1] == 1 else y_true
    if y_pred.ndim != 2 or labels.shape != (y_pred.shape[0],):
        raise ValueError(
            f"Loss {name!r} expects labels (batch,) and embeddings (batch, dim). "
            f"Received: y_true.shape={y_true.shape}, y_pred.shape={y_pred.shape}"
        )
    return labels.astype(np.int64)
