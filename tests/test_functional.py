"""Graph models: symbolic tensors and nodes, the graph executor (models/graph.py), functional
models with several inputs and outputs, nested and shared models, masks and errors."""

import numpy as np
import pytest

import minikeras as mk
from minikeras import backend, layers
from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer
from tests.gradcheck import numerical_gradient, relative_error


class Sum(Layer):
    """A test-only merge layer: out = x0 + x1 (a list of two tensors of one shape)."""

    def compute_output_shape(self, input_shape):
        if input_shape[0] != input_shape[1]:
            raise ValueError(f"Sum needs equal shapes. Received: input_shape={input_shape}")
        return input_shape[0]

    def forward(self, x, training=False):
        return x[0] + x[1], None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return [dout, dout], []


class ZeroMask(Layer):
    """A test-only masking layer: time steps whose features are all 0 are masked."""

    def forward(self, x, training=False):
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []

    def compute_mask(self, inputs, previous_mask):
        return np.any(inputs != 0, axis=-1)


class SeesMask(Layer):
    """Records the mask its forward receives; passes x through."""

    supports_masking = True

    def forward(self, x, training=False, mask=None):
        self.seen_mask = mask
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []


@pytest.fixture
def float64():
    saved = backend.floatx()
    backend.set_floatx("float64")
    yield
    backend.set_floatx(saved)


def _rng(seed=0):
    return np.random.default_rng(seed)


# ------------------------------------------------------------- symbolic tensors


def test_input_and_layer_calls_record_nodes_and_shapes():
    inputs = mk.Input((5,), name="features")
    assert isinstance(inputs, KerasTensor)
    assert inputs.shape == (None, 5) and inputs.name == "features"
    dense = layers.Dense(3, name="d")
    hidden = dense(inputs)
    assert isinstance(hidden, KerasTensor) and hidden.shape == (None, 3)
    assert dense.built and dense.kernel.shape == (5, 3)
    node = dense._inbound_nodes[0]
    assert node.input_tensors == [inputs] and node.output_tensors == [hidden]
    assert hidden._keras_history[0] is dense
    assert dense.input is inputs and dense.output is hidden
    # A second call adds a node; input/output stay those of the first call, as in Keras.
    other = mk.Input((5,))
    dense(other)
    assert len(dense._inbound_nodes) == 2 and dense.input is inputs


def test_keras_tensor_lives_in_the_backend():
    from minikeras.layers import input_layer

    assert input_layer.KerasTensor is KerasTensor
    assert backend.is_keras_tensor(mk.Input((2,)))
    assert not backend.is_keras_tensor(np.zeros((1, 2)))


def test_wrong_input_width_fails_at_the_call_with_keras_message():
    dense = layers.Dense(2, name="fixed")
    dense(mk.Input((4,)))
    with pytest.raises(ValueError, match="expected axis -1 of input shape to have value 4"):
        dense(mk.Input((3,)))


def test_layer_never_called_has_no_output():
    with pytest.raises(AttributeError, match="has never been called"):
        _ = layers.Dense(2, name="lonely").output


def test_merging_incompatible_shapes_fails_at_the_call():
    a, b = mk.Input((3,)), mk.Input((4,))
    with pytest.raises(ValueError, match="Sum needs equal shapes"):
        Sum()([a, b])


def test_layer_called_on_a_mix_of_tensors_and_arrays_is_refused():
    with pytest.raises(ValueError, match="mix of symbolic tensors"):
        Sum()([mk.Input((3,)), np.zeros((1, 3))])


# ------------------------------------------------------------------ the graph


def _two_branch_model():
    """x -> d1 -> (fan-out) -> shared(.) twice -> Sum -> out, plus a dead branch."""
    inputs = mk.Input((3,), name="x")
    h = layers.Dense(4, activation="tanh", name="d1")(inputs)
    shared = layers.Dense(4, activation="tanh", name="shared")
    a = shared(h)
    b = shared(layers.Dense(4, activation="tanh", name="d2")(h))
    layers.Dense(2, name="dead")(h)                      # not connected to the output
    out = layers.Dense(1, name="out")(Sum(name="sum")([a, b]))
    return mk.Model(inputs, out, name="branches")


def test_layers_are_in_keras_order_and_dead_branches_are_left_out():
    model = _two_branch_model()
    assert [layer.name for layer in model.layers] == ["x", "d1", "d2", "shared", "sum", "out"]
    assert [w.path for w in model.weights] == [
        "d1/kernel", "d1/bias", "d2/kernel", "d2/bias", "shared/kernel", "shared/bias",
        "out/kernel", "out/bias"]


def test_fan_out_and_shared_layer_gradients_match_finite_differences(float64):
    model = _two_branch_model()
    model.compile(optimizer="sgd", loss="mse")
    rng = _rng(1)
    x = rng.normal(size=(6, 3))
    y = rng.normal(size=(6, 1))

    def loss():
        y_pred, tape = model._forward(x, training=False)
        return model._loss_and_output_gradients(y, y_pred, tape)[0]

    y_pred, tape = model._forward(x, training=False)
    _, dy, from_logits = model._loss_and_output_gradients(y, y_pred, tape)
    grads = model._gradients(dy, tape, from_logits)
    assert len(grads) == len(model.trainable_weights) == 8
    for weight, grad in zip(model.trainable_weights, grads):
        numeric = numerical_gradient(lambda _: loss(), weight.value)
        assert relative_error(grad, numeric) < 1e-6, weight.path


def test_input_gradient_through_a_nested_model_matches_finite_differences(float64):
    inner_in = mk.Input((3,))
    inner = mk.Model(inner_in, layers.Dense(3, activation="tanh", name="in_d")(inner_in),
                     name="inner")
    x_in = mk.Input((3,))
    h = inner(x_in)
    out = layers.Dense(1, name="top")(Sum()([inner(h), h]))    # the nested model twice
    model = mk.Model(x_in, out)
    model.compile(optimizer="sgd", loss="mse")
    rng = _rng(2)
    x, y = rng.normal(size=(5, 3)), rng.normal(size=(5, 1))

    def loss():
        y_pred, tape = model._forward(x, training=False)
        return model._loss_and_output_gradients(y, y_pred, tape)[0]

    y_pred, tape = model._forward(x, training=False)
    _, dy, flag = model._loss_and_output_gradients(y, y_pred, tape)
    grads = model._gradients(dy, tape, flag)
    assert [w.path for w in model.trainable_weights] == [
        "in_d/kernel", "in_d/bias", "top/kernel", "top/bias"]
    for weight, grad in zip(model.trainable_weights, grads):
        numeric = numerical_gradient(lambda _: loss(), weight.value)
        assert relative_error(grad, numeric) < 1e-6, weight.path


def test_first_layers_skip_the_input_gradient_and_dead_branches_are_not_run(monkeypatch):
    model = _two_branch_model()
    model.compile(optimizer="sgd", loss="mse")
    calls = {}
    original = layers.Dense.backward

    def spy(self, dout, cache, from_logits=False, need_input_gradient=True):
        calls.setdefault(self.name, []).append(need_input_gradient)
        return original(self, dout, cache, from_logits, need_input_gradient)

    monkeypatch.setattr(layers.Dense, "backward", spy)
    model.train_on_batch(np.ones((2, 3)), np.ones((2, 1)))
    assert calls["d1"] == [False]           # fed by the model input: nothing upstream
    assert calls["shared"] == [True, True]  # called twice, once per node
    assert "dead" not in calls


def test_sequential_runs_on_the_graph_executor():
    model = mk.Sequential([mk.Input((2,)), layers.Dense(3, name="a"), layers.Dense(1, name="b")])
    assert [step.layer.name for step in model._graph.steps] == ["a", "b"]
    assert model.get_layer("a").output is model.get_layer("b").input
    model.pop()
    model.add(layers.Dense(2, name="c"))
    assert [step.layer.name for step in model._graph.steps] == ["a", "c"]
    assert len(model.get_layer("a")._inbound_nodes) == 1    # the old chain's node is gone


# ------------------------------------------------------- several inputs/outputs


def _multi_io(seed=0):
    backend.clear_session()
    a = mk.Input((3,), name="a")
    b = mk.Input((2,), name="b")
    h = layers.Dense(4, activation="relu", name="h")(a)
    out1 = layers.Dense(1, activation="sigmoid", name="out1")(h)
    out2 = layers.Dense(2, name="out2")(Sum()([layers.Dense(2, name="hb")(b),
                                                layers.Dense(2, name="ha")(h)]))
    model = mk.Model([a, b], [out1, out2])
    rng = _rng(seed)
    x = [rng.normal(size=(10, 3)).astype("float32"), rng.normal(size=(10, 2)).astype("float32")]
    y = [rng.integers(0, 2, (10, 1)).astype("float32"), rng.normal(size=(10, 2))]
    return model, x, y


def test_multi_output_history_keys_and_evaluate_order():
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss={"out1": "binary_crossentropy", "out2": "mse"},
                  loss_weights={"out1": 0.5, "out2": 2.0},
                  metrics={"out1": ["accuracy"], "out2": ["mae", "mse"]})
    history = model.fit(x, y, epochs=2, batch_size=4, verbose=0, shuffle=False)
    assert list(history.history) == ["loss", "out1_accuracy", "out1_loss", "out2_loss",
                                     "out2_mae", "out2_mse"]
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    values = model.evaluate(x, y, verbose=0)
    assert values == [logs[k] for k in ("loss", "out1_loss", "out2_loss", "out1_accuracy",
                                        "out2_mae", "out2_mse")]
    assert logs["loss"] == pytest.approx(0.5 * logs["out1_loss"] + 2.0 * logs["out2_loss"],
                                         rel=1e-5)
    assert logs["out2_mse"] == pytest.approx(logs["out2_loss"], rel=1e-5)


def test_lists_and_dicts_of_data_give_the_same_results():
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"],
                  metrics=[["accuracy"], ["mae"]])
    as_list = model.evaluate(x, y, verbose=0, return_dict=True)
    as_dict = model.evaluate({"a": x[0], "b": x[1]}, {"out1": y[0], "out2": y[1]}, verbose=0,
                             return_dict=True)
    assert as_list == as_dict
    predictions = model.predict({"b": x[1], "a": x[0]}, verbose=0)
    assert isinstance(predictions, list) and [p.shape for p in predictions] == [(10, 1),
                                                                                 (10, 2)]
    batch = model.predict_on_batch(x)
    np.testing.assert_allclose(batch[1], predictions[1], rtol=1e-6)
    model.train_on_batch(x, y)
    model.test_on_batch(x, y)


def test_dict_outputs_predict_a_dict():
    inputs = mk.Input((3,), name="x")
    model = mk.Model({"x": inputs}, {"score": layers.Dense(1, name="s")(inputs)})
    out = model.predict({"x": np.ones((2, 3))}, verbose=0)
    assert list(out) == ["score"] and out["score"].shape == (2, 1)
    model.compile(optimizer="sgd", loss={"score": "mse"})
    model.fit({"x": np.ones((4, 3))}, {"score": np.zeros((4, 1))}, verbose=0)


def test_one_loss_applies_to_every_output():
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss="mse")
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "out1_loss", "out2_loss"]
    assert logs["loss"] == pytest.approx(logs["out1_loss"] + logs["out2_loss"], rel=1e-5)


@pytest.mark.parametrize("bad, match", [
    (lambda x, y: (x[:1], y), "expects 2 input"),
    (lambda x, y: ({"a": x[0], "c": x[1]}, y), "keys \\['a', 'b'\\]"),
    (lambda x, y: (x[0], y), "has 2 inputs"),
    (lambda x, y: (x, y[:1]), "expects 2 output"),
    (lambda x, y: (x, {"out1": y[0], "oops": y[1]}), "keys \\['out1', 'out2'\\]"),
    (lambda x, y: ([x[0], x[1][:5]], y), "Data cardinality is ambiguous"),
])
def test_mismatched_data_is_refused_before_training(bad, match):
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"])
    before = model.get_weights()
    bad_x, bad_y = bad(x, y)
    with pytest.raises(ValueError, match=match):
        model.fit(bad_x, bad_y, verbose=0)
    for old, new in zip(before, model.get_weights()):
        np.testing.assert_array_equal(old, new)


@pytest.mark.parametrize("kwargs, match", [
    ({"loss": ["mse"]}, "one entry per model output"),
    ({"loss": {"out1": "mse"}}, "Expected keys"),
    ({"loss": "mse", "loss_weights": [1.0]}, "one entry per model output"),
    ({"loss": "mse", "metrics": ["mae"]}, "list with one list per output"),
    ({"loss": "mse", "metrics": {"nope": ["mae"]}}, "must be output names"),
])
def test_compile_checks_per_output_arguments(kwargs, match):
    model, _, _ = _multi_io()
    with pytest.raises(ValueError, match=match):
        model.compile(optimizer="sgd", **kwargs)


# --------------------------------------------------- nested models and surgery


def test_nested_sequential_shared_tower_and_feature_extractor():
    tower = mk.Sequential([mk.Input((4,)), layers.Dense(3, activation="relu", name="t1")],
                          name="tower")
    left, right = mk.Input((4,), name="left"), mk.Input((4,), name="right")
    joined = Sum(name="join")([tower(left), tower(right)])
    out = layers.Dense(1, activation="sigmoid", name="head")(joined)
    model = mk.Model([left, right], out)
    assert [layer.name for layer in model.layers] == ["left", "right", "tower", "join", "head"]
    rng = _rng(3)
    x = [rng.normal(size=(8, 4)), rng.normal(size=(8, 4))]
    y = rng.integers(0, 2, (8, 1))
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = tower.get_weights()
    model.fit(x, y, epochs=2, verbose=0)
    assert not np.array_equal(before[0], tower.get_weights()[0])
    # A feature extractor shares the trained weights.
    features = mk.Model(inputs=model.input, outputs=model.get_layer("join").output)
    np.testing.assert_allclose(features.predict(x, verbose=0),
                               tower.predict(x[0], verbose=0) + tower.predict(x[1], verbose=0),
                               rtol=1e-6)
    assert model.inputs == [left, right] and model.outputs == [out]


def test_frozen_sub_model_is_not_updated_after_recompile():
    block_in = mk.Input((3,))
    block = mk.Model(block_in, layers.Dense(4, activation="tanh", name="pre")(block_in),
                     name="pretrained")
    inputs = mk.Input((3,))
    model = mk.Model(inputs, layers.Dense(1, name="new_head")(block(inputs)))
    model.compile(optimizer="sgd", loss="mse")
    assert len(model.trainable_weights) == 4
    block.trainable = False
    model.compile(optimizer="sgd", loss="mse")
    assert [w.path for w in model.trainable_weights] == ["new_head/kernel", "new_head/bias"]
    assert [w.path for w in model.non_trainable_weights] == ["pre/kernel", "pre/bias"]
    frozen, head = block.get_weights(), model.get_layer("new_head").get_weights()
    rng = _rng(5)
    model.fit(rng.normal(size=(8, 3)), rng.normal(size=(8, 1)), epochs=2, verbose=0)
    for old, new in zip(frozen, block.get_weights()):
        np.testing.assert_array_equal(old, new)
    assert not np.array_equal(head[0], model.get_layer("new_head").get_weights()[0])


def test_frozen_layers_return_no_weight_gradients():
    x = np.ones((2, 3), dtype="float32")
    dense = layers.Dense(2)
    dense(x)
    out, cache = dense.forward(x)
    dense.trainable = False
    dx, grads = dense.backward(np.ones_like(out), cache)
    assert grads == [] and dx.shape == x.shape
    conv = layers.Conv2D(2, 3, trainable=False)
    image = np.ones((1, 5, 5, 1), dtype="float32")
    conv(image)
    out, cache = conv.forward(image)
    assert conv.backward(np.ones_like(out), cache)[1] == []


def test_integer_inputs_stay_integer():
    class Lookup(Layer):
        """Embedding-like: rows of a table picked by integer ids."""

        def build(self, input_shape):
            self.table = self.add_weight((10, 2), "ones", name="table")

        def compute_output_shape(self, input_shape):
            return tuple(input_shape) + (2,)

        def forward(self, x, training=False):
            assert np.issubdtype(x.dtype, np.integer), x.dtype
            return self.table.value[x], x

        def backward(self, dout, ids, from_logits=False, need_input_gradient=True):
            grad = np.zeros_like(self.table.value)
            np.add.at(grad, ids, dout)
            return None, [grad]

    ids = mk.Input((3,), dtype="int32")
    out = layers.Dense(1)(layers.Flatten()(Lookup()(ids)))
    model = mk.Model(ids, out)
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.array([[1, 2, 3], [4, 5, 6]]), np.zeros((2, 1)), verbose=0)
    assert model.predict(np.array([[1.0, 2.0, 3.0]]), verbose=0).shape == (1, 1)


# --------------------------------------------------------------------- masks


def test_masks_reach_the_layers_and_the_loss():
    inputs = mk.Input((4, 2))
    masked = ZeroMask()(inputs)
    seer = SeesMask()
    out = layers.Dense(1, name="per_step")(seer(masked))
    model = mk.Model(inputs, out)
    model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    rng = _rng(4)
    x = rng.normal(size=(3, 4, 2))
    x[0, 2:] = 0.0                                  # sample 0: last two steps are padding
    x[2, 3] = 0.0
    y = rng.normal(size=(3, 4, 1))
    logs = model.evaluate(x, y, verbose=0, return_dict=True)
    mask = np.any(x != 0, axis=-1)
    np.testing.assert_array_equal(seer.seen_mask, mask)
    errors = (model.predict(x, verbose=0) - y)[..., 0]
    assert logs["loss"] == pytest.approx(np.mean(errors[mask] ** 2), rel=1e-5)
    assert logs["mae"] == pytest.approx(np.mean(np.abs(errors[mask])), rel=1e-5)


def test_a_layer_without_masking_support_drops_the_mask():
    inputs = mk.Input((4, 2))
    out = layers.Flatten()(ZeroMask()(inputs))
    model = mk.Model(inputs, layers.Dense(1)(out))
    x = np.zeros((2, 4, 2))
    _, tape = model._forward(x, training=False)
    assert model._graph.output_masks(tape) == [None]


# -------------------------------------------------------------------- errors


def test_outputs_not_reachable_from_inputs():
    a, b = mk.Input((2,), name="a"), mk.Input((2,), name="b")
    out = layers.Dense(1)(b)
    with pytest.raises(ValueError, match="Graph disconnected"):
        mk.Model(a, out)


def test_duplicate_layer_names():
    inputs = mk.Input((2,))
    h = layers.Dense(2, name="same")(inputs)
    with pytest.raises(ValueError, match='The name "same" is used 2 times'):
        mk.Model(inputs, layers.Dense(1, name="same")(h))


def test_model_arguments_must_be_tensors():
    with pytest.raises(ValueError, match="must be KerasTensors"):
        mk.Model(np.zeros((1, 2)), mk.Input((2,)))


# ------------------------------------------------------ tools on graph models


def test_trace_shapes_walks_the_graph():
    model, x, _ = _multi_io()
    rows = mk.utils.trace_shapes(model, [a[:3] for a in x], print_table=False)
    by_name = {row["layer"]: row for row in rows}
    assert [row["layer"] for row in rows] == [step.layer.name for step in model._graph.steps]
    assert by_name["h"]["A_prev"] == (3, 3) and by_name["h"]["dW"] == (3, 4)
    # h fans out to out1 and ha: its dA is the sum of both, shaped like its output
    assert by_name["h"]["dA"] == (3, 4)
    merge = by_name[[r["layer"] for r in rows if r["type"] == "Sum"][0]]
    assert merge["A_prev"] == [(3, 2), (3, 2)] and merge["dA_prev"] == [(3, 2), (3, 2)]


def test_check_gradients_on_a_two_output_model():
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"],
                  loss_weights=[0.3, 1.7])
    errors = mk.utils.check_gradients(model, [a[:4] for a in x], [a[:4] for a in y])
    assert len(errors) == len(model.trainable_weights)
    assert max(errors.values()) < 1e-6


def test_compare_describes_several_input_arrays():
    from minikeras.compare_child import describe_array

    described = describe_array([np.zeros((2, 3)), np.ones((2, 1))])
    assert [item["shape"] for item in described["arrays"]] == [[2, 3], [2, 1]]
    assert describe_array({"a": np.zeros(2)})["arrays"]["a"]["shape"] == [2]


def test_one_sample_weight_array_serves_every_output():
    model, x, y = _multi_io()
    model.compile(optimizer="sgd", loss=["binary_crossentropy", "mse"])
    weights = np.linspace(0.0, 2.0, 10)
    weighted = model.evaluate(x, y, sample_weight=weights, verbose=0, return_dict=True)
    zeroed = weights.copy()
    zeroed[5:] = 0.0
    assert weighted != model.evaluate(x, y, sample_weight=zeroed, verbose=0, return_dict=True)
    with pytest.raises(ValueError, match="Expected one array for `sample_weight`"):
        model.fit(x, y, sample_weight=[weights, weights], verbose=0)


def test_freezing_a_model_freezes_its_layers_as_keras():
    tower = mk.Sequential([mk.Input((2,)), layers.Dense(2, name="t")])
    inputs = mk.Input((2,))
    model = mk.Model(inputs, layers.Dense(1, name="top")(tower(inputs)))
    model.trainable = False
    assert not tower.trainable and not tower.get_layer("t").trainable
    assert model.trainable_weights == []
    model.trainable = True
    assert tower.get_layer("t").trainable and len(model.trainable_weights) == 4


def test_nested_model_with_two_inputs_and_two_outputs(float64):
    a, b = mk.Input((3,)), mk.Input((3,))
    inner = mk.Model([a, b], [layers.Dense(2, activation="tanh", name="i1")(Sum()([a, b])),
                              layers.Dense(3, activation="tanh", name="i2")(b)], name="inner")
    x1, x2 = mk.Input((3,)), mk.Input((3,))
    first, second = inner([x1, x2])
    solo = mk.Model([a], layers.Dense(3, name="solo_d")(a), name="solo")  # one input, as a list
    padded = layers.Dense(3, name="pad")(first)          # (None, 2) -> (None, 3)
    out = layers.Dense(1, name="top")(Sum()([second, solo([padded])]))
    model = mk.Model([x1, x2], out)
    model.compile(optimizer="sgd", loss="mse")
    rng = _rng(6)
    x = [rng.normal(size=(4, 3)), rng.normal(size=(4, 3))]
    y = rng.normal(size=(4, 1))
    errors = mk.utils.check_gradients(model, x, y)
    assert len(errors) == 10 and max(errors.values()) < 1e-6


def test_a_layer_used_directly_and_inside_a_nested_model(float64):
    dense = layers.Dense(3, activation="tanh", name="both")
    inner_in = mk.Input((3,))
    inner = mk.Model(inner_in, dense(inner_in), name="inner")
    inputs = mk.Input((3,))
    model = mk.Model(inputs, layers.Dense(1, name="top")(dense(inner(inputs))))
    model.compile(optimizer="sgd", loss="mse")
    assert [w.path for w in model.trainable_weights] == [
        "both/kernel", "both/bias", "top/kernel", "top/bias"]
    rng = _rng(8)
    errors = mk.utils.check_gradients(model, rng.normal(size=(4, 3)), rng.normal(size=(4, 1)))
    assert len(errors) == 4 and max(errors.values()) < 1e-6
