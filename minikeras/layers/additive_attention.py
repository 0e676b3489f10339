"""`AdditiveAttention`: Bahdanau-style attention, scores from a learned sum of tanh.

    scores[b, i, j] = sum_d scale[d] * tanh(q[b, i, d] + k[b, j, d])      (B, Tq, Tv)

The rest (masks, softmax, dropout, the weighted sum of the values) is Attention's.
"""

import numpy as np

from minikeras.layers.attention import Attention, _check_inputs


class AdditiveAttention(Attention):
    """Additive attention layer, as Keras's.

    Args:
        use_scale: learn a `scale` vector (dim,) weighting the tanh terms (default True).
        dropout: rate of dropout on the attention weights, in training.

    Call and shapes: as Attention.
    """

    def __init__(self, use_scale=True, dropout=0.0, **kwargs):
        super().__init__(use_scale=use_scale, dropout=dropout, **kwargs)

    def build(self, input_shape):
        _check_inputs(self, input_shape)
        self.scale = None
        self.concat_score_weight = None
        if self.use_scale:
            self.scale = self.add_weight((input_shape[0][-1],), "glorot_uniform", name="scale")
        self.built = True

    def _scores(self, q, k):
        """q (B, Tq, dim), k (B, Tv, dim) -> (scores (B, Tq, Tv), cache)."""
        A = np.tanh(q[:, :, None, :] + k[:, None, :, :])     # (B, Tq, Tv, dim)
        scale = self.scale.value if self.use_scale else 1.0
        return (A * scale).sum(axis=-1), A

    def _scores_backward(self, dscores, A):
        scale = self.scale.value if self.use_scale else 1.0
        grads = []
        if self.use_scale:
            grads.append(np.einsum("bij,bijd->d", dscores, A))       # (dim,)
        dpre = dscores[..., None] * scale * (1 - A * A)              # dL/d(q_i + k_j)
        return dpre.sum(axis=2), dpre.sum(axis=1), grads

    def get_config(self):
        config = super().get_config()
        del config["score_mode"]
        return config
