"""Recurrent and sequence layers against Keras (TensorFlow backend): outputs and gradients
from the same weights, config keys, training histories epoch by epoch, and `.keras` files
both ways."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

RNG = np.random.default_rng(0)
X = RNG.normal(size=(3, 5, 4)).astype("float32")
MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=bool)


def _as_list(out):
    return list(out) if isinstance(out, (list, tuple)) else [out]


def _keras_outputs_and_gradients(layer, inputs, call_kwargs, seed=1):
    """Keras's outputs and d(sum(out * R))/d(inputs, weights) for fixed random R."""
    tensors = [tf.constant(a) for a in inputs]
    with tf.GradientTape() as tape:
        tape.watch(tensors)
        if len(tensors) > 1:             # [x, *initial_states]
            call_kwargs = dict(call_kwargs, initial_state=tensors[1:])
        outputs = _as_list(layer(tensors[0], **call_kwargs))
        rng = np.random.default_rng(seed)
        weights = [rng.normal(size=o.shape).astype("float32") for o in outputs]
        loss = tf.add_n([tf.reduce_sum(o * w) for o, w in zip(outputs, weights)])
    grads = tape.gradient(loss, tensors + list(layer.trainable_variables))
    return [np.asarray(o) for o in outputs], weights, grads


def compare_layer(make, inputs, mask=None, **call_kwargs):
    """make(k) builds the layer with module k. Checks outputs, input gradients and weight
    gradients of minikeras's layer against Keras's, from Keras's weights."""
    inputs = inputs if isinstance(inputs, list) else [inputs]
    reference, ours = make(keras), make(minikeras)
    keras_kwargs = dict(call_kwargs)
    if mask is not None:
        keras_kwargs["mask"] = mask
    expected, weights, keras_grads = _keras_outputs_and_gradients(reference, inputs,
                                                                   keras_kwargs)
    ours._maybe_build(inputs[0].shape)
    ours.set_weights([np.asarray(w) for w in reference.get_weights()])
    forward_kwargs = {"mask": mask} if mask is not None else {}
    x = inputs if len(inputs) > 1 else inputs[0]
    out, cache = ours.forward(x, **forward_kwargs, **call_kwargs)
    outs = _as_list(out)
    assert len(outs) == len(expected)
    for a, b in zip(outs, expected):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    dout = weights if isinstance(out, list) else weights[0]
    dx, grads = ours.backward(dout, cache)
    dxs = _as_list(dx) if dx is not None else []
    for ours_grad, keras_grad in zip(dxs + grads, keras_grads):
        if keras_grad is None:
            continue
        keras_grad = np.asarray(tf.convert_to_tensor(keras_grad))
        np.testing.assert_allclose(ours_grad, keras_grad, rtol=2e-4, atol=2e-5)
    assert len(grads) == len(reference.trainable_variables)
    return reference, ours


RNN_CASES = [
    {},
    {"return_sequences": True},
    {"go_backwards": True},
    {"go_backwards": True, "return_sequences": True, "return_state": True},
    {"return_state": True},
    {"zero_output_for_mask": True, "return_sequences": True},
    {"activation": "relu", "use_bias": False},
]


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
@pytest.mark.parametrize("options", RNN_CASES, ids=lambda o: "-".join(o) or "default")
@pytest.mark.parametrize("masked", [False, True], ids=["nomask", "mask"])
def test_rnn_outputs_and_gradients_match_keras(name, options, masked):
    compare_layer(lambda k: getattr(k.layers, name)(3, **options), X,
                  mask=MASK if masked else None)


@pytest.mark.parametrize("make", [
    lambda k: k.layers.LSTM(3, recurrent_activation="hard_sigmoid", unit_forget_bias=False,
                            bias_initializer="glorot_uniform", return_sequences=True),
    lambda k: k.layers.GRU(3, reset_after=False, bias_initializer="glorot_uniform",
                           return_sequences=True),
    lambda k: k.layers.GRU(3, bias_initializer="glorot_uniform", activation="sigmoid",
                           recurrent_activation="tanh"),
], ids=["lstm_hard_sigmoid", "gru_reset_before", "gru_swapped_activations"])
def test_rnn_variants_match_keras(make):
    compare_layer(make, X, mask=MASK)


@pytest.mark.parametrize("name", ["SimpleRNN", "LSTM", "GRU"])
def test_initial_state_matches_keras(name):
    states = {"SimpleRNN": 1, "LSTM": 2, "GRU": 1}[name]
    initial = [RNG.normal(size=(3, 3)).astype("float32") for _ in range(states)]
    compare_layer(lambda k: getattr(k.layers, name)(3, return_state=True), [X] + initial)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_matches_keras(merge_mode, return_sequences):
    compare_layer(lambda k: k.layers.Bidirectional(
        k.layers.LSTM(3, return_sequences=return_sequences), merge_mode=merge_mode),
        X, mask=MASK)


def test_bidirectional_gru_return_state_matches_keras():
    compare_layer(lambda k: k.layers.Bidirectional(k.layers.GRU(2, return_state=True)), X)


@pytest.mark.parametrize("make, x", [
    (lambda k: k.layers.TimeDistributed(k.layers.Dense(3, activation="tanh")), X),
    (lambda k: k.layers.RepeatVector(4), X[:, 0]),
    (lambda k: k.layers.Permute((2, 1)), X),
    (lambda k: k.layers.Masking(mask_value=X[0, 1, 0]), X * (np.arange(4) == 0)),
], ids=["time_distributed", "repeat_vector", "permute", "masking"])
def test_sequence_layers_match_keras(make, x):
    compare_layer(make, x)


def test_embedding_matches_keras():
    ids = np.array([[1, 0, 4, 9], [3, 3, 0, 2]])
    reference, ours = compare_layer(lambda k: k.layers.Embedding(10, 3, mask_zero=True), ids)
    np.testing.assert_array_equal(ours.compute_mask(ids),
                                  np.asarray(reference.compute_mask(ids)))


def test_masking_mask_matches_keras():
    x = X.copy()
    x[0, 2] = 0.0
    np.testing.assert_array_equal(minikeras.layers.Masking().compute_mask(x),
                                  np.asarray(keras.layers.Masking().compute_mask(x)))


@pytest.mark.parametrize("make", [
    lambda k: k.layers.SimpleRNN(3),
    lambda k: k.layers.LSTM(3, dropout=0.1, recurrent_dropout=0.2),
    lambda k: k.layers.GRU(3, reset_after=False),
    lambda k: k.layers.Embedding(10, 4, mask_zero=True),
    lambda k: k.layers.Bidirectional(k.layers.LSTM(3), merge_mode="ave"),
    lambda k: k.layers.TimeDistributed(k.layers.Dense(3)),
    lambda k: k.layers.RepeatVector(3),
    lambda k: k.layers.Masking(),
    lambda k: k.layers.Permute((2, 1)),
], ids=["simple_rnn", "lstm", "gru", "embedding", "bidirectional", "time_distributed",
        "repeat_vector", "masking", "permute"])
def test_config_keys_match_keras(make):
    ours = set(make(minikeras).get_config())
    theirs = set(make(keras).get_config()) - {"quantization_config", "lora_rank",
                                              "lora_alpha"}
    assert theirs <= ours | {"dtype"}, theirs - ours


# ------------------------------------------------------------------ training


T, FEATURES, N = 6, 3, 48


def _sequences(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(N, T, FEATURES)).astype("float32")
    y = (x[:, :, 0].sum(axis=1, keepdims=True) > 0).astype("float32")
    return x, y


def _ids(seed=1):
    rng = np.random.default_rng(seed)
    x = rng.integers(1, 20, size=(N, T))
    y = (x[:, :3].mean(axis=1, keepdims=True) > 10).astype("float32")
    return x, y


def _padded_ids(seed=2):
    """Id sequences of lengths 2..T padded with 0, before the ids (pre) or after (post)."""
    x, y = _ids(seed)
    rng = np.random.default_rng(seed)
    lengths = rng.integers(2, T + 1, size=N)
    steps = np.arange(T)
    pre = steps[None, :] >= (T - lengths)[:, None]
    post = steps[None, :] < lengths[:, None]
    keep = np.where((np.arange(N) % 2 == 0)[:, None], pre, post)
    return x * keep, y


def _padded_sequences(seed=3):
    """Float sequences with zero steps at the end; y per step (N, T, 1)."""
    x, _ = _sequences(seed)
    lengths = np.random.default_rng(seed).integers(2, T + 1, size=N)
    x = x * (np.arange(T)[None, :, None] < lengths[:, None, None])
    y = (np.cumsum(x[:, :, :1], axis=1) > 0).astype("float32")
    return x, y


def _with_input(k, shape, layers):
    return k.Sequential([k.Input(shape)] + layers)


MODELS = {
    "embedding_flatten": (lambda k: _with_input(k, (T,), [
        k.layers.Embedding(20, 4), k.layers.Flatten(),
        k.layers.Dense(1, activation="sigmoid")]), _ids),
    "embedding_lstm": (lambda k: _with_input(k, (T,), [
        k.layers.Embedding(20, 4), k.layers.LSTM(5),
        k.layers.Dense(1, activation="sigmoid")]), _ids),
    "stacked_lstm": (lambda k: _with_input(k, (T, FEATURES), [
        k.layers.LSTM(5, return_sequences=True), k.layers.LSTM(4),
        k.layers.Dense(1, activation="sigmoid")]), _sequences),
    "bidirectional_lstm": (lambda k: _with_input(k, (T, FEATURES), [
        k.layers.Bidirectional(k.layers.LSTM(4)),
        k.layers.Dense(1, activation="sigmoid")]), _sequences),
    "lstm_time_distributed": (lambda k: _with_input(k, (T, FEATURES), [
        k.layers.LSTM(4, return_sequences=True),
        k.layers.TimeDistributed(k.layers.Dense(2, activation="tanh")), k.layers.Flatten(),
        k.layers.Dense(1, activation="sigmoid")]), _sequences),
    "embedding_mask_zero_lstm": (lambda k: _with_input(k, (T,), [
        k.layers.Embedding(20, 4, mask_zero=True), k.layers.LSTM(5),
        k.layers.Dense(1, activation="sigmoid")]), _padded_ids),
    "embedding_mask_zero_bidirectional_gru_pooling": (lambda k: _with_input(k, (T,), [
        k.layers.Embedding(20, 4, mask_zero=True),
        k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True)),
        k.layers.GlobalAveragePooling1D(),
        k.layers.Dense(1, activation="sigmoid")]), _padded_ids),
    "embedding_global_average_pooling": (lambda k: _with_input(k, (T,), [
        k.layers.Embedding(20, 4), k.layers.GlobalAveragePooling1D(),
        k.layers.Dense(1, activation="sigmoid")]), _ids),
    "masking_simple_rnn_per_step": (lambda k: _with_input(k, (T, FEATURES), [
        k.layers.Masking(), k.layers.SimpleRNN(4, return_sequences=True),
        k.layers.TimeDistributed(k.layers.Dense(1, activation="sigmoid"))]),
        _padded_sequences),
}
for _name in ["SimpleRNN", "LSTM", "GRU"]:
    for _sequences_on in (False, True):
        MODELS[f"{_name.lower()}_sequences_{'on' if _sequences_on else 'off'}"] = (
            lambda k, name=_name, on=_sequences_on: _with_input(k, (T, FEATURES), [
                getattr(k.layers, name)(5, return_sequences=on)]
                + ([k.layers.Flatten()] if on else [])
                + [k.layers.Dense(1, activation="sigmoid")]),
            _sequences)


@pytest.fixture(scope="module")
def histories():
    """Each model trained once on both engines (shared by the comparisons below)."""
    results = {}
    for name, (build, data) in MODELS.items():
        x, y = data()
        reference, ours = build_pair(build)
        # Embedding models too: their ids repeat within batches, and Adam sees the
        # embedding's gradient one row per occurrence, as in Keras (test_sparse_grads_compat).
        optimizer = per_module(lambda k: k.optimizers.Adam(0.01))
        compile_kwargs = {"optimizer": optimizer, "loss": "binary_crossentropy",
                          "metrics": ["accuracy"]}
        results[name] = fit_both(reference, ours, x, y, compile_kwargs, epochs=3,
                                 batch_size=16)
    return results


@pytest.mark.parametrize("name", sorted(MODELS))
def test_training_matches_keras(histories, name):
    ref, ours = histories[name]
    assert_histories_close(ref, ours)


def test_time_distributed_regression_matches_keras():
    x, _ = _sequences(3)
    y = np.cumsum(x[:, :, :2], axis=1) / 3

    def build(k):
        return _with_input(k, (T, FEATURES), [k.layers.GRU(4, return_sequences=True),
                                              k.layers.TimeDistributed(k.layers.Dense(2))])

    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.RMSprop(0.01)),
                      "loss": "mse"}
    ref, our = fit_both(reference, ours, x, y, compile_kwargs, epochs=3, batch_size=16)
    assert_histories_close(ref, our)


def test_encoder_decoder_with_states_matches_keras():
    """The functional API: an encoder's final states start the decoder (initial_state)."""
    x, _ = _sequences(4)
    decoder_x = x[:, ::-1, :2].copy()
    y = np.tanh(np.cumsum(decoder_x, axis=1))

    def build(k):
        encoder_in = k.Input((T, FEATURES))
        decoder_in = k.Input((T, 2))
        _, h, c = k.layers.LSTM(4, return_state=True)(encoder_in)
        decoded = k.layers.LSTM(4, return_sequences=True)(decoder_in, initial_state=[h, c])
        out = k.layers.TimeDistributed(k.layers.Dense(2))(decoded)
        return k.Model([encoder_in, decoder_in], out)

    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.Adam(0.01)),
                      "loss": "mse"}
    ref, our = fit_both(reference, ours, [x, decoder_x], y, compile_kwargs, epochs=3,
                        batch_size=16)
    assert_histories_close(ref, our)


def test_stateful_lstm_matches_keras():
    x, y = _sequences(5)

    def build(k):
        return k.Sequential([k.Input(batch_shape=(16, T, FEATURES)),
                             k.layers.LSTM(4, stateful=True),
                             k.layers.Dense(1, activation="sigmoid")])

    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.Adam(0.01)),
                      "loss": "binary_crossentropy"}
    ref, our = fit_both(reference, ours, x, y, compile_kwargs, epochs=3, batch_size=16)
    assert_histories_close(ref, our)
    np.testing.assert_allclose(ours.predict(x[:16], verbose=0),
                               reference.predict(x[:16], verbose=0), rtol=1e-4, atol=1e-6)
    reference.layers[0].reset_states()
    ours.layers[0].reset_states()
    np.testing.assert_allclose(ours.predict(x[:16], verbose=0),
                               reference.predict(x[:16], verbose=0), rtol=1e-4, atol=1e-6)


# ------------------------------------------------------------------- files


def _lstm_model(k):
    return _with_input(k, (T, FEATURES), [k.layers.LSTM(5, return_sequences=True),
                                          k.layers.LSTM(3),
                                          k.layers.Dense(1, activation="sigmoid")])


def test_lstm_model_files_load_across_engines(tmp_path):
    x, y = _sequences()
    reference, ours = build_pair(_lstm_model)
    for model, module in ((reference, keras), (ours, minikeras)):
        model.compile(optimizer=module.optimizers.Adam(0.01), loss="binary_crossentropy")
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    reference.save(tmp_path / "keras_lstm.keras")
    ours.save(tmp_path / "minikeras_lstm.keras")

    loaded_in_ours = minikeras.models.load_model(tmp_path / "keras_lstm.keras")
    np.testing.assert_allclose(loaded_in_ours.predict(x, verbose=0),
                               reference.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    loaded_in_keras = keras.models.load_model(tmp_path / "minikeras_lstm.keras")
    np.testing.assert_allclose(np.asarray(loaded_in_keras.predict(x, verbose=0)),
                               ours.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    # Adam's moments travel too: one more epoch from each loaded file agrees with the
    # model that kept training in its own engine.
    for model in (loaded_in_ours, reference, loaded_in_keras, ours):
        model.fit(x, y, epochs=1, batch_size=16, verbose=0, shuffle=False)
    np.testing.assert_allclose(loaded_in_ours.predict(x, verbose=0),
                               reference.predict(x, verbose=0), rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(np.asarray(loaded_in_keras.predict(x, verbose=0)),
                               ours.predict(x, verbose=0), rtol=1e-4, atol=1e-6)


def test_bidirectional_and_time_distributed_files_load_in_keras(tmp_path):
    def build(k):
        return _with_input(k, (T, FEATURES), [
            k.layers.Bidirectional(k.layers.GRU(3, return_sequences=True)),
            k.layers.TimeDistributed(k.layers.Dense(2)), k.layers.Permute((2, 1)),
            k.layers.SimpleRNN(2)])

    x, _ = _sequences()
    reference, ours = build_pair(build)
    ours.save(tmp_path / "ours.keras")
    loaded = keras.models.load_model(tmp_path / "ours.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               reference.predict(x, verbose=0), rtol=1e-5, atol=1e-6)
    reference.save(tmp_path / "theirs.keras")
    back = minikeras.models.load_model(tmp_path / "theirs.keras")
    np.testing.assert_allclose(back.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
