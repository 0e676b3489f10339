"""Embedding gradients as Keras's optimizers see them on TensorFlow: one row per occurrence of
an id (tf.IndexedSlices; minikeras's SparseRows). Batches repeat ids, so an optimizer that
squares the gradient per row (Adam, RMSprop, ...) would drift from Keras if it squared the
summed rows instead."""

import numpy as np
import pytest

from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

T, N, VOCABULARY = 6, 48, 12


def _ids(seed=1, low=1):
    """Ids from a small vocabulary: every batch of 16 x 6 repeats most ids many times."""
    rng = np.random.default_rng(seed)
    x = rng.integers(low, VOCABULARY, size=(N, T))
    y = (x[:, :3].mean(axis=1, keepdims=True) > VOCABULARY / 2).astype("float32")
    return x, y


def _pooling_model(k):
    return k.Sequential([k.Input((T,)), k.layers.Embedding(VOCABULARY, 4),
                         k.layers.GlobalAveragePooling1D(),
                         k.layers.Dense(1, activation="sigmoid")])


OPTIMIZERS = {
    "adam": lambda k: k.optimizers.Adam(0.05),
    "adam_amsgrad_clipnorm": lambda k: k.optimizers.Adam(0.05, amsgrad=True, clipnorm=0.05),
    "adamw": lambda k: k.optimizers.AdamW(0.05),
    "rmsprop": lambda k: k.optimizers.RMSprop(0.01),
    "rmsprop_momentum": lambda k: k.optimizers.RMSprop(0.01, momentum=0.5),
    "adagrad": lambda k: k.optimizers.Adagrad(0.1),
    "nadam": lambda k: k.optimizers.Nadam(0.05),
    "adamax": lambda k: k.optimizers.Adamax(0.05),
    "adadelta": lambda k: k.optimizers.Adadelta(1.0),
    "ftrl": lambda k: k.optimizers.Ftrl(0.1),
    "lamb": lambda k: k.optimizers.Lamb(0.05),
    "lion": lambda k: k.optimizers.Lion(0.01),
    "adafactor": lambda k: k.optimizers.Adafactor(0.05),
    "sgd_nesterov": lambda k: k.optimizers.SGD(0.5, momentum=0.9, nesterov=True),
    "adam_clipvalue": lambda k: k.optimizers.Adam(0.05, clipvalue=1e-3),
    "adam_global_clipnorm": lambda k: k.optimizers.Adam(0.05, global_clipnorm=0.05),
    "adam_accumulation": lambda k: k.optimizers.Adam(0.05, gradient_accumulation_steps=2),
}


@pytest.fixture(scope="module")
def trained():
    """Each optimizer trained once on both engines: (keras model, ours, both Histories)."""
    results = {}
    x, y = _ids()
    for name, make in OPTIMIZERS.items():
        reference, ours = build_pair(_pooling_model)
        compile_kwargs = {"optimizer": per_module(make), "loss": "binary_crossentropy",
                          "metrics": ["accuracy"]}
        histories = fit_both(reference, ours, x, y, compile_kwargs, epochs=4, batch_size=16)
        results[name] = (reference, ours, *histories)
    return results


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_embedding_training_matches_keras(trained, name):
    reference, ours, ref_history, our_history = trained[name]
    assert_histories_close(ref_history, our_history)
    for ref_weight, our_weight in zip(reference.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(our_weight, ref_weight, rtol=1e-4, atol=1e-6)


def test_the_data_repeats_ids_within_batches():
    """The comparisons above mean something only if ids repeat inside a batch."""
    x, _ = _ids()
    batch = x[:16]
    assert np.unique(batch).size < batch.size / 4


def test_embedding_regularizer_makes_the_gradient_dense_as_in_keras():
    """A weight regularizer's gradient is dense; Keras then hands the optimizer the dense sum
    (squares of summed rows), and so does minikeras."""
    def build(k):
        return k.Sequential([k.Input((T,)),
                             k.layers.Embedding(VOCABULARY, 4, embeddings_regularizer="l2"),
                             k.layers.GlobalAveragePooling1D(),
                             k.layers.Dense(1, activation="sigmoid")])

    x, y = _ids(3)
    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.Adam(0.05)),
                      "loss": "binary_crossentropy"}
    ref, our = fit_both(reference, ours, x, y, compile_kwargs, epochs=3, batch_size=16)
    assert_histories_close(ref, our)


def test_shared_embedding_concatenates_occurrences_as_in_keras():
    """One Embedding called on two inputs: its gradients add up as one list of occurrences."""
    def build(k):
        a, b = k.Input((T,)), k.Input((T,))
        embedding = k.layers.Embedding(VOCABULARY, 4)
        pool = k.layers.GlobalAveragePooling1D()
        joined = k.layers.Concatenate()([pool(embedding(a)), pool(embedding(b))])
        return k.Model([a, b], k.layers.Dense(1, activation="sigmoid")(joined))

    x, y = _ids(4)
    x2, _ = _ids(5)
    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.RMSprop(0.01)),
                      "loss": "binary_crossentropy"}
    ref, our = fit_both(reference, ours, [x, x2], y, compile_kwargs, epochs=3, batch_size=16)
    assert_histories_close(ref, our)


def test_mask_zero_lstm_with_adam_matches_keras():
    def build(k):
        return k.Sequential([k.Input((T,)), k.layers.Embedding(VOCABULARY, 4, mask_zero=True),
                             k.layers.LSTM(5), k.layers.Dense(1, activation="sigmoid")])

    x, y = _ids(2, low=0)
    lengths = np.random.default_rng(2).integers(2, T + 1, size=N)
    x = x * (np.arange(T)[None, :] < lengths[:, None])         # zero padding after each
    reference, ours = build_pair(build)
    compile_kwargs = {"optimizer": per_module(lambda k: k.optimizers.Adam(0.02)),
                      "loss": "binary_crossentropy", "metrics": ["accuracy"]}
    ref, our = fit_both(reference, ours, x, y, compile_kwargs, epochs=4, batch_size=16)
    assert_histories_close(ref, our)
    for ref_weight, our_weight in zip(reference.get_weights(), ours.get_weights()):
        np.testing.assert_allclose(our_weight, ref_weight, rtol=1e-4, atol=1e-6)
