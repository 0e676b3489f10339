"""Functional models through `.keras` files and JSON, both ways between Keras and minikeras:
same layers, same structure (dict / list / single inputs and outputs), same predictions, and
training that continues identically after loading."""

import json
import zipfile

import keras
import numpy as np
import pytest

import minikeras

RNG = np.random.default_rng(0)
X = {"a": RNG.normal(size=(16, 4)).astype("float32"),
     "b": RNG.normal(size=(16, 3)).astype("float32")}
Y = [RNG.normal(size=(16, 2)).astype("float32"), RNG.normal(size=(16, 1)).astype("float32")]


def two_in_two_out(k):
    """Dict inputs, list outputs, a merge layer, a shared layer called twice."""
    layers = k.layers
    a, b = k.Input((4,), name="a"), k.Input((3,), name="b")
    s = layers.Add(name="add")([layers.Dense(4, name="d1")(a), a])
    c = layers.Concatenate(name="cat")([s, layers.Dense(2, name="from_b")(b)])
    shared = layers.Dense(2, name="shared")
    o1 = shared(c)
    o2 = layers.Dense(1, name="o2")(shared(layers.Dense(6, activation="tanh", name="d6")(c)))
    model = k.Model({"a": a, "b": b}, [o1, o2], name="two_in_two_out")
    model.compile(optimizer="adam", loss=["mse", "mae"], loss_weights=[1.0, 0.5])
    return model


def every_merge(k):
    """One input, every merge layer once, a single output."""
    layers = k.layers
    inputs = k.Input((6,), name="x")
    p = layers.Dense(6, name="p")(inputs)
    q = layers.Dense(6, name="q")(inputs)
    merged = [layers.Add()([p, q]), layers.Subtract()([p, q]), layers.Multiply()([p, q]),
              layers.Average()([p, q]), layers.Maximum()([p, q]), layers.Minimum()([p, q]),
              layers.Dot(axes=1, normalize=True)([p, q])]
    joined = layers.Concatenate()(merged)
    return k.Model(inputs, layers.Dense(1, name="out")(joined), name="every_merge")


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory):
    """A model Keras saved after one epoch of training (weights and Adam's state)."""
    keras.utils.set_random_seed(0)
    model = two_in_two_out(keras)
    model.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    path = tmp_path_factory.mktemp("keras") / "model.keras"
    model.save(path)
    return model, path


def _predictions(model):
    return [np.asarray(p) for p in model.predict(X, verbose=0)]


def test_keras_file_loads_in_minikeras_and_trains_on_identically(keras_file):
    reference, path = keras_file
    ours = minikeras.models.load_model(path)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert ours._input_keys == ["a", "b"]
    for p, q in zip(_predictions(reference), _predictions(ours), strict=True):
        np.testing.assert_allclose(q, p, rtol=1e-5, atol=1e-6)
    theirs = keras.models.load_model(path)
    expected = theirs.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    received = ours.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    assert set(received) == set(expected)
    for key in expected:
        np.testing.assert_allclose(received[key], expected[key], rtol=1e-4, err_msg=key)


def test_minikeras_file_loads_in_keras(tmp_path):
    minikeras.utils.set_random_seed(0)
    ours = two_in_two_out(minikeras)
    ours.fit(X, Y, epochs=1, batch_size=8, shuffle=False, verbose=0)
    ours.save(tmp_path / "ours.keras")
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert [layer.name for layer in theirs.layers] == [layer.name for layer in ours.layers]
    for p, q in zip(_predictions(theirs), _predictions(ours), strict=True):
        np.testing.assert_allclose(q, p, rtol=1e-5, atol=1e-6)
    expected = theirs.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    received = ours.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0).history
    for key in expected:
        np.testing.assert_allclose(received[key], expected[key], rtol=1e-4, err_msg=key)


def test_config_layout_matches_keras(tmp_path):
    """Same keys, the same inbound_nodes, input_layers and output_layers as Keras writes."""
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    two_in_two_out(keras).save(tmp_path / "k.keras")
    two_in_two_out(minikeras).save(tmp_path / "m.keras")

    def config(path):
        with zipfile.ZipFile(path) as archive:
            return json.loads(archive.read("config.json"))

    theirs, ours = config(tmp_path / "k.keras"), config(tmp_path / "m.keras")
    assert ours["class_name"] == theirs["class_name"] == "Functional"
    for key in ("input_layers", "output_layers", "name", "trainable"):
        assert ours["config"][key] == theirs["config"][key], key
    for mine, reference in zip(ours["config"]["layers"], theirs["config"]["layers"],
                               strict=True):
        assert (mine["name"], mine["class_name"]) == (reference["name"], reference["class_name"])
        assert mine["inbound_nodes"] == reference["inbound_nodes"], mine["name"]
        assert mine.get("build_config") == reference.get("build_config"), mine["name"]


@pytest.mark.parametrize("direction", ["keras_to_minikeras", "minikeras_to_keras"])
def test_every_merge_layer_round_trip(direction, tmp_path):
    x = RNG.normal(size=(5, 6)).astype("float32")
    source, target = (keras, minikeras) if direction == "keras_to_minikeras" else (
        minikeras, keras)
    model = every_merge(source)
    model.save(tmp_path / "merge.keras")
    loaded = target.models.load_model(tmp_path / "merge.keras")
    np.testing.assert_allclose(np.asarray(loaded.predict(x, verbose=0)),
                               np.asarray(model.predict(x, verbose=0)), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("direction", ["keras_to_minikeras", "minikeras_to_keras"])
def test_json_round_trip(direction):
    source, target = (keras, minikeras) if direction == "keras_to_minikeras" else (
        minikeras, keras)
    model = two_in_two_out(source)
    rebuilt = target.models.model_from_json(model.to_json())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert [tuple(t.shape) for t in rebuilt.outputs] == [tuple(t.shape) for t in model.outputs]
    rebuilt.set_weights(model.get_weights())
    for p, q in zip(_predictions(model), _predictions(rebuilt), strict=True):
        np.testing.assert_allclose(q, p, rtol=1e-5, atol=1e-6)


def nested(k):
    """A Sequential encoder shared by two inputs (frozen), and a functional head called twice."""
    encoder = k.Sequential([k.Input((6,)), k.layers.Dense(4, name="enc_dense")],
                           name="encoder")
    encoder.trainable = False
    inner_in = k.Input((4,), name="inner_in")
    head = k.Model(inner_in, k.layers.Dense(2, name="head_dense")(inner_in), name="head")
    left, right = k.Input((6,), name="left"), k.Input((6,), name="right")
    joined = k.layers.concatenate([encoder(left), encoder(right)], name="joined")
    out = head(k.layers.Dense(4, name="mix")(joined))
    model = k.Model([left, right], [out, head(encoder(left))], name="siamese")
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.mark.parametrize("direction", ["keras_to_minikeras", "minikeras_to_keras"])
def test_nested_models_round_trip(direction, tmp_path):
    x = [RNG.normal(size=(5, 6)).astype("float32"), RNG.normal(size=(5, 6)).astype("float32")]
    y = [np.ones((5, 2), "float32"), np.zeros((5, 2), "float32")]
    source, target = (keras, minikeras) if direction == "keras_to_minikeras" else (
        minikeras, keras)
    keras.backend.clear_session()
    minikeras.backend.clear_session()
    model = nested(source)
    model.save(tmp_path / "nested.keras")
    loaded = target.models.load_model(tmp_path / "nested.keras")
    # The frozen encoder's weights stay frozen (Keras writes and reads the freeze on its
    # layers: a Keras-loaded encoder itself says trainable=True even from Keras's own file).
    assert len(loaded.trainable_weights) == len(model.trainable_weights) == 4
    assert loaded.get_layer("encoder").trainable_weights == []
    for p, q in zip(model.predict(x, verbose=0), loaded.predict(x, verbose=0), strict=True):
        np.testing.assert_allclose(np.asarray(q), np.asarray(p), rtol=1e-5, atol=1e-6)
    expected = model.fit(x, y, epochs=2, shuffle=False, verbose=0).history
    received = loaded.fit(x, y, epochs=2, shuffle=False, verbose=0).history
    for key in expected:
        np.testing.assert_allclose(received[key], expected[key], rtol=1e-4, err_msg=key)
