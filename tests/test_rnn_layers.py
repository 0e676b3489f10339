"""Recurrent and sequence layers: float64 finite-difference gradient checks (through time,
masks, dropout, states), the masking rules, bad input, and get_config round trips."""

import numpy as np
import pytest
from gradcheck import check_gradient, check_layer

from minikeras import layers

RNN_CLASSES = [layers.SimpleRNN, layers.LSTM, layers.GRU]
# Two samples with padding in different places; a third with none.
MASK = np.array([[1, 1, 0, 1, 0], [0, 1, 1, 1, 1], [1, 1, 1, 1, 1]], dtype=bool)


def _x(shape=(3, 5, 4), seed=0):
    return np.random.default_rng(seed).normal(size=shape)


def _layer_with_mask(layer, mask):
    """A view of `layer` whose forward always gets `mask` (check_layer calls forward(x))."""
    class WithMask:
        def __init__(self):
            self.__dict__["_inner"] = layer

        def __getattr__(self, name):
            return getattr(layer, name)

        def forward(self, x, training=False):
            return layer.forward(x, training=training, mask=mask)

    return WithMask()


@pytest.mark.parametrize("cls", RNN_CLASSES)
@pytest.mark.parametrize("return_sequences", [False, True])
@pytest.mark.parametrize("go_backwards", [False, True])
@pytest.mark.parametrize("masked", [False, True])
def test_rnn_gradients_through_time_and_masks(cls, return_sequences, go_backwards, masked):
    layer = cls(3, return_sequences=return_sequences, go_backwards=go_backwards,
                dtype="float64", bias_initializer="glorot_uniform")
    layer._maybe_build((3, 5, 4))
    checked = _layer_with_mask(layer, MASK) if masked else layer
    check_layer(checked, _x())


@pytest.mark.parametrize("cls", RNN_CLASSES)
def test_rnn_gradients_with_zero_output_for_mask(cls):
    layer = cls(3, return_sequences=True, zero_output_for_mask=True, dtype="float64")
    layer._maybe_build((3, 5, 4))
    check_layer(_layer_with_mask(layer, MASK), _x())


def test_gru_reset_before_gradients():
    layer = layers.GRU(3, reset_after=False, return_sequences=True, dtype="float64",
                       bias_initializer="glorot_uniform")
    layer._maybe_build((3, 5, 4))
    check_layer(_layer_with_mask(layer, MASK), _x())


@pytest.mark.parametrize("cls", RNN_CLASSES)
@pytest.mark.parametrize("rates", [(0.3, 0.0), (0.3, 0.4), (0.0, 0.4)])
def test_rnn_gradients_with_dropout(cls, rates):
    dropout, recurrent_dropout = rates
    layer = cls(3, dropout=dropout, recurrent_dropout=recurrent_dropout,
                return_sequences=True, dtype="float64")
    layer._maybe_build((3, 5, 4))

    def same_masks():
        layer._rng = np.random.default_rng(7)

    check_layer(layer, _x(), training=True, before_forward=same_masks)


def test_gru_reset_before_gradients_with_recurrent_dropout():
    layer = layers.GRU(3, reset_after=False, dropout=0.2, recurrent_dropout=0.3,
                       dtype="float64")
    layer._maybe_build((3, 5, 4))

    def same_masks():
        layer._rng = np.random.default_rng(3)

    check_layer(layer, _x(), training=True, before_forward=same_masks)


def test_dropout_masks_are_per_sample_and_feature_and_only_in_training():
    layer = layers.SimpleRNN(4, dropout=0.5, seed=1, return_sequences=True)
    x = np.ones((2, 6, 5), np.float32)
    assert np.array_equal(layer(x), layer(x))             # inference: no dropout
    _, cache = layer.forward(x, training=True)
    input_masks = cache[3]
    assert input_masks.shape == (1, 2, 5)                  # one mask for all steps
    assert set(np.unique(input_masks)) <= {0.0, 2.0}
    lstm = layers.LSTM(2, recurrent_dropout=0.5, dropout=0.5)
    _, cache = lstm.forward(x, training=True)
    assert cache[3].shape == (4, 2, 5) and cache[4].shape == (4, 2, 2)   # per gate


@pytest.mark.parametrize("cls", RNN_CLASSES)
def test_initial_state_and_return_state_gradients(cls):
    layer = cls(3, return_state=True, return_sequences=True, dtype="float64")
    layer._maybe_build((2, 4, 3))
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2, 4, 3))
    states = [rng.normal(size=(2, 3)) for _ in range(layer.state_count)]
    outputs, cache = layer.forward([x] + states, mask=MASK[:2, :4])
    weights = [rng.normal(size=np.shape(o)) for o in outputs]
    dinputs, _ = layer.backward(weights, cache)
    assert len(dinputs) == 1 + layer.state_count

    def loss(_):
        outs = layer.forward([x] + states, mask=MASK[:2, :4])[0]
        return sum(np.sum(o * w) for o, w in zip(outs, weights))

    for array, grad in zip([x] + states, dinputs):
        check_gradient(loss, array, grad)


@pytest.mark.parametrize("merge_mode", ["concat", "sum", "mul", "ave", None])
@pytest.mark.parametrize("return_sequences", [False, True])
def test_bidirectional_gradients(merge_mode, return_sequences):
    layer = layers.Bidirectional(
        layers.LSTM(2, return_sequences=return_sequences, dtype="float64",
                    bias_initializer="glorot_uniform"),
        merge_mode=merge_mode, dtype="float64")
    layer._maybe_build((3, 5, 4))
    x = _x()
    out, cache = layer.forward(x, mask=MASK)
    outs = out if isinstance(out, list) else [out]
    rng = np.random.default_rng(2)
    weights = [rng.normal(size=o.shape) for o in outs]
    dx, grads = layer.backward(weights if merge_mode is None else weights[0], cache)

    def loss(_):
        result = layer.forward(x, mask=MASK)[0]
        result = result if isinstance(result, list) else [result]
        return sum(np.sum(o * w) for o, w in zip(result, weights))

    check_gradient(loss, x, dx)
    assert len(grads) == 6
    for weight, grad in zip(layer.trainable_weights, grads):
        check_gradient(loss, weight.value, grad, name=weight.path)


def test_bidirectional_return_state_gradients():
    layer = layers.Bidirectional(layers.GRU(2, return_state=True, dtype="float64"),
                                 dtype="float64")
    layer._maybe_build((2, 4, 3))
    rng = np.random.default_rng(4)
    x = rng.normal(size=(2, 4, 3))
    outs, cache = layer.forward(x)
    assert [o.shape for o in outs] == [(2, 4), (2, 2), (2, 2)]
    weights = [rng.normal(size=o.shape) for o in outs]
    dx, _ = layer.backward(weights, cache)
    check_gradient(lambda _: sum(np.sum(o * w) for o, w in
                                 zip(layer.forward(x)[0], weights)), x, dx)


def test_embedding_gradient_sums_rows_per_id():
    layer = layers.Embedding(7, 3, dtype="float64")
    ids = np.array([[1, 2, 1, 0], [6, 1, 2, 2]])
    layer._maybe_build(ids.shape)
    out, cache = layer.forward(ids)
    r = np.random.default_rng(0).normal(size=out.shape)
    dx, (sparse,) = layer.backward(r, cache)
    assert dx is None
    # One row per occurrence, in the order of the ids (Keras's tf.IndexedSlices).
    np.testing.assert_array_equal(sparse.indices, ids.reshape(-1))
    np.testing.assert_array_equal(sparse.values, r.reshape(-1, 3))
    dembeddings = sparse.dense()
    check_gradient(lambda _: np.sum(layer.forward(ids)[0] * r), layer.embeddings.value,
                   dembeddings)
    plain = np.zeros_like(dembeddings)
    np.add.at(plain, ids.reshape(-1), r.reshape(-1, 3))       # the plain rule
    np.testing.assert_allclose(dembeddings, plain, rtol=1e-12)
    assert np.all(dembeddings[[3, 4, 5]] == 0)


def test_embedding_accepts_whole_number_floats_and_gives_mask():
    layer = layers.Embedding(5, 2, mask_zero=True)
    ids = np.array([[0.0, 3.0, 4.0]])
    np.testing.assert_array_equal(layer(ids), layer(ids.astype(int)))
    np.testing.assert_array_equal(layer.compute_mask(ids), [[False, True, True]])
    assert layers.Embedding(5, 2).compute_mask(ids) is None


@pytest.mark.parametrize("ids, message", [
    (np.array([[1, 5]]), "Received: an id of 5"),
    (np.array([[1, -2]]), "Received: an id of -2"),
    (np.array([[1.5, 2.0]]), "holding 1.5, which is not a whole number"),
    (np.array([["a"]]), "dtype <U1"),
])
def test_embedding_bad_ids(ids, message):
    with pytest.raises(ValueError, match=message):
        layers.Embedding(5, 2)(ids)


def test_time_distributed_dense_gradients():
    layer = layers.TimeDistributed(layers.Dense(3, activation="tanh", dtype="float64"),
                                   dtype="float64")
    check_layer(layer, _x((2, 4, 5)))
    assert layer.compute_output_shape((None, 4, 5)) == (None, 4, 3)


def test_repeat_vector_and_permute_gradients():
    check_layer(layers.RepeatVector(3, dtype="float64"), _x((2, 4)))
    permute = layers.Permute((2, 1), dtype="float64")
    check_layer(permute, _x((2, 4, 3)))
    assert permute(np.zeros((2, 4, 3))).shape == (2, 3, 4)
    check_layer(layers.Permute((3, 1, 2), dtype="float64"), _x((2, 3, 4, 5)))


def test_masking_zeroes_masked_steps_and_their_gradients():
    layer = layers.Masking(mask_value=0.0, dtype="float64")
    x = _x((2, 4, 3))
    check_layer(layer, x)                                     # no step masked
    x[0, 1] = 0.0
    x[1, 3] = 0.0
    out, cache = layer.forward(x)
    np.testing.assert_array_equal(layer.compute_mask(x), [[1, 0, 1, 1], [1, 1, 1, 0]])
    dx, _ = layer.backward(np.ones_like(x), cache)
    assert np.all(dx[0, 1] == 0) and np.all(dx[0, 0] == 1)
    np.testing.assert_array_equal(out, x)


def test_masked_steps_keep_state_and_repeat_output():
    """Keras's rules, on the plain definition: a masked step changes nothing."""
    layer = layers.LSTM(3, return_sequences=True, return_state=True)
    x = _x().astype(np.float32)
    seq, h, c = layer(x, mask=MASK)
    # sample 0: steps 0, 1, 3 are real, so it equals running those three steps alone
    alone, h_alone, c_alone = layer(x[:1, [0, 1, 3]])
    np.testing.assert_allclose(h[0], h_alone[0], rtol=1e-6)
    np.testing.assert_allclose(c[0], c_alone[0], rtol=1e-6)
    np.testing.assert_allclose(seq[0, 2], seq[0, 1])          # repeated output
    np.testing.assert_allclose(seq[1, 0], 0.0)                # nothing before it: zeros
    zeroed = layers.LSTM(3, return_sequences=True, zero_output_for_mask=True)
    zeroed._maybe_build(x.shape)
    zeroed.set_weights(layer.get_weights())
    np.testing.assert_array_equal(zeroed(x, mask=MASK)[0, 2], 0.0)


def test_rnn_compute_mask_and_shapes():
    lstm = layers.LSTM(4, return_sequences=True, return_state=True)
    assert lstm.compute_output_shape((None, 7, 3)) == [(None, 7, 4), (None, 4), (None, 4)]
    mask = lstm.compute_mask(None, MASK)
    assert mask[0] is MASK and mask[1:] == [None, None]
    assert layers.GRU(4).compute_mask(None, MASK) is None
    bi = layers.Bidirectional(layers.SimpleRNN(4, return_sequences=True))
    assert bi.compute_output_shape((None, 7, 3)) == (None, 7, 8)
    assert bi.compute_mask(None, MASK) is MASK


@pytest.mark.parametrize("make, error", [
    (lambda: layers.LSTM(0), "Received: units=0"),
    (lambda: layers.LSTM(3, use_cudnn=True), "Received: use_cudnn=True"),
    (lambda: layers.SimpleRNN(3, dropout="a"), "Received: dropout='a'"),
    (lambda: layers.Bidirectional(layers.LSTM(3), merge_mode="bad"), "Received: bad"),
    (lambda: layers.Bidirectional(layers.Dense(3)), "Received: layer="),
    (lambda: layers.Permute((1, 3)), "Received dims=(1, 3)"),
    (lambda: layers.RepeatVector(0), "Received: n=0"),
])
def test_bad_arguments(make, error):
    with pytest.raises(ValueError, match=error.replace("(", r"\(").replace(")", r"\)")):
        make()


def test_rnn_bad_inputs():
    lstm = layers.LSTM(3)
    with pytest.raises(ValueError, match=r"expected ndim=3, found ndim=2. Full shape "
                                         r"received: \(2, 3\)"):
        lstm(np.zeros((2, 3)))
    lstm(np.zeros((2, 4, 3)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 3"):
        lstm(np.zeros((2, 4, 5)))
    with pytest.raises(ValueError, match=r"expects 2 initial state\(s\)"):
        lstm(np.zeros((2, 4, 3)), initial_state=[np.zeros((2, 3))])
    with pytest.raises(ValueError, match=r"Received: initial_state shapes \[\(2, 3\), \(3, 3\)"):
        lstm(np.zeros((2, 4, 3)), initial_state=[np.zeros((2, 3)), np.zeros((3, 3))])
    with pytest.raises(ValueError, match=r"Received: mask.shape=\(2, 3\)"):
        lstm(np.zeros((2, 4, 3)), mask=np.ones((2, 3)))


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, return_sequences=True, go_backwards=True, dropout=0.1),
    lambda: layers.LSTM(3, unit_forget_bias=False, recurrent_activation="hard_sigmoid"),
    lambda: layers.GRU(3, reset_after=False, return_state=True, seed=3),
    lambda: layers.Embedding(10, 4, mask_zero=True),
    lambda: layers.Bidirectional(layers.LSTM(3, return_sequences=True), merge_mode="sum"),
    lambda: layers.TimeDistributed(layers.Dense(2, activation="relu")),
    lambda: layers.RepeatVector(4),
    lambda: layers.Masking(mask_value=-1.0),
    lambda: layers.Permute((2, 1)),
])
def test_get_config_round_trip(make):
    from minikeras.saving.serialization import deserialize_layer, serialize_layer

    layer = make()
    copy = type(layer).from_config(layer.get_config())
    assert copy.get_config() == layer.get_config()
    again = deserialize_layer(serialize_layer(layer))
    assert type(again) is type(layer)
    assert again.get_config() == layer.get_config()


def test_lstm_unit_forget_bias_and_weight_layout():
    lstm = layers.LSTM(2)
    lstm._maybe_build((None, 3, 5))
    kernel, recurrent, bias = lstm.get_weights()
    assert kernel.shape == (5, 8) and recurrent.shape == (2, 8)
    np.testing.assert_array_equal(bias, [0, 0, 1, 1, 0, 0, 0, 0])
    gru = layers.GRU(2)
    gru._maybe_build((None, 3, 5))
    assert [w.shape for w in gru.get_weights()] == [(5, 6), (2, 6), (2, 6)]
    assert [w.name for w in gru.weights] == ["kernel", "recurrent_kernel", "bias"]
    lstm.trainable = False
    assert lstm.trainable_weights == [] and len(lstm.non_trainable_weights) == 3


@pytest.mark.parametrize("make", [
    lambda: layers.LSTM(3, return_state=True),
    lambda: layers.Bidirectional(layers.GRU(3), merge_mode=None),
])
def test_several_outputs_in_sequential_is_refused_before_anything_changes(make):
    from minikeras import Input, Sequential

    model = Sequential([Input((4, 2)), layers.SimpleRNN(2, return_sequences=True)])
    with pytest.raises(ValueError, match=r"should have a single output tensor.*Received: "
                                         r"layer '.*' \((LSTM, return_state|Bidirectional, "
                                         r"merge_mode)"):
        model.add(make())
    assert len(model.layers) == 1 and model.output_shape == (None, 4, 2)


def test_functional_int_ids_and_mask_reach_the_lstm():
    from minikeras import Input, Model

    ids = np.array([[3, 1, 0, 0, 0], [2, 2, 4, 1, 0]])
    inputs = Input((None,), dtype="int32")
    embedding = layers.Embedding(6, 3, mask_zero=True)
    lstm = layers.LSTM(2)
    model = Model(inputs, lstm(embedding(inputs)))
    expected = lstm(embedding(ids), mask=ids != 0)
    np.testing.assert_allclose(model.predict(ids, verbose=0), expected, rtol=1e-6)
    # padding is ignored: the same ids without it give the same result
    np.testing.assert_allclose(model.predict(ids[:1, :2], verbose=0), expected[:1], rtol=1e-6)


@pytest.mark.parametrize("make", [
    lambda: layers.SimpleRNN(3, return_sequences=True, dtype="float64"),
    lambda: layers.LSTM(3, return_sequences=True, dtype="float64"),
    lambda: layers.GRU(3, return_sequences=True, dtype="float64"),
    lambda: layers.GRU(3, reset_after=False, dtype="float64"),
])
def test_fast_loop_activations_agree_with_the_shared_ones(make, monkeypatch):
    from minikeras.layers import base_rnn

    layer = make()
    x = _x() * 3                            # reach the flat parts of tanh and sigmoid too
    layer._maybe_build(x.shape)
    r = None
    results = []
    for fast in (True, False):
        monkeypatch.setattr(base_rnn, "FAST_ACTIVATIONS", fast)
        out, cache = layer.forward(x, mask=MASK)
        if r is None:
            r = np.random.default_rng(5).normal(size=out.shape)
        results.append((out, *layer.backward(r, cache)))
    (out_fast, dx_fast, grads_fast), (out_plain, dx_plain, grads_plain) = results
    np.testing.assert_allclose(out_fast, out_plain, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx_fast, dx_plain, rtol=1e-10, atol=1e-13)
    for fast, plain in zip(grads_fast, grads_plain):
        np.testing.assert_allclose(fast, plain, rtol=1e-10, atol=1e-13)


@pytest.mark.parametrize("cls", RNN_CLASSES)
def test_stateful_layer_carries_its_states_from_call_to_call(cls):
    x = _x((2, 6, 3)).astype(np.float32)
    stateful = cls(4, stateful=True)
    stateful._maybe_build((2, 6, 3))
    plain = cls(4, return_state=True)
    plain._maybe_build((2, 6, 3))
    plain.set_weights(stateful.get_weights())
    stateful(x[:, :3])
    second = stateful(x[:, 3:])
    whole = plain(x)
    np.testing.assert_allclose(second, whole[0], rtol=1e-5, atol=1e-6)  # = one long sequence
    np.testing.assert_allclose(stateful.states[0], whole[1], rtol=1e-5, atol=1e-6)
    stateful.reset_states()
    np.testing.assert_allclose(stateful(x[:, 3:]), plain(x[:, 3:])[0], rtol=1e-6)
    with pytest.raises(ValueError, match="Expected batch size: 2. Received batch size: 3"):
        stateful(_x((3, 6, 3)))
    with pytest.raises(ValueError, match=r"batch size must be static.*sequence.shape="
                                         r"\(None, 6, 3\)"):
        cls(4, stateful=True)._maybe_build((None, 6, 3))
