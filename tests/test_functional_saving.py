"""Functional models: to_json / model_from_json / save / load_model / clone_model round trips,
and the errors a damaged or hostile config gets (bounded loading)."""

import json

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers
from minikeras.saving import serialization

X = {"a": np.random.default_rng(0).normal(size=(4, 4)).astype("float32"),
     "b": np.random.default_rng(1).normal(size=(4, 3)).astype("float32")}


def build(inputs_as="dict"):
    a, b = keras.Input((4,), name="a"), keras.Input((3,), name="b")
    s = layers.Add(name="add")([layers.Dense(4, name="d1")(a), a])
    c = layers.Concatenate(name="cat")([s, layers.Dense(2, name="from_b")(b)])
    shared = layers.Dense(2, name="shared")
    o1 = shared(c)
    o2 = layers.Dense(1, name="o2")(shared(layers.Dense(6, name="d6")(c)))
    inputs = {"a": a, "b": b} if inputs_as == "dict" else [a, b]
    return keras.Model(inputs, [o1, o2], name="m")


def predictions(model, x):
    return [np.asarray(p) for p in model.predict(x, verbose=0)]


@pytest.mark.parametrize("inputs_as", ["dict", "list"])
def test_json_round_trip_keeps_structure_and_sharing(inputs_as):
    model = build(inputs_as)
    rebuilt = keras.models.model_from_json(model.to_json())
    assert [layer.name for layer in rebuilt.layers] == [layer.name for layer in model.layers]
    assert rebuilt._input_keys == model._input_keys
    shared = rebuilt.get_layer("shared")
    assert len(shared._inbound_nodes) == 2          # still one layer called twice
    rebuilt.set_weights(model.get_weights())
    x = X if inputs_as == "dict" else [X["a"], X["b"]]
    for p, q in zip(predictions(model, x), predictions(rebuilt, x), strict=True):
        np.testing.assert_array_equal(p, q)


def test_single_input_and_output_stay_single(tmp_path):
    inputs = keras.Input((3,))
    model = keras.Model(inputs, layers.Dense(2)(inputs))
    model.save(tmp_path / "single.keras")
    loaded = keras.models.load_model(tmp_path / "single.keras")
    out = loaded.predict(np.ones((2, 3)), verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (2, 2)
    np.testing.assert_array_equal(out, model.predict(np.ones((2, 3)), verbose=0))


def test_save_and_load_trained_compiled_model(tmp_path):
    model = build()
    model.compile(optimizer="adam", loss={"shared": "mse", "o2": "mae"},
                  loss_weights={"shared": 1.0, "o2": 0.25}, metrics={"o2": ["mae"]})
    y = [np.ones((4, 2)), np.zeros((4, 1))]
    model.fit(X, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    loaded = keras.models.load_model(tmp_path / "m.keras")
    expected = model.fit(X, y, epochs=2, shuffle=False, verbose=0).history
    received = loaded.fit(X, y, epochs=2, shuffle=False, verbose=0).history
    assert set(received) == set(expected)
    for key in expected:
        np.testing.assert_allclose(received[key], expected[key], rtol=1e-6, err_msg=key)


def test_clone_model_builds_new_layers_with_the_same_graph():
    model = build()
    clone = keras.models.clone_model(model)
    assert [layer.name for layer in clone.layers] == [layer.name for layer in model.layers]
    assert not {id(w) for w in clone.weights} & {id(w) for w in model.weights}
    assert len(clone.get_layer("shared")._inbound_nodes) == 2
    clone.set_weights(model.get_weights())
    for p, q in zip(predictions(model, X), predictions(clone, X), strict=True):
        np.testing.assert_array_equal(p, q)


def test_clone_model_with_input_tensors_and_call_function():
    model = build("list")
    calls = []

    def call(layer, inputs):
        calls.append(layer.name)
        return layer(inputs)

    new_inputs = [keras.Input((4,), name="a2"), keras.Input((3,), name="b2")]
    clone = keras.models.clone_model(model, input_tensors=new_inputs, call_function=call)
    assert clone.inputs == new_inputs
    assert calls.count("shared") == 2
    with pytest.raises(ValueError, match="must hold 2 KerasTensor"):
        keras.models.clone_model(model, input_tensors=new_inputs[:1])


# ------------------------------------------------------------------ damaged configs


def config_of(model):
    return json.loads(model.to_json())


def load(config):
    return keras.models.model_from_json(json.dumps(config))


def layer_entry(config, name):
    return next(e for e in config["config"]["layers"] if e["name"] == name)


def test_loop_in_the_graph_is_refused():
    config = config_of(build())
    # d1 now takes its input from add, which needs d1: neither call can be made.
    node = layer_entry(config, "d1")["inbound_nodes"][0]
    node["args"][0]["config"]["keras_history"] = ["add", 0, 0]
    with pytest.raises(ValueError, match=r"loops or disconnected nodes.*'d1'.*'add'"):
        load(config)


@pytest.mark.parametrize("history, message", [
    (["nowhere", 0, 0], "no layer named 'nowhere'"),
    (["a", -1, 0], r"must be \[layer name, node index, tensor index\]"),
    (["a", 0], r"must be \[layer name, node index, tensor index\]"),
    (["a", 0, 5], "layer 'a' has 1 output"),
    (["a", 7, 0], "loops or disconnected nodes"),
])
def test_bad_tensor_history_is_refused(history, message):
    config = config_of(build())
    layer_entry(config, "d1")["inbound_nodes"][0]["args"][0]["config"]["keras_history"] = \
        history
    with pytest.raises(ValueError, match=message):
        load(config)


def test_duplicate_layer_names_are_refused():
    config = config_of(build())
    layer_entry(config, "d6")["name"] = "d1"
    with pytest.raises(ValueError, match="the name 'd1' is used by two layers"):
        load(config)


def test_unknown_call_arguments_are_refused():
    config = config_of(build())
    layer_entry(config, "d1")["inbound_nodes"][0]["kwargs"] = {"scale": 2}
    with pytest.raises(ValueError, match=r"unsupported call arguments.*scale"):
        load(config)


def test_bad_outputs_are_refused():
    config = config_of(build())
    config["config"]["output_layers"] = "o2"
    with pytest.raises(ValueError, match=r"output_layers.*expected tensors"):
        load(config)


def test_models_nested_without_end_are_refused_without_recursing_deeply():
    inputs = keras.Input((2,), name="in")
    entry = config_of(keras.Model(inputs, layers.Dense(1, name="d")(inputs)))
    # Wrap the model in itself 200 times, far beyond MAX_CONFIG_DEPTH (and Python's stack).
    for _ in range(200):
        outer = json.loads(json.dumps(entry))
        layer_entry(outer, "d").update(entry)
        entry = outer
    # A config given as a dict (from_config, layers.deserialize) meets the depth limit ...
    with pytest.raises(ValueError, match=f"nested more than {serialization.MAX_CONFIG_DEPTH}"):
        serialization.deserialize_keras_object(entry)
    # ... and a file or JSON string is refused even earlier, by the JSON reader's own limit.
    with pytest.raises(ValueError, match="nested more than"):
        keras.models.model_from_json(json.dumps(entry))
