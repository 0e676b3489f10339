"""`Attention`: dot-product (Luong-style) attention of a query over value/key sequences.

    scores = q . k^T                 (B, Tq, Tv)   times `scale` when use_scale
             or c * sum(tanh(scale * (q_i + k_j)))  with score_mode="concat"
    scores -= 1e9 where masked       the value's mask and/or the causal mask (i >= j kept)
    W = softmax(scores)              over Tv;  dropout on W in training
    out = W . v                      (B, Tq, dim), zero where the query is masked
"""

import numpy as np

from minikeras.layers.dropout import Dropout
from minikeras.layers.layer import Layer


class Attention(Layer):
    """Dot-product attention layer, as Keras's.

    Args:
        use_scale: learn a scalar `scale` multiplying the scores.
        score_mode: "dot" (q . k) or "concat" (sum of tanh(q + k)).
        dropout: rate of dropout on the attention weights, in training.
        seed: seed of that dropout.

    Call: layer([query, value] or [query, value, key], mask=[query_mask, value_mask],
    return_attention_scores=False, training=False, use_causal_mask=False).
    Shapes: query (B, Tq, dim), value (B, Tv, dim), key (B, Tv, dim) -> out (B, Tq, dim) and,
    when asked, the attention weights (B, Tq, Tv).
    """

    supports_masking = True
    combines_masks = True       # passes on the query's mask; makes none of its own
    call_options = ("return_attention_scores", "use_causal_mask")

    def __init__(self, use_scale=False, score_mode="dot", dropout=0.0, seed=None, **kwargs):
        super().__init__(**kwargs)
        if score_mode not in ("dot", "concat"):
            raise ValueError(
                "Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. "
                f"Received: score_mode={score_mode}"
            )
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"Expected `dropout` in [0, 1). Received: dropout={dropout!r}")
        self.use_scale = bool(use_scale)
        self.score_mode = score_mode
        self.dropout = float(dropout)
        self.seed = seed
        # Named here so that it takes no automatic name ("dropout") from the user's layers.
        self._dropout_layer = Dropout(self.dropout, seed=seed, dtype=self.dtype,
                                      name=f"{self.name}_dropout")

    def build(self, input_shape):
        _check_inputs(self, input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight((), "ones", name="scale")
        if self.score_mode == "concat":
            self.concat_score_weight = self.add_weight((), "ones", name="concat_score_weight")
        self.built = True

    def compute_output_shape(self, input_shape):
        return (*input_shape[0][:-1], input_shape[1][-1])

    def compute_output_shape_for_call(self, input_shape, return_attention_scores=False,
                                      **options):
        out = self.compute_output_shape(input_shape)
        if not return_attention_scores:
            return out
        key_shape = input_shape[2] if len(input_shape) > 2 else input_shape[1]
        return [out, (*input_shape[0][:-1], key_shape[-2])]

    def compute_mask(self, inputs, mask=None):
        if not mask or mask[0] is None:
            return None
        return mask[0]

    # ------------------------------------------------------------------ scores

    def _scores(self, q, k):
        """q (B, Tq, dim), k (B, Tv, dim) -> (scores (B, Tq, Tv), cache)."""
        if self.score_mode == "dot":
            qk = q @ k.swapaxes(-1, -2)
            scores = qk * self.scale.value if self.use_scale else qk
            return scores, (q, k, qk)
        pair = q[:, :, None, :] + k[:, None, :, :]           # (B, Tq, Tv, dim)
        scale = self.scale.value if self.use_scale else 1.0
        A = np.tanh(scale * pair)
        scores = self.concat_score_weight.value * A.sum(axis=-1)
        return scores, (q, k, pair, A)

    def _scores_backward(self, dscores, cache):
        """dL/d(scores) -> (dq, dk, weight grads in trainable_weights order)."""
        if self.score_mode == "dot":
            q, k, qk = cache
            scale = self.scale.value if self.use_scale else 1.0
            dq = (dscores @ k) * scale                        # (B, Tq, dim)
            dk = (dscores.swapaxes(-1, -2) @ q) * scale       # (B, Tv, dim)
            grads = [np.sum(dscores * qk).astype(q.dtype)] if self.use_scale else []
            return dq, dk, grads
        q, k, pair, A = cache
        c = self.concat_score_weight.value
        scale = self.scale.value if self.use_scale else 1.0
        dc = np.sum(dscores * A.sum(axis=-1))
        dpre = (c * dscores)[..., None] * (1 - A * A)         # dL/d(scale * pair)
        grads = []
        if self.use_scale:
            grads.append(np.sum(dpre * pair).astype(q.dtype))
        grads.append(np.asarray(dc, dtype=q.dtype))
        dpair = dpre * scale
        return dpair.sum(axis=2), dpair.sum(axis=1), grads

    # -------------------------------------------------------------- the layer

    def forward(self, x, training=False, mask=None, return_attention_scores=False,
                use_causal_mask=False):
        """x: [query, value] or [query, value, key]; mask: None or [query_mask, value_mask]
        with query_mask (B, Tq) and value_mask (B, Tv). Returns (out or [out, W], cache)."""
        _check_inputs(self, x, mask)
        q, v = x[0], x[1]
        k = x[2] if len(x) > 2 else v
        q_mask = mask[0] if mask else None
        v_mask = mask[1] if mask else None
        scores, score_cache = self._scores(q, k)
        keep = None
        if v_mask is not None:
            keep = np.asarray(v_mask, dtype=bool)[:, None, :]           # (B, 1, Tv)
        if use_causal_mask:
            causal = np.tril(np.ones(scores.shape[-2:], dtype=bool))[None]
            keep = causal if keep is None else keep & causal
        if keep is not None:
            # A constant shift: masked scores lose the softmax, their gradient passes as is.
            scores = np.where(keep, scores, scores - np.asarray(1e9, scores.dtype))
        shifted = scores - scores.max(axis=-1, keepdims=True)
        e = np.exp(shifted)
        W = e / e.sum(axis=-1, keepdims=True)                # (B, Tq, Tv)
        Wd, dropout_cache = self._dropout_layer.forward(W, training=training)
        out = Wd @ v                                         # (B, Tq, dim)
        q_keep = None
        if q_mask is not None:
            q_keep = np.asarray(q_mask, dtype=bool)[..., None]          # (B, Tq, 1)
            out = np.where(q_keep, out, 0).astype(out.dtype)
        cache = (len(x), score_cache, W, Wd, dropout_cache, v, q_keep)
        if return_attention_scores:
            return [out, W], cache
        return out, cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout (B, Tq, dim), or [that, dL/dW] when the weights were returned."""
        n_inputs, score_cache, W, Wd, dropout_cache, v, q_keep = cache
        dW_out = None
        if isinstance(dout, list):
            dout, dW_out = dout
        if q_keep is not None:
            dout = np.where(q_keep, dout, 0).astype(dout.dtype)
        dWd = dout @ v.swapaxes(-1, -2)                      # (B, Tq, Tv)
        dv = Wd.swapaxes(-1, -2) @ dout                      # (B, Tv, dim)
        dW, _ = self._dropout_layer.backward(dWd, dropout_cache)
        if dW_out is not None:
            dW = dW + dW_out
        # softmax: dscores = W * (dW - sum(dW * W))
        dscores = W * (dW - (dW * W).sum(axis=-1, keepdims=True))
        dq, dk, grads = self._scores_backward(dscores, score_cache)
        if not self.trainable:
            grads = []
        if n_inputs > 2:
            return [dq, dv, dk], grads
        return [dq, dv + dk], grads

    def get_config(self):
        config = super().get_config()
        config.update({"use_scale": self.use_scale, "score_mode": self.score_mode,
                       "dropout": self.dropout, "seed": self.seed})
        return config


def _check_inputs(layer, inputs, mask=None):
    """Keras's checks: a list of 2 or 3 inputs, and a list of 2 or 3 masks."""
    name = type(layer).__name__
    if not isinstance(inputs, (list, tuple)):
        raise ValueError(
            f"{name} layer must be called on a list of inputs, namely [query, value] or "
            f"[query, value, key]. Received: inputs={inputs}."
        )
    if not 2 <= len(inputs) <= 3:
        raise ValueError(
            f"{name} layer accepts inputs list of length 2 or 3, namely [query, value] or "
            f"[query, value, key]. Received length: {len(inputs)}."
        )
    if mask is not None:
        if not isinstance(mask, (list, tuple)):
            raise ValueError(f"{name} layer mask must be a list, namely [query_mask, "
                             f"value_mask]. Received: mask={mask}.")
        if not 2 <= len(mask) <= 3:
            raise ValueError(f"{name} layer accepts mask list of length 2 or 3. "
                             f"Received: mask={mask}.")
