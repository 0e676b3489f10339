"""MultiHeadAttention, Attention, AdditiveAttention: float64 finite differences for every
option, Keras-style errors, configs, and calls with several tensor arguments."""

import numpy as np
import pytest
from gradcheck import check_gradient

import minikeras
from minikeras import layers

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(2, 4, 5))
V = RNG.normal(size=(2, 3, 6))
K = RNG.normal(size=(2, 3, 5))
ATTENTION_MASK = np.array([[[1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]]] * 2, dtype=bool)
Q_MASK = np.array([[1, 1, 1, 0], [1, 1, 0, 0]], dtype=bool)
V_MASK = np.array([[1, 1, 0], [1, 1, 1]], dtype=bool)


def check_call(layer, inputs, reseed=None, **options):
    """L = sum(out * R) (plus sum(scores * R2) when scores are returned); checks dL/d(each
    float input) and dL/d(each trainable weight) against central differences."""
    inputs = [np.array(a, dtype=np.float64) for a in inputs]

    def run():
        if reseed is not None:
            reseed()
        return layer.forward(inputs, **options)

    out, cache = run()
    rng = np.random.default_rng(1)
    outs = out if isinstance(out, list) else [out]
    rs = [rng.normal(size=o.shape) for o in outs]
    dout = rs if isinstance(out, list) else rs[0]
    dx, grads = layer.backward(dout, cache)
    assert len(grads) == len(layer.trainable_weights)

    def loss(_):
        result = run()[0]
        result = result if isinstance(result, list) else [result]
        return sum(np.sum(o * r) for o, r in zip(result, rs))

    for x, d in zip(inputs, dx):
        if d is not None:
            check_gradient(loss, x, d)
    for weight, grad in zip(layer.trainable_weights, grads):
        assert grad.shape == weight.shape
        if weight.path.endswith("key/bias"):
            # Adding a constant to every key adds the same number to a query's scores: the
            # softmax ignores it, so this gradient is exactly zero.
            np.testing.assert_allclose(grad, 0, atol=1e-12)
            continue
        check_gradient(loss, weight.value, grad, name=weight.path)


def mha(**kwargs):
    minikeras.backend.set_floatx("float64")
    try:
        layer = layers.MultiHeadAttention(**{"num_heads": 2, "key_dim": 3, **kwargs})
    finally:
        minikeras.backend.set_floatx("float32")
    return layer


@pytest.mark.parametrize("kwargs, names, extra, options", [
    ({}, ("query", "value"), [], {}),
    ({"value_dim": 4, "output_shape": 7}, ("query", "value"), [], {}),
    ({"use_bias": False}, ("query", "value", "key"), [K], {}),
    ({}, ("query", "value", "attention_mask"), [ATTENTION_MASK],
     {"return_attention_scores": True}),
    ({}, ("query", "value"), [], {"use_causal_mask": True, "return_attention_scores": True}),
    ({}, ("query", "value"), [], {"mask": [Q_MASK, None], "value_mask": V_MASK}),
    ({}, ("query", "value"), [], {"mask": [Q_MASK, None], "return_attention_scores": True}),
])
def test_multi_head_attention_matches_finite_differences(kwargs, names, extra, options):
    layer = mha(**kwargs)
    inputs = [Q, V, *extra]
    layer._maybe_build({n: np.shape(a) for n, a in zip(names, inputs)})
    check_call(layer, inputs, tensor_names=names, **options)


def test_multi_head_attention_dropout_matches_finite_differences():
    layer = mha(dropout=0.3, seed=3)
    layer._maybe_build({"query": Q.shape, "value": V.shape})

    def reseed():
        layer._dropout_layer._rng = np.random.default_rng(3)

    check_call(layer, [Q, V], reseed=reseed, training=True, tensor_names=("query", "value"))
    reseed()
    trained = layer.forward([Q, V], training=True, tensor_names=("query", "value"))[0]
    inferred = layer.forward([Q, V], training=False, tensor_names=("query", "value"))[0]
    assert not np.allclose(trained, inferred)


def test_multi_head_attention_on_rank_4_inputs():
    layer = mha()
    q, v = RNG.normal(size=(2, 2, 3, 5)), RNG.normal(size=(2, 2, 2, 4))
    layer._maybe_build({"query": q.shape, "value": v.shape})
    out, scores = layer(q, v, return_attention_scores=True)
    assert out.shape == (2, 2, 3, 5) and scores.shape == (2, 2, 2, 3, 2, 2)
    check_call(layer, [q, v], tensor_names=("query", "value"))


def float64_layer(cls, **kwargs):
    minikeras.backend.set_floatx("float64")
    try:
        return cls(**kwargs)
    finally:
        minikeras.backend.set_floatx("float32")


@pytest.mark.parametrize("cls, kwargs", [
    (layers.Attention, {}),
    (layers.Attention, {"use_scale": True}),
    (layers.Attention, {"score_mode": "concat"}),
    (layers.Attention, {"score_mode": "concat", "use_scale": True}),
    (layers.AdditiveAttention, {}),
    (layers.AdditiveAttention, {"use_scale": False}),
])
@pytest.mark.parametrize("with_key, options", [
    (False, {}),
    (True, {"mask": [Q_MASK, V_MASK], "return_attention_scores": True}),
    (False, {"use_causal_mask": True, "mask": [None, V_MASK]}),
])
def test_attention_layers_match_finite_differences(cls, kwargs, with_key, options):
    layer = float64_layer(cls, **kwargs)
    inputs = [Q, K, K + 0.5] if with_key else [Q, K]
    layer._maybe_build([np.shape(a) for a in inputs])
    if layer.scale is not None:
        layer.scale.assign(np.full(layer.scale.shape, 0.7))
    check_call(layer, inputs, **options)


def test_attention_dropout_matches_finite_differences():
    layer = float64_layer(layers.Attention, dropout=0.4, seed=2)
    layer._maybe_build([Q.shape, K.shape])

    def reseed():
        layer._dropout_layer._rng = np.random.default_rng(2)

    check_call(layer, [Q, K], reseed=reseed, training=True)


def test_query_mask_zeroes_the_output_and_causal_mask_hides_the_future():
    out, weights = layers.Attention()([Q, Q], mask=[Q_MASK, None], use_causal_mask=True,
                                      return_attention_scores=True)
    assert np.all(out[~Q_MASK] == 0)
    assert np.all(np.triu(weights[0], 1) == 0)
    np.testing.assert_allclose(weights.sum(-1), 1, rtol=1e-6)
    out, scores = layers.MultiHeadAttention(2, 3)(Q, Q, use_causal_mask=True,
                                                  return_attention_scores=True)
    assert np.all(np.triu(scores[0, 0], 1) == 0)


@pytest.mark.parametrize("make, message", [
    (lambda: layers.MultiHeadAttention(0, 3), "num_heads"),
    (lambda: layers.MultiHeadAttention(2, 3, dropout=1.5), "dropout"),
    (lambda: layers.MultiHeadAttention(2, 3, output_shape=(2, 3)), "output_shape"),
    (lambda: layers.Attention(score_mode="add"), "score_mode"),
])
def test_bad_constructor_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_bad_calls_raise_keras_errors():
    with pytest.raises(ValueError, match="attention_axes"):
        layers.MultiHeadAttention(2, 3, attention_axes=(2,))(Q, V)
    with pytest.raises(ValueError, match="list of inputs"):
        layers.Attention()(Q)
    with pytest.raises(ValueError, match="unsupported call arguments"):
        layers.MultiHeadAttention(2, 3)(Q, V, bogus=True)
    with pytest.raises(TypeError, match="at most 4 positional"):
        layers.MultiHeadAttention(2, 3)(Q, V, K, ATTENTION_MASK, Q)


def test_symbolic_calls_record_the_tensors_and_keywords():
    q = minikeras.Input((4, 5))
    v = minikeras.Input((3, 6))
    m = minikeras.Input((4, 3), dtype="bool")
    layer = layers.MultiHeadAttention(2, 3, name="mha")
    out, scores = layer(q, v, attention_mask=m, return_attention_scores=True)
    assert out.shape == (None, 4, 5) and scores.shape == (None, 2, 4, 3)
    node = layer._inbound_nodes[0]
    assert node.tensor_names == ("query", "value", "attention_mask")
    args, kwargs = node.call_arguments()
    assert args == [q, v] and kwargs == {"attention_mask": m, "return_attention_scores": True}
    model = minikeras.Model([q, v, m], [out, scores])
    arrays = [Q.astype("float32"), V.astype("float32"), ATTENTION_MASK]
    got = model.predict(arrays, verbose=0)
    want = layer(*arrays[:2], attention_mask=ATTENTION_MASK, return_attention_scores=True)
    np.testing.assert_allclose(got[0], want[0], rtol=1e-6)
    np.testing.assert_allclose(got[1], want[1], rtol=1e-6)
    with pytest.raises(ValueError, match="masks come from the tensors"):
        layers.Attention()([q, q], mask=[None, None])


@pytest.mark.parametrize("make", [
    lambda: layers.MultiHeadAttention(2, 3, value_dim=4, dropout=0.1, output_shape=6,
                                      use_bias=False, kernel_regularizer="l2", seed=1),
    lambda: layers.Attention(use_scale=True, score_mode="concat", dropout=0.2),
    lambda: layers.AdditiveAttention(use_scale=False),
])
def test_config_round_trip(make):
    layer = make()
    config = layer.get_config()
    assert type(layer).from_config(config).get_config() == config


def test_clone_and_summary_of_a_model_calling_mha_with_keywords(capsys):
    q = minikeras.Input((4, 5))
    m = minikeras.Input((4, 4), dtype="bool")
    out = layers.MultiHeadAttention(2, 3)(q, q, attention_mask=m, use_causal_mask=True)
    model = minikeras.Model([q, m], out)
    clone = minikeras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    data = [Q.astype("float32"), np.ones((2, 4, 4), dtype=bool)]
    np.testing.assert_allclose(clone.predict(data, verbose=0), model.predict(data, verbose=0),
                               rtol=1e-6)
    assert clone.layers[-1]._inbound_nodes[0].call_kwargs == {"use_causal_mask": True}
    model.summary()
    printed = capsys.readouterr().out
    # 3 projections of (5 * 2 * 3 + 2 * 3), the output (2 * 3 * 5 + 5)
    assert "(MultiHeadAttentio" in printed and "Total params: 143" in printed
