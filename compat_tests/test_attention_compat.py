"""MultiHeadAttention, Attention and AdditiveAttention against Keras: outputs with the same
weights for every option, configs and weight names, training epoch by epoch, `.keras` files
both ways."""

import json
import zipfile

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

RNG = np.random.default_rng(0)
Q = RNG.normal(size=(3, 5, 8)).astype("float32")
V = RNG.normal(size=(3, 6, 7)).astype("float32")
K = RNG.normal(size=(3, 6, 4)).astype("float32")
ATTENTION_MASK = RNG.random((3, 5, 6)) > 0.3
Q_MASK = np.array([[1, 1, 1, 1, 0], [1, 1, 1, 0, 0], [1] * 5], dtype=bool)
V_MASK = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 0, 0, 0, 0], [1] * 6], dtype=bool)


def paths(layer):
    """The weights' paths without the layer's own (counter-numbered) name."""
    return [w.path.split("/", 1)[1] for w in layer.weights]


def assert_outputs_close(ref, ours):
    ref = ref if isinstance(ref, (list, tuple)) else [ref]
    ours = ours if isinstance(ours, (list, tuple)) else [ours]
    assert len(ref) == len(ours)
    for a, b in zip(ref, ours):
        np.testing.assert_allclose(b, np.asarray(a), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("kwargs, call", [
    ({}, {}),
    ({"value_dim": 3, "output_shape": 5}, {}),
    ({"use_bias": False}, {"key": K}),
    ({}, {"attention_mask": ATTENTION_MASK, "return_attention_scores": True}),
    ({}, {"use_causal_mask": True, "return_attention_scores": True}),
    ({}, {"key": K, "query_mask": Q_MASK, "value_mask": V_MASK, "key_mask": V_MASK,
          "attention_mask": ATTENTION_MASK, "use_causal_mask": True}),
])
def test_multi_head_attention_matches_keras(kwargs, call):
    ref, ours = (m.layers.MultiHeadAttention(num_heads=2, key_dim=4, **kwargs)
                 for m in (keras, minikeras))
    ref(Q, V, **call)
    ours(Q, V, **call)
    assert paths(ours) == paths(ref)
    assert [w.shape for w in ours.weights] == [tuple(w.shape) for w in ref.weights]
    ours.set_weights(ref.get_weights())
    assert_outputs_close(ref(Q, V, **call), ours(Q, V, **call))
    assert ours.get_config().keys() == ref.get_config().keys()


@pytest.mark.parametrize("make", [
    lambda m: m.layers.Attention(),
    lambda m: m.layers.Attention(use_scale=True),
    lambda m: m.layers.Attention(score_mode="concat", use_scale=True),
    lambda m: m.layers.AdditiveAttention(),
    lambda m: m.layers.AdditiveAttention(use_scale=False),
])
@pytest.mark.parametrize("inputs, call", [
    ([Q[..., :4], K], {}),
    ([Q[..., :4], V, K], {"mask": [Q_MASK, V_MASK], "return_attention_scores": True}),
    ([Q[..., :4], K], {"use_causal_mask": True, "mask": [None, V_MASK]}),
])
def test_attention_layers_match_keras(make, inputs, call):
    ref, ours = make(keras), make(minikeras)
    ref(inputs, **call)
    ours(inputs, **call)
    assert paths(ours) == paths(ref)
    ours.set_weights([w + 0.3 for w in ref.get_weights()])
    ref.set_weights([w + 0.3 for w in ref.get_weights()])
    assert_outputs_close(ref(inputs, **call), ours(inputs, **call))
    assert ours.get_config().keys() == ref.get_config().keys()


def masked_attention_model(k):
    """Embedding(mask_zero) masks flowing into both attention layers, scores as an output.
    (Keras's MultiHeadAttention removes the mask from the tensors it is called on while the
    model runs, so a later layer using `x` too would see no mask there; this model avoids
    that quirk, which minikeras does not copy.)"""
    ids = k.Input((6,), dtype="int32")
    x = k.layers.Embedding(10, 8, mask_zero=True)(ids)
    attended, scores = k.layers.MultiHeadAttention(2, 4)(x, x, return_attention_scores=True,
                                                         use_causal_mask=True)
    x = k.layers.Attention()([k.layers.Dense(8)(attended), attended])
    return k.Model(ids, [k.layers.GlobalAveragePooling1D()(x), scores])


def test_masks_from_the_tensors_reach_the_attention_layers_as_in_keras():
    ref, ours = build_pair(masked_attention_model)
    ids = np.array([[3, 4, 5, 0, 0, 0], [1, 2, 3, 4, 5, 6], [7, 0, 0, 0, 0, 0]])
    assert_outputs_close(ref.predict(ids, verbose=0), ours.predict(ids, verbose=0))


# ------------------------------------------------------------------ training


def transformer_block(k):
    """keras.io's transformer block without dropout, on token + position embeddings."""
    tokens = k.Input((8,), dtype="int32")
    positions = k.Input((8,), dtype="int32")
    x = k.layers.Add()([k.layers.Embedding(12, 8)(tokens), k.layers.Embedding(8, 8)(positions)])
    attention = k.layers.MultiHeadAttention(num_heads=2, key_dim=8)(x, x)
    x = k.layers.LayerNormalization(epsilon=1e-6)(k.layers.Add()([x, attention]))
    ff = k.layers.Dense(16, activation="relu")(x)
    ff = k.layers.Dense(8)(ff)
    x = k.layers.LayerNormalization(epsilon=1e-6)(k.layers.Add()([x, ff]))
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model([tokens, positions], k.layers.Dense(2, activation="softmax")(x))


def transformer_data():
    rng = np.random.default_rng(1)
    tokens = rng.integers(0, 12, size=(96, 8)).astype("int32")
    positions = np.tile(np.arange(8, dtype="int32"), (96, 1))
    labels = (tokens[:, 0] > tokens[:, -1]).astype("int32")
    return [tokens, positions], labels


@pytest.fixture(scope="module")
def transformer_pair():
    return build_pair(transformer_block)


def test_transformer_block_trains_like_keras(transformer_pair):
    ref, ours = transformer_pair
    x, y = transformer_data()
    # SGD: with Adam, Keras squares an embedding's gradient per occurrence of an id (the
    # known Embedding difference in README.md), which this model's repeated ids would show.
    histories = fit_both(ref, ours, x, y, {
        "optimizer": per_module(lambda m: m.optimizers.SGD(0.1, momentum=0.9)),
        "loss": "sparse_categorical_crossentropy", "metrics": ["accuracy"]},
        epochs=4, batch_size=16, validation_split=0.25)
    assert_histories_close(*histories)
    # It learned something: the loss went down.
    assert histories[1]["loss"][-1] < histories[1]["loss"][0]


def projected_block(k):
    """The same block on float sequences (a Dense projection instead of the embeddings), so
    that it can train with Adam like Keras."""
    inputs = k.Input((6, 3))
    x = k.layers.Dense(8)(inputs)
    attention = k.layers.MultiHeadAttention(num_heads=2, key_dim=4, value_dim=3)(
        x, x, use_causal_mask=True)
    x = k.layers.LayerNormalization()(k.layers.Add()([x, attention]))
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model(inputs, k.layers.Dense(1)(x))


def test_projected_block_trains_with_adam_like_keras():
    ref, ours = build_pair(projected_block)
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 6, 3)).astype("float32")
    y = (x[:, :, 0].cumsum(axis=1)[:, -1] * 0.3).astype("float32")
    histories = fit_both(ref, ours, x, y, {"optimizer": "adam", "loss": "mse"},
                         epochs=4, batch_size=16)
    assert_histories_close(*histories)


def attention_model(k):
    query = k.Input((5, 4))
    value = k.Input((6, 4))
    q = k.layers.Dense(4, activation="tanh")(query)
    attended = k.layers.Attention(use_scale=True)([q, value], use_causal_mask=False)
    additive = k.layers.AdditiveAttention()([q, value, value])
    x = k.layers.Concatenate()([attended, additive])
    x = k.layers.GlobalAveragePooling1D()(x)
    return k.Model([query, value], k.layers.Dense(1)(x))


def test_model_with_attention_trains_like_keras():
    ref, ours = build_pair(attention_model)
    rng = np.random.default_rng(2)
    x = [rng.normal(size=(64, 5, 4)).astype("float32"),
         rng.normal(size=(64, 6, 4)).astype("float32")]
    y = (x[0].sum(axis=(1, 2)) * 0.2 + x[1][:, 0, 0]).astype("float32")
    histories = fit_both(ref, ours, x, y, {"optimizer": "adam", "loss": "mse"},
                         epochs=4, batch_size=16)
    assert_histories_close(*histories)


# --------------------------------------------------------------------- files


def test_transformer_block_keras_files_both_ways(transformer_pair, tmp_path):
    ref, ours = transformer_pair
    x, _ = transformer_data()
    ours.save(tmp_path / "ours.keras")
    ref.save(tmp_path / "ref.keras")
    from_ours = keras.saving.load_model(tmp_path / "ours.keras")
    from_ref = minikeras.saving.load_model(tmp_path / "ref.keras")
    want = ours.predict(x, verbose=0)
    np.testing.assert_allclose(np.asarray(from_ours.predict(x, verbose=0)), want, rtol=1e-5)
    np.testing.assert_allclose(from_ref.predict(x, verbose=0),
                               np.asarray(ref.predict(x, verbose=0)), rtol=1e-5)
    with zipfile.ZipFile(tmp_path / "ours.keras") as archive:
        config = json.loads(archive.read("config.json"))
    [entry] = [e for e in config["config"]["layers"] if e["class_name"] == "MultiHeadAttention"]
    assert len(entry["inbound_nodes"][0]["args"]) == 2       # mha(x, x), as Keras writes it


def test_keyword_tensors_and_scores_survive_a_keras_file(tmp_path):
    q = keras.Input((5, 8))
    v = keras.Input((6, 8))
    m = keras.Input((5, 6), dtype="bool")
    out, scores = keras.layers.MultiHeadAttention(2, 4)(q, v, attention_mask=m,
                                                        return_attention_scores=True)
    ref = keras.Model([q, v, m], [out, scores])
    ref.save(tmp_path / "ref.keras")
    ours = minikeras.saving.load_model(tmp_path / "ref.keras")
    data = [Q, np.concatenate([V, V[..., :1]], axis=-1), ATTENTION_MASK]
    assert_outputs_close(ref.predict(data, verbose=0), ours.predict(data, verbose=0))
    ours.save(tmp_path / "ours.keras")
    back = keras.saving.load_model(tmp_path / "ours.keras")
    assert_outputs_close(back.predict(data, verbose=0), ours.predict(data, verbose=0))
