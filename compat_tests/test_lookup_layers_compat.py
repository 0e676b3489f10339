"""Lookup and encoding layers against Keras: same inputs, same outputs and vocabularies."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras

ML = minikeras.layers
KL = keras.layers

WORDS = ["the", "cat", "sat", "on", "the", "mat", "a", "dog", "sat", "the", "Cat", "é漢",
         "zebra", "on", "a"]


def _keras_out(y):
    y = np.asarray(y)
    if y.dtype.kind == "S":
        y = y.astype(object)
    if y.dtype == object:
        return np.vectorize(lambda v: v.decode() if isinstance(v, bytes) else v,
                            otypes=[object])(y)
    return y


def _same(ours, theirs):
    theirs = _keras_out(theirs)
    assert np.asarray(ours).shape == theirs.shape
    if theirs.dtype == object:
        assert np.asarray(ours).tolist() == theirs.tolist()
    else:
        assert np.asarray(ours).dtype == theirs.dtype
        np.testing.assert_allclose(ours, theirs, rtol=1e-6, atol=1e-7)


def _vocab(v):
    return [x.decode() if isinstance(x, bytes) else (int(x) if isinstance(x, np.integer) else x)
            for x in v]


def _texts(rng, n, length=4):
    words = np.array([f"w{i}" for i in range(12)])
    return np.array([[words[rng.integers(0, 12)] for _ in range(length)] for _ in range(n)])


LOOKUP_CASES = [
    {},
    {"max_tokens": 5},
    {"num_oov_indices": 0},
    {"num_oov_indices": 3},
    {"mask_token": ""},
    {"mask_token": "", "num_oov_indices": 2, "output_mode": "multi_hot"},
    {"output_mode": "one_hot"},
    {"output_mode": "multi_hot"},
    {"output_mode": "count"},
    {"output_mode": "tf_idf"},
    {"output_mode": "count", "max_tokens": 9, "pad_to_max_tokens": True},
    {"output_mode": "tf_idf", "max_tokens": 9, "pad_to_max_tokens": True},
    {"num_oov_indices": 4, "salt": [7, 11]},
    {"num_oov_indices": 2, "salt": 12345},
]


@pytest.mark.parametrize("kwargs", LOOKUP_CASES, ids=str)
def test_string_lookup_adapt_and_call(kwargs):
    rng = np.random.default_rng(0)
    data = _texts(rng, 30)
    ours, theirs = ML.StringLookup(**kwargs), KL.StringLookup(**kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    assert ours.vocabulary_size() == theirs.vocabulary_size()
    assert ours.get_vocabulary(False) == _vocab(theirs.get_vocabulary(False))
    x = _texts(rng, 6, 3)
    if kwargs.get("num_oov_indices") != 0:
        x[0, 0], x[1, 2], x[2, 1] = "unseen", "other", "words?"
    if "mask_token" in kwargs:
        x[3, 1] = ""
    if kwargs.get("output_mode") == "one_hot":
        x = x[:, :1]
    _same(ours(x), theirs(x))
    if kwargs.get("output_mode") in (None, "int"):
        _same(ours(x[:, 0]), theirs(x[:, 0]))


@pytest.mark.parametrize("kwargs", LOOKUP_CASES[:10] + [{"num_oov_indices": 3,
                                                          "oov_method": "farmhash"},
                                                         {"num_oov_indices": 3,
                                                          "oov_method": "farmhash",
                                                          "salt": 99}],
                         ids=str)
def test_integer_lookup_adapt_and_call(kwargs):
    kwargs = dict(kwargs)
    if kwargs.get("mask_token") == "":
        kwargs["mask_token"] = 0
    rng = np.random.default_rng(1)
    data = rng.integers(-3, 12, size=(40, 3))
    ours, theirs = ML.IntegerLookup(**kwargs), KL.IntegerLookup(**kwargs)
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    x = rng.integers(-3, 12, size=(6, 3))
    if kwargs.get("num_oov_indices") != 0:
        x[0, 0], x[1, 1], x[2, 2] = 1000, -77, 31
    else:
        x = np.clip(x, -3, 11)
        x[~np.isin(x, ours.get_vocabulary())] = ours.get_vocabulary()[0]
    if kwargs.get("output_mode") == "one_hot":
        x = x[:, :1]
    _same(ours(x), theirs(x))


def test_lookups_with_given_vocabulary_and_invert(tmp_path):
    vocab = ["b", "a", "c"]
    for kw in ({}, {"mask_token": "[M]"}, {"num_oov_indices": 2}):
        ours = ML.StringLookup(vocabulary=vocab, **kw)
        theirs = KL.StringLookup(vocabulary=vocab, **kw)
        assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
        x = np.array([["a", "zz", "c"], ["b", "b", "q"]])
        _same(ours(x), theirs(x))
        inv_o = ML.StringLookup(vocabulary=vocab, invert=True, **kw)
        inv_k = KL.StringLookup(vocabulary=vocab, invert=True, **kw)
        ids = np.array([[0, 1, 2, 3, 4, 5, 9]])
        _same(inv_o(ids), inv_k(ids))
    ours = ML.IntegerLookup(vocabulary=[5, 9, 2], invert=True, mask_token=0)
    theirs = KL.IntegerLookup(vocabulary=[5, 9, 2], invert=True, mask_token=0)
    _same(ours(np.array([0, 1, 2, 3, 4, 8])), theirs(np.array([0, 1, 2, 3, 4, 8])))
    # the vocabulary given with its special tokens in front
    full = ["", "[UNK]", "x", "y"]
    ours = ML.StringLookup(vocabulary=full, mask_token="")
    theirs = KL.StringLookup(vocabulary=full, mask_token="")
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    # a vocabulary file the user names
    path = tmp_path / "vocab.txt"
    path.write_text("dog\ncat\nbird\n", encoding="utf-8")
    ours, theirs = ML.StringLookup(vocabulary=str(path)), KL.StringLookup(vocabulary=str(path))
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    _same(ours(np.array(["cat", "bird", "fish"])), theirs(np.array(["cat", "bird", "fish"])))
    # tf_idf with given weights
    ours = ML.StringLookup(vocabulary=vocab, output_mode="tf_idf", idf_weights=[0.5, 1.0, 2.0])
    theirs = KL.StringLookup(vocabulary=vocab, output_mode="tf_idf",
                             idf_weights=[0.5, 1.0, 2.0])
    x = np.array([["a", "a", "zz"], ["c", "b", "b"]])
    _same(ours(x), theirs(x))


def test_adapt_ties_and_max_tokens():
    # every token seen twice: the order is by the token, high to low, as Keras's
    data = np.array(["b", "a", "c", "d", "a", "b", "c", "d", "B", "B", "é", "é"])
    for max_tokens in (None, 3, 6):
        ours, theirs = ML.StringLookup(max_tokens=max_tokens), KL.StringLookup(
            max_tokens=max_tokens)
        ours.adapt(data)
        theirs.adapt(data)
        assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    ours, theirs = ML.IntegerLookup(), KL.IntegerLookup()
    batches = [np.array([[3, 1], [1, 3]]), np.array([[-5, 7], [7, -5]])]
    ours.adapt(iter(batches))
    theirs.adapt(iter(batches))
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())


def test_adapt_on_empty_data_as_keras():
    # Keras learns no tokens (only the special ones) from empty data; so does minikeras.
    for data in (np.array([], dtype=str), []):
        ours, theirs = ML.StringLookup(), KL.StringLookup()
        ours.adapt(data)
        theirs.adapt(data)
        assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary()) == ["[UNK]"]


@pytest.mark.parametrize("mode", ["one_hot", "multi_hot", "count"])
def test_category_encoding(mode):
    rng = np.random.default_rng(2)
    for x in (rng.integers(0, 6, size=(5, 4)), rng.integers(0, 6, size=(7,)),
              rng.integers(0, 6, size=(5, 1)), np.array([[0, 9, 2]])):
        if mode == "one_hot" and x.ndim == 2 and x.shape[1] > 1:
            continue
        _same(ML.CategoryEncoding(6, output_mode=mode)(x),
              KL.CategoryEncoding(6, output_mode=mode)(x))
    if mode == "count":
        x = rng.integers(0, 6, size=(4, 3))
        w = rng.random((4, 3)).astype("float32")
        _same(ML.CategoryEncoding(6, output_mode="count")(x, count_weights=w),
              KL.CategoryEncoding(6, output_mode="count")(x, count_weights=w))


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_given_and_adapted(mode):
    rng = np.random.default_rng(3)
    x = rng.normal(size=(6, 4)).astype("float32")
    x[0, :3] = [0.0, 1.0, -1.0]
    kw = {"output_mode": mode}
    if mode == "one_hot":
        x = x[:, :1]
    _same(ML.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], **kw)(x),
          KL.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], **kw)(x))
    for epsilon, data in ((0.01, rng.normal(size=(1000, 2))), (0.1, rng.exponential(size=500)),
                          (0.01, rng.integers(0, 5, size=(300,)).astype("float32"))):
        ours = ML.Discretization(num_bins=5, epsilon=epsilon, **kw)
        theirs = KL.Discretization(num_bins=5, epsilon=epsilon, **kw)
        ours.adapt(data)
        theirs.adapt(data)
        np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6)
        _same(ours(x), theirs(x))
    # a float64 value just below a boundary is first cast to float32 (equal to it), as Keras
    near = np.array([[np.nextafter(np.float64(np.float32(0.1)), 0.0), 0.1, 1 / 3]])
    _same(ML.Discretization(bin_boundaries=[0.1, 1 / 3])(near),
          KL.Discretization(bin_boundaries=[0.1, 1 / 3])(near))
    batches = [rng.normal(size=(200,)) for _ in range(3)]
    ours, theirs = ML.Discretization(num_bins=4), KL.Discretization(num_bins=4)
    ours.adapt(iter(batches))
    theirs.adapt(iter(batches))
    np.testing.assert_allclose(ours.bin_boundaries, theirs.bin_boundaries, rtol=1e-6)


def _hash_inputs():
    rng = np.random.default_rng(4)
    letters = np.array(list("abcdefghijklmnopqrstuvwxyzé漢 .!"))
    strings = ["".join(rng.choice(letters, size=n)) for n in range(0, 150)]
    strings += ["", "a", "hello world"]
    return np.array(strings).reshape(-1, 1)


@pytest.mark.parametrize("kwargs", [{"num_bins": 7}, {"num_bins": 1000003},
                                    {"num_bins": 9, "salt": 133},
                                    {"num_bins": 9, "salt": [2**40 + 3, 5]},
                                    {"num_bins": 5, "mask_value": "a"},
                                    {"num_bins": 5, "output_mode": "multi_hot"},
                                    {"num_bins": 5, "output_mode": "count"},
                                    {"num_bins": 5, "output_mode": "one_hot"}], ids=str)
def test_hashing_strings_and_ints(kwargs):
    x = _hash_inputs()
    _same(ML.Hashing(**kwargs)(x), KL.Hashing(**kwargs)(x))
    ints = np.arange(-300, 300, 7).reshape(-1, 1)
    if "mask_value" in kwargs:
        kwargs = {**kwargs, "mask_value": 0}
    _same(ML.Hashing(**kwargs)(ints), KL.Hashing(**kwargs)(ints))
    floats = np.array([[1.5], [-2.7], [3.0]])
    _same(ML.Hashing(**kwargs)(floats), KL.Hashing(**kwargs)(floats))


TEXTS = np.array([
    "The quick brown fox, jumped!", "the lazy DOG sat.", "Élan vital: don't stop",
    "tabs\tand\nnewlines  here", "a-b_c (d) [e] {f} 'g' \"h\" ~i", "fox fox fox", "",
])


@pytest.mark.parametrize("kwargs", [
    {},
    {"standardize": "lower"},
    {"standardize": "strip_punctuation"},
    {"standardize": None},
    {"split": "character", "max_tokens": 20},
    {"ngrams": 2},
    {"ngrams": (1, 3)},
    {"max_tokens": 6},
    {"output_sequence_length": 4},
    {"output_sequence_length": 12},
    {"output_mode": "multi_hot"},
    {"output_mode": "count"},
    {"output_mode": "tf_idf"},
    {"output_mode": "count", "max_tokens": 30, "pad_to_max_tokens": True},
], ids=str)
def test_text_vectorization(kwargs):
    ours, theirs = ML.TextVectorization(**kwargs), KL.TextVectorization(**kwargs)
    ours.adapt(TEXTS)
    theirs.adapt(TEXTS)
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    x = np.array(["The FOX jumped over a dog!", "unknown words; here", "fox"])
    _same(ours(x), theirs(x))
    _same(ours(x[:, None]), theirs(x[:, None]))


def test_text_vectorization_given_vocabulary_and_split_none():
    ours = ML.TextVectorization(vocabulary=["fox", "dog"], output_sequence_length=3)
    theirs = KL.TextVectorization(vocabulary=["fox", "dog"], output_sequence_length=3)
    x = np.array(["dog fox cat fox", "fox"])
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    _same(ours(x), theirs(x))
    ours = ML.TextVectorization(split=None, output_mode="int")
    theirs = KL.TextVectorization(split=None, output_mode="int")
    data = np.array(["red", "Blue", "red", "green!"])
    ours.adapt(data)
    theirs.adapt(data)
    assert ours.get_vocabulary() == _vocab(theirs.get_vocabulary())
    _same(ours(data[:, None]), theirs(data[:, None]))


def test_configs_match_keras():
    pairs = [
        (ML.StringLookup(vocabulary=["a", "b"], mask_token="", num_oov_indices=2),
         KL.StringLookup(vocabulary=["a", "b"], mask_token="", num_oov_indices=2)),
        (ML.IntegerLookup(vocabulary=[4, 5], output_mode="count"),
         KL.IntegerLookup(vocabulary=[4, 5], output_mode="count")),
        (ML.CategoryEncoding(4, output_mode="count"), KL.CategoryEncoding(4, output_mode="count")),
        (ML.Hashing(8, salt=3), KL.Hashing(8, salt=3)),
        (ML.Discretization(bin_boundaries=[0.0, 1.0]),
         KL.Discretization(bin_boundaries=[0.0, 1.0])),
        (ML.TextVectorization(max_tokens=10, ngrams=2),
         KL.TextVectorization(max_tokens=10, ngrams=2)),
    ]
    for ours, theirs in pairs:
        mine, keras_config = ours.get_config(), theirs.get_config()
        for key in set(keras_config) - {"name", "dtype", "trainable"}:
            assert key in mine, (type(ours).__name__, key)
            assert mine[key] == keras_config[key], (type(ours).__name__, key, mine[key],
                                                   keras_config[key])
        again = type(ours).from_config(mine)
        assert again.get_config() == mine


def _adapted_pairs():
    rng = np.random.default_rng(5)
    ints = rng.integers(0, 9, size=(50, 3))
    texts = _texts(rng, 30)
    pairs = []
    for make in (lambda L: L.IntegerLookup(num_oov_indices=2, mask_token=0),
                 lambda L: L.IntegerLookup(output_mode="multi_hot"),
                 lambda L: L.StringLookup(max_tokens=8),
                 lambda L: L.StringLookup(output_mode="count", mask_token="")):
        ours, theirs = make(ML), make(KL)
        data = ints if isinstance(ours, ML.IntegerLookup) else texts
        ours.adapt(data)
        theirs.adapt(data)
        pairs.append((ours, theirs, data[:7]))
    ours = ML.TextVectorization(max_tokens=12, output_sequence_length=5)
    theirs = KL.TextVectorization(max_tokens=12, output_sequence_length=5)
    ours.adapt(TEXTS)
    theirs.adapt(TEXTS)
    pairs.append((ours, theirs, TEXTS[:, None]))
    return pairs


def _input_dtype(layer_data):
    return "int64" if layer_data.dtype.kind == "i" else "string"


@pytest.mark.parametrize("index", range(5))
def test_adapted_vocabularies_saved_both_ways(tmp_path, index):
    ours, theirs, x = _adapted_pairs()[index]
    shape = x.shape[1:]
    keras_model = keras.Sequential([keras.Input(shape, dtype=_input_dtype(x)), theirs])
    keras_model.save(tmp_path / "k.keras")
    loaded = minikeras.models.load_model(tmp_path / "k.keras")
    layer = loaded.layers[-1]
    assert type(layer) is type(ours)
    assert layer.get_vocabulary() == _vocab(theirs.get_vocabulary())
    _same(layer(x), theirs(x))

    our_model = minikeras.models.Sequential([minikeras.layers.Input(shape, dtype=_input_dtype(x)),
                                             ours])
    our_model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    assert _vocab(back.layers[-1].get_vocabulary()) == ours.get_vocabulary()
    _same(ours(x), back.layers[-1](x))


def test_model_with_an_adapted_lookup_trains_like_keras():
    # IntegerLookup(multi_hot) inside the model, feeding Dense layers: Keras's initial
    # weights, shuffle=False, History epoch by epoch.
    rng = np.random.default_rng(6)
    x = rng.integers(0, 20, size=(64, 5))
    y = (x.sum(axis=1) > 50).astype("float32")[:, None]

    def build(layers, models):
        lookup = layers.IntegerLookup(max_tokens=12, output_mode="multi_hot")
        lookup.adapt(x)
        return models.Sequential([layers.Input((5,), dtype="int64"), lookup,
                                  layers.Dense(4, activation="relu"),
                                  layers.Dense(1, activation="sigmoid")])

    theirs = build(keras.layers, keras.models)
    ours = build(ML, minikeras.models)
    ours.set_weights(theirs.get_weights())
    for model in (theirs, ours):
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    h_theirs = theirs.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, epochs=3, batch_size=16, shuffle=False, verbose=0).history
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-4)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def _both_raise(make_ours, make_theirs, ours_type=ValueError, words=()):
    """Keras refuses the case too; ours raises `ours_type` naming what was wrong."""
    with pytest.raises((ValueError, RuntimeError, tf.errors.OpError)):
        make_theirs()
    with pytest.raises(ours_type) as info:
        make_ours()
    for word in words:
        assert word in str(info.value)


@pytest.mark.parametrize("name,kwargs,words", [
    ("StringLookup", {"output_mode": "foo"}, ["output_mode=foo"]),
    ("IntegerLookup", {"output_mode": "bar"}, ["output_mode=bar"]),
    ("CategoryEncoding", {"num_tokens": 3, "output_mode": "int"}, ["output_mode"]),
    ("Hashing", {"num_bins": 3, "output_mode": "tf_idf"}, ["output_mode=tf_idf"]),
    ("Discretization", {"bin_boundaries": [0.0], "output_mode": "x"}, ["output_mode=x"]),
    ("TextVectorization", {"output_mode": "y"}, ["output_mode=y"]),
    ("TextVectorization", {"standardize": "upper"}, ["standardize=upper"]),
    ("TextVectorization", {"split": "comma"}, ["split=comma"]),
    ("TextVectorization", {"output_mode": "count", "output_sequence_length": 3},
     ["output_sequence_length=3"]),
    ("StringLookup", {"max_tokens": 1}, ["max_tokens=1"]),
    ("StringLookup", {"num_oov_indices": -1}, ["num_oov_indices=-1"]),
    ("StringLookup", {"vocabulary": []}, ["empty vocabulary"]),
    ("StringLookup", {"vocabulary": ["a", "b", "a"]}, ["repeated", "'a'"]),
    ("StringLookup", {"vocabulary": ["a", "b", "c"], "max_tokens": 3}, ["max_tokens` is 3"]),
    ("StringLookup", {"invert": True, "output_mode": "count"}, ["output_mode=count"]),
    ("StringLookup", {"vocabulary": "/no/such/vocabulary.txt"}, ["does not exist"]),
    ("CategoryEncoding", {"num_tokens": 0}, ["num_tokens=0"]),
    ("Hashing", {"num_bins": 0}, ["num_bins=0"]),
    ("Discretization", {}, ["num_bins"]),
], ids=str)
def test_bad_arguments_refused_like_keras(name, kwargs, words):
    _both_raise(lambda: getattr(ML, name)(**kwargs), lambda: getattr(KL, name)(**kwargs),
                words=words)


def test_bad_inputs_refused_like_keras():
    strings, ints = np.array([["a", "b"]]), np.array([[1, 2]])
    cases = [
        (lambda L: L.IntegerLookup(vocabulary=[1, 2])(strings), ["dtype <U1"]),
        (lambda L: L.StringLookup(vocabulary=["a"])(ints), ["expects strings"]),
        (lambda L: L.CategoryEncoding(3, output_mode="count")(strings), ["dtype <U1"]),
        (lambda L: L.CategoryEncoding(3, output_mode="count")(np.array([[0, -1]])),
         ["negative value -1"]),
        (lambda L: L.Discretization(bin_boundaries=[0.0])(strings), ["expects numbers"]),
        (lambda L: L.StringLookup(vocabulary=["a"], num_oov_indices=0)(strings),
         ["num_oov_indices=0", "['b']"]),
        (lambda L: L.StringLookup(output_mode="count")(strings), ["set the layer's vocab"],
         RuntimeError),
        (lambda L: L.Discretization(num_bins=3)(np.array([1.0])), ["bin_boundaries"]),
        (lambda L: L.StringLookup(vocabulary=["a"]).adapt(strings), ["static vocabulary"]),
        (lambda L: L.TextVectorization()(np.array([["a", "b"]])), ["last shape dimension"]),
    ]
    for case, words, *kind in cases:
        try:
            _both_raise(lambda case=case: case(ML), lambda case=case: case(KL), *kind,
                        words=words)
        except BaseException as error:
            raise AssertionError(f"case {words}: {error}") from error


def test_adapt_on_empty_data():
    # Lookups learn only their special tokens, as Keras's (test_adapt_on_empty_data_as_keras).
    # Discretization: Keras silently learns no boundaries (every value in bin 0); minikeras
    # refuses, as its Normalization does, and keeps its state.
    theirs = KL.Discretization(num_bins=3)
    theirs.adapt(np.array([]))
    assert theirs.bin_boundaries == []
    ours = ML.Discretization(num_bins=3)
    ours.adapt(np.arange(10.0))
    before = list(ours.bin_boundaries)
    for empty in (np.array([]), [], iter([])):
        with pytest.raises(ValueError, match="at least one value"):
            ours.adapt(empty)
        assert ours.bin_boundaries == before


def _fit_pair(build, x, y, optimizer="sgd", epochs=3):
    theirs, ours = build(keras.layers, keras.models), build(ML, minikeras.models)
    ours.set_weights(theirs.get_weights())
    for model in (theirs, ours):
        model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    h_theirs = theirs.fit(x, y, epochs=epochs, batch_size=16, shuffle=False, verbose=0).history
    h_ours = ours.fit(x, y, epochs=epochs, batch_size=16, shuffle=False, verbose=0).history
    assert h_ours.keys() == h_theirs.keys()
    for key in h_theirs:
        np.testing.assert_allclose(h_ours[key], h_theirs[key], rtol=1e-4)
    np.testing.assert_allclose(ours.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)


def test_string_lookup_ids_feeding_an_embedding_train_like_keras():
    # Keras scripts look strings up outside the model (dataset.map or a direct call) and
    # train an Embedding on the ids. (SGD: with Adam, Keras's sparse Embedding gradient
    # differs when an id repeats in a batch, see the README.)
    rng = np.random.default_rng(7)
    words = np.array([f"w{i}" for i in range(15)])
    texts = words[rng.integers(0, 15, size=(64, 6))]
    y = (np.char.count(texts, "1").sum(axis=1) > 1).astype("float32")[:, None]
    ours_lookup, keras_lookup = (L.StringLookup(max_tokens=12, mask_token="") for L in (ML, KL))
    ours_lookup.adapt(texts)
    keras_lookup.adapt(texts)
    ids, keras_ids = ours_lookup(texts), np.asarray(keras_lookup(texts))
    np.testing.assert_array_equal(ids, keras_ids)

    def build(layers, models):
        return models.Sequential([layers.Input((6,), dtype="int64"),
                                  layers.Embedding(12, 4, mask_zero=True),
                                  layers.GlobalAveragePooling1D(),
                                  layers.Dense(1, activation="sigmoid")])

    _fit_pair(build, ids, y)


def test_integer_lookup_inside_a_model_feeding_an_embedding_trains_like_keras():
    rng = np.random.default_rng(8)
    x = rng.integers(100, 130, size=(64, 6))
    y = (x[:, 0] > 115).astype("float32")[:, None]

    def build(layers, models):
        lookup = layers.IntegerLookup(max_tokens=20)
        lookup.adapt(x)
        return models.Sequential([layers.Input((6,), dtype="int64"), lookup,
                                  layers.Embedding(20, 3), layers.Flatten(),
                                  layers.Dense(1, activation="sigmoid")])

    _fit_pair(build, x, y)


@pytest.mark.parametrize("make,shape,dtype", [
    (lambda L: L.StringLookup(vocabulary=["a", "b"]), (4,), "string"),
    (lambda L: L.StringLookup(vocabulary=["a", "b"], output_mode="multi_hot"), (4,), "string"),
    (lambda L: L.StringLookup(vocabulary=["a", "b"], output_mode="one_hot"), (1,), "string"),
    (lambda L: L.IntegerLookup(vocabulary=[3, 4], output_mode="count", max_tokens=6,
                               pad_to_max_tokens=True), (5,), "int64"),
    (lambda L: L.CategoryEncoding(5, output_mode="multi_hot"), (3,), "int64"),
    (lambda L: L.Hashing(7), (2,), "string"),
    (lambda L: L.Hashing(7, output_mode="count"), (2,), "string"),
    (lambda L: L.Discretization(bin_boundaries=[0.0, 1.0]), (3,), "float32"),
    (lambda L: L.Discretization(bin_boundaries=[0.0, 1.0], output_mode="multi_hot"), (3,),
     "float32"),
    (lambda L: L.TextVectorization(vocabulary=["a"], output_sequence_length=5), (1,), "string"),
    (lambda L: L.TextVectorization(vocabulary=["a"], output_mode="count"), (1,), "string"),
], ids=range(11))
def test_symbolic_calls_give_keras_shapes_and_dtypes(make, shape, dtype):
    ours = make(ML)(ML.Input(shape, dtype=dtype))
    theirs = make(KL)(KL.Input(shape, dtype=dtype))
    assert tuple(ours.shape) == tuple(theirs.shape)
    assert ours.dtype == theirs.dtype
