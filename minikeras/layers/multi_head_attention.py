"""`MultiHeadAttention`: scaled dot-product attention with several heads (Vaswani et al.).

With T query positions, S key/value positions, N heads of size K (keys) and V (values):

    Q = query @ Wq + bq          (B, T, N, K)      Wq: (dim_q, N, K), bq: (N, K)
    Kp = key @ Wk + bk           (B, S, N, K)      Wk: (dim_k, N, K)
    Vp = value @ Wv + bv         (B, S, N, V)      Wv: (dim_v, N, V)
    scores = (Q / sqrt(K)) . Kp  (B, N, T, S)      one T x S table per head
    P = softmax(scores, mask)    over S; masked entries get Keras's -1e9, then 0
    C = dropout(P) . Vp          (B, T, N, V)
    out = C @ Wo + bo            (B, T, out)       Wo: (N, V, out), out = dim_q by default

Masks (Keras's rules): the query's mask (B, T) and the value's and key's masks (B, S) come
from the tensors, `attention_mask` (B, T, S) is given, `use_causal_mask` adds i >= j; all are
ANDed. The output keeps the query's mask.
"""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.layers.dropout import Dropout
from minikeras.layers.layer import Layer, maybe_serialize
from minikeras.layers.softmax import Softmax
from minikeras.utils.argument_validation import positive_int

_PROJECTIONS = ("query", "key", "value")


class MultiHeadAttention(Layer):
    """Multi-head attention as Keras's layer, with its weights and names.

    Args:
        num_heads: N, the number of heads.
        key_dim: K, the size of each head for query and key.
        value_dim: V, the size of each head for value (default key_dim).
        dropout: rate of dropout on the attention probabilities, in training.
        use_bias: whether the four projections have biases.
        output_shape: the last axis of the output (an int or a 1-tuple); default the query's.
        attention_axes: the axes attended over; only Keras's default (every axis between the
            batch and the features) is supported.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        kernel_constraint, bias_constraint, seed: as in Keras.

    Call: mha(query, value, key=None, attention_mask=None, return_attention_scores=False,
    training=False, use_causal_mask=False). Shapes: query (B, *T, dim_q), value (B, *S, dim_v),
    key (B, *S, dim_k), attention_mask (B, *T, *S) -> out (B, *T, out) and, when asked, the
    scores (B, N, *T, *S).
    """

    supports_masking = True
    combines_masks = True       # passes on the query's mask; makes none of its own
    first_call_argument = "query"
    call_tensor_arguments = ("value", "key", "attention_mask")
    call_options = ("return_attention_scores", "use_causal_mask", "query_mask", "value_mask",
                    "key_mask")

    def __init__(self, num_heads, key_dim, value_dim=None, dropout=0.0, use_bias=True,
                 output_shape=None, attention_axes=None, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 seed=None, **kwargs):
        for unsupported in ("use_gate", "sliding_window", "flash_attention"):
            if kwargs.get(unsupported):
                raise ValueError(
                    f"minikeras's MultiHeadAttention does not support `{unsupported}`. "
                    f"Received: {unsupported}={kwargs[unsupported]!r}"
                )
            kwargs.pop(unsupported, None)
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"MultiHeadAttention {self.name!r}"
        self.num_heads = positive_int("num_heads", num_heads, owner)
        self.key_dim = positive_int("key_dim", key_dim, owner)
        self.value_dim = self.key_dim if value_dim is None else \
            positive_int("value_dim", value_dim, owner)
        if isinstance(dropout, bool) or not isinstance(dropout, (int, float)) \
                or not 0 <= dropout < 1:
            raise ValueError(f"Expected `dropout` in [0, 1) ({owner}). "
                             f"Received: dropout={dropout!r}")
        self.dropout = float(dropout)
        self.use_bias = bool(use_bias)
        if output_shape is not None:
            dims = output_shape if isinstance(output_shape, (list, tuple)) else (output_shape,)
            if len(dims) != 1:
                raise ValueError(f"minikeras supports an int or a 1-tuple `output_shape` "
                                 f"({owner}). Received: output_shape={output_shape!r}")
            positive_int("output_shape", dims[0], owner)
            output_shape = tuple(int(d) for d in dims) if isinstance(
                output_shape, (list, tuple)) else int(output_shape)
        self.output_shape = output_shape
        if attention_axes is not None:
            attention_axes = (attention_axes,) if isinstance(attention_axes, int) \
                else tuple(attention_axes)
        self.attention_axes = attention_axes
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self.seed = seed
        # Named here so that they take no automatic name ("dropout") from the user's layers.
        self._softmax = Softmax(axis=-1, dtype=self.dtype, name=f"{self.name}_softmax")
        self._dropout_layer = Dropout(self.dropout, seed=seed, dtype=self.dtype,
                                      name=f"{self.name}_dropout")

    # ----------------------------------------------------------------- building

    def build(self, query_shape, value_shape=None, key_shape=None):
        """query_shape (B, *T, dim_q), value_shape (B, *S, dim_v), key_shape (default the
        value's); or one dict {"query": ..., "value": ..., "key": ...} from a call."""
        if isinstance(query_shape, dict):
            shapes = query_shape
            query_shape, value_shape = shapes.get("query"), shapes.get("value")
            key_shape = shapes.get("key")
        if value_shape is None:
            raise ValueError(f"MultiHeadAttention {self.name!r} needs a `value`. "
                             f"Received: value_shape={value_shape}")
        key_shape = value_shape if key_shape is None else key_shape
        rank = len(query_shape)
        if rank < 3:
            raise ValueError(
                f"MultiHeadAttention {self.name!r} expects query of rank >= 3 (batch, "
                f"positions..., features). Received: query_shape={tuple(query_shape)}"
            )
        default_axes = tuple(range(1, rank - 1))
        if self.attention_axes is None:
            self.attention_axes = default_axes      # Keras's config shows them once built
        elif tuple(sorted(a % rank for a in self.attention_axes)) != default_axes:
            raise ValueError(
                f"minikeras's MultiHeadAttention attends over every axis between the batch "
                f"and the features (Keras's default {default_axes}). Received: "
                f"attention_axes={self.attention_axes!r}"
            )
        n, k, v = self.num_heads, self.key_dim, self.value_dim
        out_dim = self._out_dim(query_shape)
        dims = {"query": (query_shape[-1], k), "key": (key_shape[-1], k),
                "value": (value_shape[-1], v)}
        self.kernels, self.biases = {}, {}
        for part in _PROJECTIONS:
            dim, size = dims[part]
            self.kernels[part] = self._kernel(f"{part}/kernel", (dim, n, size))
            self.biases[part] = self._bias(f"{part}/bias", (n, size))
        self.kernels["output"] = self._kernel("attention_output/kernel", (n, v, out_dim))
        self.biases["output"] = self._bias("attention_output/bias", (out_dim,))
        self.built = True

    def _kernel(self, name, shape):
        return self.add_weight(shape, self.kernel_initializer, name=name,
                               regularizer=self.kernel_regularizer,
                               constraint=self.kernel_constraint)

    def _bias(self, name, shape):
        if not self.use_bias:
            return None
        return self.add_weight(shape, self.bias_initializer, name=name,
                               regularizer=self.bias_regularizer,
                               constraint=self.bias_constraint)

    def _out_dim(self, query_shape):
        if self.output_shape is None:
            return query_shape[-1]
        return self.output_shape[0] if isinstance(self.output_shape, tuple) \
            else self.output_shape

    def compute_output_shape(self, query_shape, value_shape=None, key_shape=None):
        return (*query_shape[:-1], self._out_dim(query_shape))

    def compute_output_shape_for_call(self, input_shape, tensor_names=None,
                                      return_attention_scores=False, **options):
        """input_shape: the shapes of the call's tensors, named by tensor_names."""
        shapes = dict(zip(tensor_names or ("query",), input_shape if tensor_names
                          else [input_shape]))
        query_shape = shapes["query"]
        out = self.compute_output_shape(query_shape)
        if not return_attention_scores:
            return out
        key_shape = shapes.get("key", shapes.get("value"))
        return [out, (query_shape[0], self.num_heads, *query_shape[1:-1], *key_shape[1:-1])]

    def compute_mask(self, inputs, mask=None):
        """The output keeps the query's mask."""
        if isinstance(mask, (list, tuple)):
            return mask[0]
        return mask

    # ---------------------------------------------------------------- forward

    def forward(self, x, training=False, mask=None, tensor_names=("query",),
                return_attention_scores=False, use_causal_mask=False, query_mask=None,
                value_mask=None, key_mask=None):
        """x: [query, value, (key), (attention_mask)] named by tensor_names; mask: the
        tensors' masks (a list aligned with x) or None. Returns (out or [out, scores], cache).
        """
        inputs = dict(zip(tensor_names, x if isinstance(x, list) else [x]))
        masks = dict(zip(tensor_names, mask)) if isinstance(mask, (list, tuple)) else {}
        query, value = inputs["query"], inputs.get("value")
        if value is None:
            raise ValueError(f"MultiHeadAttention {self.name!r} needs a `value` tensor. "
                             "Call it as mha(query, value).")
        key = inputs.get("key", value)
        # Keras reads the query's mask from the query tensor only: an explicit query_mask
        # argument is accepted and ignored, as there.
        query_mask = masks.get("query")
        value_mask = _first(value_mask, masks.get("value"))
        key_mask = _first(key_mask, masks.get("key"))
        batch, t_shape, s_shape = query.shape[0], query.shape[1:-1], key.shape[1:-1]
        # Every attended axis flattened into one: (B, T, dim) and (B, S, dim).
        q2, k2, v2 = (a.reshape(batch, -1, a.shape[-1]) for a in (query, key, value))
        keep = self._attention_keep(q2.shape[1], k2.shape[1], batch, query_mask, value_mask,
                                    key_mask, inputs.get("attention_mask"), use_causal_mask)

        Q = self._project("query", q2)                       # (B, N, T, K)
        Kp = self._project("key", k2)                        # (B, N, S, K)
        Vp = self._project("value", v2)                      # (B, N, S, V)
        scale = 1.0 / np.sqrt(self.key_dim)
        Qs = Q * np.asarray(scale, Q.dtype)
        scores = Qs @ Kp.swapaxes(-1, -2)                    # (B, N, T, S)
        # Keras takes two roads here, which differ only on a query row with every key masked:
        # with dropout or returned scores, its masked Softmax gives that row zeros; otherwise
        # its fused dot_product_attention gives it equal weights (the -1e9 entries tie).
        fused = self.dropout == 0 and not return_attention_scores and query.ndim == 3
        if fused and keep is not None:
            scores = np.where(keep, scores, np.asarray(-1e9, scores.dtype))
            P, softmax_cache = self._softmax.forward(scores)
        else:
            P, softmax_cache = self._softmax.forward(scores, mask=keep)
        Pd, dropout_cache = self._dropout_layer.forward(P, training=training)
        C = Pd @ Vp                                          # (B, N, T, V)
        Wo = self.kernels["output"].value                    # (N, V, out)
        n, v = self.num_heads, self.value_dim
        C_flat = C.transpose(0, 2, 1, 3).reshape(batch * C.shape[2], n * v)
        out = C_flat @ Wo.reshape(n * v, -1)                 # (B*T, out)
        if self.use_bias:
            out += self.biases["output"].value
        out = out.reshape(*query.shape[:-1], -1)
        fused_keep = keep if fused else None
        cache = (tensor_names, query.shape, key.shape, value.shape, q2, k2, v2, Qs, Kp, Vp,
                 softmax_cache, fused_keep, Pd, dropout_cache, C_flat, "key" in inputs)
        if return_attention_scores:
            return [out, P.reshape(batch, n, *t_shape, *s_shape)], cache
        return out, cache

    def _project(self, part, x):
        """x (B, L, dim) @ W (dim, N, size) + b -> (B, N, L, size), heads before positions."""
        W = self.kernels[part].value
        dim, n, size = W.shape
        y = x.reshape(-1, dim) @ W.reshape(dim, n * size)
        if self.use_bias:
            y += self.biases[part].value.reshape(-1)
        return y.reshape(x.shape[0], x.shape[1], n, size).transpose(0, 2, 1, 3)

    def _attention_keep(self, t, s, batch, query_mask, value_mask, key_mask, attention_mask,
                        use_causal_mask):
        """The (B or 1, 1, T, S) boolean mask of the query-key pairs that count, or None."""
        keep = None

        def both(a, b):
            return b if a is None else a & b

        if query_mask is not None:
            keep = both(keep, _as_bool(query_mask).reshape(batch, t, 1))
        if value_mask is not None:
            keep = both(keep, _as_bool(value_mask).reshape(batch, 1, s))
        if key_mask is not None:
            keep = both(keep, _as_bool(key_mask).reshape(batch, 1, s))
        if use_causal_mask:
            keep = both(keep, np.tril(np.ones((t, s), dtype=bool))[None])
        if attention_mask is not None:
            attention_mask = _as_bool(attention_mask)
            if attention_mask.size not in (batch * t * s, t * s):
                raise ValueError(
                    f"MultiHeadAttention {self.name!r}: `attention_mask` must have shape "
                    f"(batch, {t}, {s}) (positions flattened). Received: "
                    f"attention_mask.shape={attention_mask.shape}"
                )
            keep = both(keep, attention_mask.reshape(-1, t, s))
        return None if keep is None else keep[:, None]

    # --------------------------------------------------------------- backward

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(out) (B, *T, out), or [that, dL/d(scores)] when scores were returned.
        Returns (dx aligned with the call's tensors, grads in trainable_weights order)."""
        (names, q_shape, k_shape, v_shape, q2, k2, v2, Qs, Kp, Vp, softmax_cache, fused_keep,
         Pd, dropout_cache, C_flat, has_key) = cache
        d_scores_out = None
        if isinstance(dout, list):
            dout, d_scores_out = dout
        batch, t = q2.shape[0], q2.shape[1]
        n, v = self.num_heads, self.value_dim
        Wo = self.kernels["output"].value
        dout2 = dout.reshape(batch * t, -1)                  # (B*T, out)
        dWo = (C_flat.T @ dout2).reshape(Wo.shape)           # (N, V, out)
        dbo = dout2.sum(axis=0)
        dC = (dout2 @ Wo.reshape(n * v, -1).T).reshape(batch, t, n, v).transpose(0, 2, 1, 3)
        dPd = dC @ Vp.swapaxes(-1, -2)                       # (B, N, T, S)
        dVp = Pd.swapaxes(-1, -2) @ dC                       # (B, N, S, V)
        dP, _ = self._dropout_layer.backward(dPd, dropout_cache)
        if d_scores_out is not None:
            dP = dP + d_scores_out.reshape(dP.shape)
        dscores, _ = self._softmax.backward(dP, softmax_cache)
        if fused_keep is not None:      # the -1e9 put in place of masked scores is constant
            dscores = np.where(fused_keep, dscores, 0).astype(dscores.dtype)
        dQs = dscores @ Kp                                   # (B, N, T, K)
        dKp = dscores.swapaxes(-1, -2) @ Qs                  # (B, N, S, K)
        dQ = dQs * np.asarray(1.0 / np.sqrt(self.key_dim), dQs.dtype)

        grads, dx = {}, {}
        for part, x2, dproj in (("query", q2, dQ), ("key", k2, dKp), ("value", v2, dVp)):
            grads[part], dx[part] = self._project_backward(part, x2, dproj)
        grads["output"] = (dWo, dbo)
        weight_grads = []
        for part in ("query", "key", "value", "output"):
            weight_grads.append(grads[part][0])
            if self.use_bias:
                weight_grads.append(grads[part][1])
        if not self.trainable:
            weight_grads = []
        if not need_input_gradient:
            return None, weight_grads
        d_value = dx["value"] if has_key else dx["value"] + dx["key"]
        by_name = {"query": dx["query"].reshape(q_shape), "value": d_value.reshape(v_shape),
                   "key": dx["key"].reshape(k_shape), "attention_mask": None}
        return [by_name[name] for name in names], weight_grads

    def _project_backward(self, part, x2, dproj):
        """Backward of _project: x2 (B, L, dim), dproj (B, N, L, size).
        Returns ((dW, db), dx2)."""
        W = self.kernels[part].value
        dim, n, size = W.shape
        d = dproj.transpose(0, 2, 1, 3).reshape(-1, n * size)    # (B*L, N*size)
        x_flat = x2.reshape(-1, dim)
        dW = (x_flat.T @ d).reshape(W.shape)                      # (dim, N, size)
        db = d.sum(axis=0).reshape(n, size)
        dx2 = (d @ W.reshape(dim, n * size).T).reshape(x2.shape)  # (B, L, dim)
        return (dW, db), dx2

    # ------------------------------------------------------------------ saving

    # Keras keeps these weights in four EinsumDense sublayers, so its files hold them at
    # layers/multi_head_attention/query_dense/vars/0 (kernel), .../vars/1 (bias), and so on.
    _weights_in_children = True

    def _saveable_children(self):
        children = [("_dropout_layer", self._dropout_layer), ("_softmax", self._softmax)]
        for part in ("query", "key", "value", "output"):
            weights = [self.kernels[part]] + ([self.biases[part]] if self.use_bias else [])
            children.append((f"{part}_dense", _WeightGroup(f"{part}_dense", weights)))
        return children

    # ------------------------------------------------------------ configuration

    def get_config(self):
        config = super().get_config()
        config.update({
            "num_heads": self.num_heads,
            "key_dim": self.key_dim,
            "value_dim": self.value_dim,
            "dropout": self.dropout,
            "use_bias": self.use_bias,
            "use_gate": False,              # Keras's options minikeras refuses when set
            "output_shape": self.output_shape,
            "attention_axes": self.attention_axes,
            "sliding_window": None,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": maybe_serialize(regularizers.serialize,
                                                  self.kernel_regularizer),
            "bias_regularizer": maybe_serialize(regularizers.serialize, self.bias_regularizer),
            "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                    self.activity_regularizer),
            "kernel_constraint": maybe_serialize(constraints.serialize, self.kernel_constraint),
            "bias_constraint": maybe_serialize(constraints.serialize, self.bias_constraint),
            "seed": self.seed,
        })
        return config


class _WeightGroup:
    """What a file sees as one of Keras's sublayers: a name and its weights."""

    def __init__(self, name, weights):
        self.name = name
        self._weights = weights


def _first(a, b):
    return a if a is not None else b


def _as_bool(mask):
    mask = np.asarray(mask)
    return mask if mask.dtype == bool else mask > 0.5
