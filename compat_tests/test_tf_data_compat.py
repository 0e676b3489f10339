"""tf.data on minikeras against TensorFlow's: the same pipelines give the same elements, and
fit / evaluate / predict read datasets, generators and PyDatasets as Keras does."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
import minikeras.tf_standin as mtf

X = np.arange(30, dtype="float32").reshape(10, 3)
Y = np.arange(10, dtype="int64")


def _elements(dataset):
    """Every element as nested Python lists (dicts by key), comparable across engines."""
    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items()}
        if isinstance(value, tuple):
            return tuple(plain(v) for v in value)
        return (np.asarray(value).tolist(), np.asarray(value).dtype.name)
    return [plain(e) for e in dataset.as_numpy_iterator()]


PIPELINES = [
    ("array", lambda m: m.data.Dataset.from_tensor_slices(X)),
    ("tuple batch", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).batch(4)),
    ("batch drop_remainder", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).batch(
        4, drop_remainder=True)),
    ("dict", lambda m: m.data.Dataset.from_tensor_slices({"a": X, "b": Y}).batch(3)),
    ("python lists", lambda m: m.data.Dataset.from_tensor_slices(([1.5, 2.0], [1, 2]))),
    ("map on tuples", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).map(
        lambda x, y: (x * 2.0, y + 1)).batch(5)),
    ("map after batch", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).batch(4).map(
        lambda x, y: (x / 255.0, y))),
    ("take skip", lambda m: m.data.Dataset.from_tensor_slices(Y).skip(3).take(4)),
    ("repeat take", lambda m: m.data.Dataset.from_tensor_slices(Y).repeat().take(23)),
    ("repeat twice batch", lambda m: m.data.Dataset.from_tensor_slices(Y).repeat(2).batch(7)),
    ("unbatch", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).batch(4).unbatch()),
    ("zip", lambda m: m.data.Dataset.zip((m.data.Dataset.from_tensor_slices(X),
                                          m.data.Dataset.from_tensor_slices(Y).take(6)))),
    ("cache prefetch", lambda m: m.data.Dataset.from_tensor_slices((X, Y)).cache().batch(
        3).prefetch(m.data.AUTOTUNE)),
    ("range map", lambda m: m.data.Dataset.range(8).map(lambda v: v * v).batch(3)),
    ("shuffle buffer 1 keeps the order", lambda m: m.data.Dataset.from_tensor_slices(
        Y).shuffle(1).batch(4)),
]


@pytest.mark.parametrize("name, build", PIPELINES, ids=[p[0] for p in PIPELINES])
def test_pipeline_gives_tensorflows_elements(name, build):
    got, expected = build(mtf), build(tf)
    assert _elements(got) == _elements(expected)
    assert int(got.cardinality()) == int(expected.cardinality())


def test_iterating_gives_tensors_and_len_is_the_cardinality():
    dataset = mtf.data.Dataset.from_tensor_slices((X, Y)).batch(4)
    first = next(iter(dataset))
    assert first[0].numpy().shape == (4, 3) and len(dataset) == 3
    with pytest.raises(TypeError, match="infinite"):
        len(dataset.repeat())


def test_shuffle_is_a_seeded_permutation_reshuffled_each_epoch():
    def orders(seed, reshuffle=True, buffer=10):
        dataset = mtf.data.Dataset.from_tensor_slices(Y).shuffle(
            buffer, seed=seed, reshuffle_each_iteration=reshuffle).batch(10)
        return [next(dataset.as_numpy_iterator()).tolist() for _ in range(2)] + [
            [int(v) for batch in dataset.as_numpy_iterator() for v in batch]]

    first, second, third = orders(5)
    assert sorted(first) == list(range(10)) and first != second
    assert orders(5) == [first, second, third]          # the same seed, the same orders
    fixed = orders(5, reshuffle=False)
    assert fixed[0] == fixed[1] == fixed[2]


def test_shuffle_buffer_semantics_as_tensorflow():
    # With a buffer of b, the element at output position k is among the first k + b inputs:
    # a small buffer shuffles only locally, as TensorFlow's does.
    minikeras.utils.set_random_seed(1)
    buffer = 3
    for _ in range(5):
        order = [int(v) for v in mtf.data.Dataset.range(40).shuffle(buffer).as_numpy_iterator()]
        assert sorted(order) == list(range(40))
        assert all(value < position + buffer for position, value in enumerate(order))
        assert order != list(range(40))


def test_bad_arguments_say_what_they_received():
    with pytest.raises(ValueError, match="batch_size=0"):
        mtf.data.Dataset.from_tensor_slices(X).batch(0)
    with pytest.raises(ValueError, match=r"lengths: \[9, 10\]"):
        mtf.data.Dataset.from_tensor_slices((X[:9], Y))
    with pytest.raises(AttributeError, match="'TFRecordDataset'"):
        mtf.data.TFRecordDataset  # noqa: B018


# ------------------------------------------------------------------ training on datasets


def _models(seed=0):
    """A Keras model and a minikeras one with the same weights."""
    keras.utils.set_random_seed(seed)
    reference = keras.Sequential([keras.Input((3,)), keras.layers.Dense(6, activation="relu"),
                                  keras.layers.Dense(3, activation="softmax")])
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  minikeras.layers.Dense(6, activation="relu"),
                                  minikeras.layers.Dense(3, activation="softmax")])
    model.set_weights(reference.get_weights())
    for m in (reference, model):
        m.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    return reference, model


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(90, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int64") + (x[:, 1] > 0.5)
    return x, y


def _close(history, expected):
    assert history.keys() == expected.keys()
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-4, atol=1e-6)


def test_fit_on_a_dataset_gives_the_history_of_its_arrays(data):
    x, y = data
    _, model = _models()
    weights = model.get_weights()
    from_arrays = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0,
                            validation_data=(x[:30], y[:30])).history
    model.set_weights(weights)
    model.optimizer = minikeras.optimizers.Adam()
    model.compile(optimizer=model.optimizer, loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"])
    dataset = mtf.data.Dataset.from_tensor_slices((x, y)).batch(16).prefetch(
        mtf.data.AUTOTUNE)
    validation = mtf.data.Dataset.from_tensor_slices((x[:30], y[:30])).batch(16)
    from_dataset = model.fit(dataset, epochs=3, verbose=0, validation_data=validation).history
    _close(from_dataset, from_arrays)


def test_fit_evaluate_predict_on_datasets_match_keras(data):
    x, y = data
    reference, model = _models(1)
    history = {}
    for engine, m, module in (("keras", reference, tf), ("minikeras", model, mtf)):
        train = module.data.Dataset.from_tensor_slices((x, y)).batch(20).repeat()
        validation = module.data.Dataset.from_tensor_slices((x[:40], y[:40])).batch(16)
        h = m.fit(train, epochs=3, steps_per_epoch=3, validation_data=validation,
                  verbose=0).history
        h["evaluate"] = m.evaluate(validation, verbose=0)
        h["predict"] = m.predict(module.data.Dataset.from_tensor_slices(x).batch(32),
                                 verbose=0)
        history[engine] = h
    expected, got = history["keras"], history["minikeras"]
    np.testing.assert_allclose(got.pop("predict"), expected.pop("predict"), rtol=1e-4,
                               atol=1e-6)
    np.testing.assert_allclose(got.pop("evaluate"), expected.pop("evaluate"), rtol=1e-4)
    _close(got, expected)


def test_generators_and_py_datasets_match_keras(data):
    x, y = data
    reference, model = _models(2)

    def batches():
        while True:
            for start in range(0, 90, 30):
                yield x[start:start + 30], y[start:start + 30]

    histories = {}
    for engine, m, utils in (("keras", reference, keras.utils),
                             ("minikeras", model, minikeras.utils)):
        class Batches(utils.PyDataset):
            def __init__(self):
                super().__init__()
                self.ends = 0

            def __len__(self):
                return 4

            def __getitem__(self, index):
                return x[index * 20:(index + 1) * 20], y[index * 20:(index + 1) * 20]

            def on_epoch_end(self):
                self.ends += 1

        py_dataset = Batches()
        h = dict(m.fit(batches(), steps_per_epoch=2, epochs=3, verbose=0).history)
        h.update({"py_" + k: v
                  for k, v in m.fit(py_dataset, epochs=2, shuffle=False,
                                    verbose=0).history.items()})
        h["evaluate"] = m.evaluate(Batches(), verbose=0)
        h["ends"] = py_dataset.ends
        histories[engine] = h
    expected, got = histories["keras"], histories["minikeras"]
    assert got.pop("ends") == expected.pop("ends")
    np.testing.assert_allclose(got.pop("evaluate"), expected.pop("evaluate"), rtol=1e-4)
    _close(got, expected)


def test_dataset_with_arguments_keras_refuses(data):
    x, y = data
    _, model = _models()
    dataset = mtf.data.Dataset.from_tensor_slices((x, y)).batch(8)
    with pytest.raises(ValueError, match="`y` is not accepted"):
        model.fit(dataset, y, verbose=0)
    with pytest.raises(ValueError, match="validation_split=0.2"):
        model.fit(dataset, validation_split=0.2, verbose=0)
    with pytest.raises(ValueError, match="must hold targets"):
        model.fit(mtf.data.Dataset.from_tensor_slices(x).batch(8), verbose=0)


def test_fit_shuffles_a_py_datasets_batch_order(data):
    x, y = data
    _, model = _models()
    seen = []

    class Batches(minikeras.utils.PyDataset):
        def __len__(self):
            return 6

        def __getitem__(self, index):
            seen.append(index)
            return x[index * 15:(index + 1) * 15], y[index * 15:(index + 1) * 15]

    minikeras.utils.set_random_seed(4)
    model.fit(Batches(), epochs=3, verbose=0)
    epochs = [seen[i:i + 6] for i in (0, 6, 12)]
    assert all(sorted(epoch) == list(range(6)) for epoch in epochs)
    assert len({tuple(epoch) for epoch in epochs}) > 1
    seen.clear()
    model.fit(Batches(), epochs=1, shuffle=False, verbose=0)
    assert seen == list(range(6))
