"""The table of keras.ops cases shared by tests/test_ops.py (gradients against finite
differences, forward against NumPy) and compat_tests/test_ops_compat.py (forward against
Keras's own keras.ops). Each case: id -> (function of (ops, *inputs), input shapes, kind).

kind: "any" (normal inputs), "positive" (for log, sqrt, ...), "probability" (in (0, 1)).
Shapes that differ between inputs exercise broadcasting (the gradient summed back).
"""

CASES = {
    "add": (lambda o, a, b: o.add(a, b), [(3, 4), (3, 4)], "any"),
    "add_broadcast": (lambda o, a, b: o.add(a, b), [(3, 4), (4,)], "any"),
    "subtract_broadcast": (lambda o, a, b: o.subtract(a, b), [(2, 1, 4), (3, 1)], "any"),
    "multiply_broadcast": (lambda o, a, b: o.multiply(a, b), [(3, 4), (3, 1)], "any"),
    "divide": (lambda o, a, b: o.divide(a, b), [(3, 4), (4,)], "positive"),
    "true_divide": (lambda o, a, b: o.true_divide(a, b), [(3, 4), (3, 4)], "positive"),
    "negative": (lambda o, a: o.negative(a), [(3, 4)], "any"),
    "power": (lambda o, a, b: o.power(a, b), [(3, 4), (3, 4)], "positive"),
    "power_scalar": (lambda o, a: o.power(a, 3.0), [(3, 4)], "any"),
    "square": (lambda o, a: o.square(a), [(3, 4)], "any"),
    "sqrt": (lambda o, a: o.sqrt(a), [(3, 4)], "positive"),
    "abs": (lambda o, a: o.abs(a), [(3, 4)], "any"),
    "exp": (lambda o, a: o.exp(a), [(3, 4)], "any"),
    "log": (lambda o, a: o.log(a), [(3, 4)], "positive"),
    "log1p": (lambda o, a: o.log1p(a), [(3, 4)], "positive"),
    "maximum": (lambda o, a, b: o.maximum(a, b), [(3, 4), (4,)], "any"),
    "minimum": (lambda o, a, b: o.minimum(a, b), [(3, 4), (3, 4)], "any"),
    "clip": (lambda o, a: o.clip(a, -0.5, 0.5), [(3, 4)], "any"),
    "where": (lambda o, a, b: o.where(o.greater(a, 0), a, b), [(3, 4), (3, 4)], "any"),
    "sum": (lambda o, a: o.sum(a, axis=1), [(3, 4)], "any"),
    "sum_keepdims": (lambda o, a: o.sum(a, axis=(0, 2), keepdims=True), [(2, 3, 4)], "any"),
    "mean": (lambda o, a: o.mean(a, axis=-1), [(3, 4)], "any"),
    "mean_all": (lambda o, a: o.mean(a), [(3, 4)], "any"),
    "max": (lambda o, a: o.max(a, axis=0), [(3, 4)], "any"),
    "min": (lambda o, a: o.min(a, axis=1, keepdims=True), [(3, 4)], "any"),
    "var": (lambda o, a: o.var(a, axis=1), [(3, 4)], "any"),
    "std": (lambda o, a: o.std(a, axis=0), [(3, 4)], "any"),
    "logsumexp": (lambda o, a: o.logsumexp(a, axis=-1), [(3, 4)], "any"),
    "reshape": (lambda o, a: o.reshape(a, (4, 3)), [(3, 4)], "any"),
    "transpose": (lambda o, a: o.transpose(a, (2, 0, 1)), [(2, 3, 4)], "any"),
    "expand_dims": (lambda o, a: o.expand_dims(a, 1), [(3, 4)], "any"),
    "squeeze": (lambda o, a: o.squeeze(a, axis=1), [(3, 1, 4)], "any"),
    "concatenate": (lambda o, a, b: o.concatenate([a, b], axis=1), [(3, 4), (3, 2)], "any"),
    "stack": (lambda o, a, b: o.stack([a, b], axis=1), [(3, 4), (3, 4)], "any"),
    "split": (lambda o, a: o.split(a, 2, axis=1)[1], [(3, 4)], "any"),
    "take": (lambda o, a: o.take(a, [0, 2, 2], axis=1), [(3, 4)], "any"),
    "slice": (lambda o, a: o.slice(a, (1, 0), (2, 3)), [(3, 4)], "any"),
    "getitem": (lambda o, a: a[1:, ::2], [(3, 4)], "any"),
    "tile": (lambda o, a: o.tile(a, (2, 1)), [(3, 4)], "any"),
    "repeat": (lambda o, a: o.repeat(a, 2, axis=0), [(3, 4)], "any"),
    "cast": (lambda o, a: o.cast(a, "float64"), [(3, 4)], "any"),
    "matmul": (lambda o, a, b: o.matmul(a, b), [(3, 4), (4, 2)], "any"),
    "matmul_batched": (lambda o, a, b: o.matmul(a, b), [(2, 3, 4), (4, 5)], "any"),
    "matmul_vector": (lambda o, a, b: o.matmul(a, b), [(3, 4), (4,)], "any"),
    "dot": (lambda o, a, b: o.dot(a, b), [(3, 4), (4, 2)], "any"),
    "einsum": (lambda o, a, b: o.einsum("bij,jk->bik", a, b), [(2, 3, 4), (4, 5)], "any"),
    "einsum_reduce": (lambda o, a, b: o.einsum("ij,ij->i", a, b), [(3, 4), (3, 4)], "any"),
    "norm": (lambda o, a: o.norm(a, axis=-1), [(3, 4)], "any"),
    "relu": (lambda o, a: o.relu(a), [(3, 4)], "any"),
    "sigmoid": (lambda o, a: o.sigmoid(a), [(3, 4)], "any"),
    "tanh": (lambda o, a: o.tanh(a), [(3, 4)], "any"),
    "softmax": (lambda o, a: o.softmax(a, axis=-1), [(3, 4)], "any"),
    "log_softmax": (lambda o, a: o.log_softmax(a), [(3, 4)], "any"),
    "softplus": (lambda o, a: o.softplus(a), [(3, 4)], "any"),
    "gelu": (lambda o, a: o.gelu(a), [(3, 4)], "any"),
    "silu": (lambda o, a: o.silu(a), [(3, 4)], "any"),
    "binary_crossentropy": (lambda o, a, b: o.binary_crossentropy(a, b), [(3, 4), (3, 4)],
                            "probability"),
    "binary_crossentropy_logits": (lambda o, a, b: o.binary_crossentropy(
        o.sigmoid(a), b, from_logits=True), [(3, 4), (3, 4)], "any"),
    "categorical_crossentropy": (lambda o, a, b: o.categorical_crossentropy(
        o.softmax(a), o.softmax(b)), [(3, 4), (3, 4)], "any"),
    "categorical_crossentropy_logits": (lambda o, a, b: o.categorical_crossentropy(
        o.softmax(a), b, from_logits=True), [(3, 4), (3, 4)], "any"),
    "sparse_categorical_crossentropy": (lambda o, a: o.sparse_categorical_crossentropy(
        [0, 3, 1], a, from_logits=True), [(3, 4)], "any"),
    "conv": (lambda o, a, b: o.conv(a, b, strides=1, padding="same"),
             [(2, 5, 5, 3), (3, 3, 3, 2)], "any"),
    "max_pool": (lambda o, a: o.max_pool(a, 2, strides=2), [(2, 4, 4, 3)], "any"),
}


def make_inputs(shapes, kind, rng, dtype="float64"):
    arrays = []
    for shape in shapes:
        if kind == "positive":
            arrays.append(rng.uniform(0.5, 2.0, size=shape).astype(dtype))
        elif kind == "probability":
            arrays.append(rng.uniform(0.1, 0.9, size=shape).astype(dtype))
        else:
            arrays.append(rng.normal(size=shape).astype(dtype))
    return arrays
