"""Mistakes a user makes, one test each: the exception type Keras raises (ValueError or
TypeError), a message naming the argument and quoting what was received, and, where a model
exists, not one weight changed."""

import contextlib
import re
import warnings

import numpy as np
import pytest

import minikeras as keras

RNG = np.random.default_rng(0)
X = RNG.normal(size=(10, 3)).astype("float32")
Y = (RNG.random(10) > 0.5).astype("float32")


def binary_model(compiled=True):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    if compiled:
        model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    return model


def softmax_model(loss="sparse_categorical_crossentropy"):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss=loss)
    return model


@contextlib.contextmanager
def warnings_recorded():
    """Every warning raised inside, each one recorded (none printed)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        yield caught


def assert_unchanged(model, before):
    after = model.get_weights()
    assert len(after) == len(before)
    for a, b in zip(after, before):
        np.testing.assert_array_equal(a, b)


def raises_on_fit(model, error, pattern, *args, **kwargs):
    """model.fit(*args, **kwargs) raises `error` matching `pattern`; no weight changes."""
    before = model.get_weights()
    with pytest.raises(error, match=pattern):
        model.fit(*args, **{"verbose": 0, **kwargs})
    assert_unchanged(model, before)


# ------------------------------------------------------------------ unknown names


def test_unknown_activation_lists_valid_names():
    with pytest.raises(ValueError, match=r"'relux'.*Valid names: \[.*'relu'.*'sigmoid'"):
        keras.layers.Dense(2, activation="relux")


def test_unknown_loss_lists_valid_names():
    model = binary_model(compiled=False)
    with pytest.raises(ValueError, match=r"'binary_crossentropyx'.*'binary_crossentropy'"):
        model.compile(optimizer="adam", loss="binary_crossentropyx")


def test_unknown_optimizer_lists_valid_names():
    model = binary_model(compiled=False)
    with pytest.raises(ValueError, match=r"'adamx'.*'adam'.*'sgd'"):
        model.compile(optimizer="adamx", loss="mse")


def test_unknown_metric_lists_valid_names():
    model = binary_model(compiled=False)
    with pytest.raises(ValueError, match=r"'accuracyx'.*'binary_accuracy'"):
        model.compile(optimizer="adam", loss="mse", metrics=["accuracyx"])


def test_metrics_not_a_list():
    model = binary_model(compiled=False)
    with pytest.raises(ValueError, match=r"`metrics`.*Received: metrics='accuracy'"):
        model.compile(optimizer="adam", loss="mse", metrics="accuracy")


def test_unknown_layer_keyword_argument():
    # Keras raises ValueError (not TypeError) for these.
    with pytest.raises(ValueError, match=r"Dense: \{'foo': 1\}"):
        keras.layers.Dense(2, foo=1)


# ------------------------------------------------------------------ data that does not fit


def test_x_and_y_of_different_lengths():
    raises_on_fit(binary_model(), ValueError, r"x sizes: 10, y sizes: 8", X, Y[:8])


def test_sample_weight_of_another_length():
    raises_on_fit(binary_model(), ValueError, r"sample_weight sizes: 9", X, Y,
                  sample_weight=np.ones(9))


def test_input_width_that_does_not_fit_the_model():
    model = binary_model()
    raises_on_fit(model, ValueError, re.escape("expected shape=(None, 3)") + ".*"
                  + re.escape("Received: x.shape=(10, 4)"), np.ones((10, 4)), Y)
    before = model.get_weights()
    with pytest.raises(ValueError, match=re.escape("x.shape=(10, 4)")):
        model.predict(np.ones((10, 4)), verbose=0)
    with pytest.raises(ValueError, match=re.escape("x.shape=(10, 4)")):
        model.evaluate(np.ones((10, 4)), Y, verbose=0)
    assert_unchanged(model, before)


def test_targets_wider_than_a_sigmoid_output():
    raises_on_fit(binary_model(), ValueError,
                  re.escape("y_true.shape=(10, 3), y_pred.shape=(10, 1)"), X, np.ones((10, 3)))


def test_one_hot_targets_of_the_wrong_width():
    raises_on_fit(softmax_model("categorical_crossentropy"), ValueError,
                  re.escape("y_true.shape=(10, 4)"), X, np.eye(4)[np.arange(10) % 4])


def test_sparse_labels_out_of_range_anywhere_in_the_data():
    labels = np.zeros(10)
    labels[-1] = 5          # in the last batch: still reported before any training
    raises_on_fit(softmax_model(), ValueError, r"labels.*\[0, 2\].*5", X, labels, batch_size=2)


def test_fit_before_compile():
    model = binary_model(compiled=False)
    for call in (lambda: model.fit(X, Y, verbose=0), lambda: model.evaluate(X, Y, verbose=0),
                 lambda: model.train_on_batch(X, Y), lambda: model.test_on_batch(X, Y)):
        with pytest.raises(ValueError, match=r"compile\(\)"):
            call()


def test_fit_without_targets():
    raises_on_fit(binary_model(), ValueError, r"Received: y=None", X)


def test_empty_x():
    raises_on_fit(binary_model(), ValueError, re.escape("Received: x.shape=(0, 3)"),
                  np.zeros((0, 3)), np.zeros((0,)))


def test_strings_in_x():
    raises_on_fit(binary_model(), TypeError, r"`x` must hold numbers.*dtype <U1",
                  np.array([["a", "b", "c"]] * 10), Y)


def test_objects_in_y():
    raises_on_fit(binary_model(), TypeError, r"`y` must hold numbers.*dtype object",
                  X, np.array([1, None] * 5, dtype=object))


def test_ragged_x():
    raises_on_fit(binary_model(), ValueError, r"`x`.*Received: x of type list",
                  [[1.0, 2.0, 3.0], [1.0, 2.0]], Y[:2])


@pytest.mark.parametrize("where", ["x", "y", "sample_weight"])
@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_nan_or_inf(where, bad):
    arrays = {"x": X.copy(), "y": Y.copy(), "sample_weight": np.ones(10)}
    arrays[where].flat[3] = bad
    raises_on_fit(binary_model(), ValueError, rf"`{where}` contains 1 NaN or infinite",
                  arrays["x"], arrays["y"], sample_weight=arrays["sample_weight"])


def test_class_weight_together_with_sample_weight():
    raises_on_fit(binary_model(), ValueError, r"`class_weight` and `sample_weight`", X, Y,
                  class_weight={0: 1.0}, sample_weight=np.ones(10))


def test_class_weight_not_a_dict():
    raises_on_fit(binary_model(), ValueError, r"Received: class_weight=\[1, 2\]", X, Y,
                  class_weight=[1, 2])


def test_validation_data_not_a_tuple():
    raises_on_fit(binary_model(), ValueError, r"`validation_data`", X, Y,
                  validation_data=X)


def test_validation_targets_that_do_not_fit_are_reported_before_training():
    raises_on_fit(binary_model(), ValueError, re.escape("y_true.shape=(4, 2)"), X, Y,
                  validation_data=(np.ones((4, 3)), np.ones((4, 2))))


def test_validation_data_that_does_not_fit():
    raises_on_fit(binary_model(), ValueError, re.escape("x.shape=(4, 5)"), X, Y,
                  validation_data=(np.ones((4, 5)), np.ones(4)))


# ------------------------------------------------------------------ bad argument values


@pytest.mark.parametrize("units", [0, -1, 2.5, "3", None])
def test_dense_units(units):
    with pytest.raises(ValueError, match=re.escape(f"Received: units={units!r}")):
        keras.layers.Dense(units)


@pytest.mark.parametrize("rate", [1.5, -0.1, 1.0, "0.5"])
def test_dropout_rate(rate):
    with pytest.raises(ValueError, match=re.escape(f"Received: rate={rate!r}")):
        keras.layers.Dropout(rate)


@pytest.mark.parametrize("name, value", [
    ("epochs", -1), ("epochs", 2.5), ("batch_size", 0), ("batch_size", 2.5),
    ("batch_size", -3), ("validation_split", 1.0), ("validation_split", -0.1),
    ("validation_split", "0.2"), ("verbose", 3), ("verbose", "loud"), ("initial_epoch", -1),
    ("steps_per_epoch", 0), ("validation_freq", 0), ("validation_batch_size", 0),
])
def test_fit_argument_values(name, value):
    raises_on_fit(binary_model(), ValueError, re.escape(f"Received: {name}={value!r}"), X, Y,
                  **{name: value})


@pytest.mark.parametrize("method", ["evaluate", "predict"])
@pytest.mark.parametrize("name, value", [("batch_size", 0), ("verbose", 3), ("steps", 0)])
def test_evaluate_and_predict_argument_values(method, name, value):
    model = binary_model()
    args = (X, Y) if method == "evaluate" else (X,)
    with pytest.raises(ValueError, match=re.escape(f"Received: {name}={value!r}")):
        getattr(model, method)(*args, **{name: value})


def test_validation_split_too_large_for_the_data():
    raises_on_fit(binary_model(), ValueError, r"10 samples.*validation_split=0\.95", X, Y,
                  validation_split=0.95)


def test_nothing_to_train_warns_like_keras_and_changes_nothing():
    model = binary_model(compiled=False)
    model.trainable = False
    model.compile(optimizer="adam", loss="binary_crossentropy")
    before = model.get_weights()
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(X, Y, epochs=2, verbose=0)
    assert len(history.history["loss"]) == 2
    assert_unchanged(model, before)


# ------------------------------------------------------------------ weights


def test_set_weights_with_the_wrong_count():
    model = binary_model()
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"expects 4 weight arrays.*Received: 3 arrays"):
        model.set_weights(before[:3])
    assert_unchanged(model, before)


def test_set_weights_with_a_wrong_shape_changes_nothing():
    model = binary_model()
    before = model.get_weights()
    bad = [w + 1 for w in before]
    bad[2] = np.ones((4, 2))            # the first two arrays are fine: still none is written
    with pytest.raises(ValueError, match=re.escape("(4, 1)") + ".*" + re.escape("(4, 2)")):
        model.set_weights(bad)
    assert_unchanged(model, before)


def test_layer_set_weights_with_a_wrong_shape():
    layer = binary_model().layers[0]
    before = layer.get_weights()
    with pytest.raises(ValueError, match=re.escape("(3, 4)") + ".*" + re.escape("(4, 3)")):
        layer.set_weights([np.ones((4, 3)), np.ones(4)])
    for a, b in zip(layer.get_weights(), before):
        np.testing.assert_array_equal(a, b)


def test_input_shape_with_a_bad_dimension():
    with pytest.raises(ValueError, match=re.escape("Received: shape=(0, 3)")):
        keras.Input((0, 3))
    with pytest.raises(ValueError, match=r"Received: input_dim=-2"):
        keras.layers.Dense(2, input_dim=-2)


def test_calling_a_built_dense_layer_on_the_wrong_width_names_the_layer():
    layer = keras.layers.Dense(3)
    layer(np.zeros((2, 4), "float32"))
    expected = r"expected axis -1 of input shape to have value 4.*\(2, 5\)"
    with pytest.raises(ValueError, match=expected):
        layer(np.zeros((2, 5), "float32"))


# ------------------------------------------------------------------ class_weight (issue 9, item 3)


def test_class_weight_is_looked_up_per_label_without_an_array_sized_by_the_largest_label():
    import tracemalloc

    from minikeras.models import data

    # (1e7 keeps the old code's table at 80 MB; Keras's own example, 1e9, made it 7.45 GiB.)
    y = np.array([0.0, 1.0, 1e7, 1.0])
    tracemalloc.start()
    try:
        weights = data.class_weights_to_sample_weights({0: 2.0, 1: 3.0}, y)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    np.testing.assert_array_equal(weights, [2.0, 3.0, 1.0, 3.0])   # missing: 1, as in Keras
    assert peak < 1_000_000, peak


def test_class_weight_of_a_label_beyond_any_integer_type_weighs_one():
    from minikeras.models import data

    # No int cast: 1e30 must not wrap around to some other class (Keras's int32 cast does).
    np.testing.assert_array_equal(data.class_weights_to_sample_weights(
        {0: 2.0, 1: 3.0}, np.array([1e30, -1e30, 1.0])), [1.0, 1.0, 3.0])


def test_class_weight_of_a_negative_label_is_not_taken_from_the_end():
    from minikeras.models import data

    weights = data.class_weights_to_sample_weights({0: 2.0, 1: 3.0, 2: 5.0},
                                                   np.array([-1.0, 2.0, -3.0, 0.0]))
    np.testing.assert_array_equal(weights, [1.0, 5.0, 1.0, 2.0])   # Keras: missing -> 1.0


def test_class_weight_one_hot_targets_take_the_argmax():
    from minikeras.models import data

    one_hot = np.eye(4)[[3, 0, 2, 1]]
    np.testing.assert_array_equal(data.class_weights_to_sample_weights({3: 7.0, 2: 0.5},
                                                                       one_hot),
                                  [7.0, 1.0, 0.5, 1.0])
    # A trailing axis of 1 holds the label itself, as in Keras.
    np.testing.assert_array_equal(data.class_weights_to_sample_weights(
        {1: 4.0}, np.array([[1.0], [0.0]])), [4.0, 1.0])


def test_class_weight_with_one_class_per_timestep_is_refused_like_keras():
    from minikeras.models import data

    with pytest.raises(ValueError, match=re.escape("Received: y.shape=(2, 5, 3)")):
        data.class_weights_to_sample_weights({0: 1.0}, np.zeros((2, 5, 3)))


@pytest.mark.parametrize("class_weight, quoted", [
    ({"a": 1}, "class_weight key 'a'"),
    ({0: 1.0, 0.5: 2.0}, "class_weight key 0.5"),
    ({-1: 2.0}, "class_weight key -1"),
    ({True: 2.0}, "class_weight key True"),
    ({0: "x"}, "class_weight[0]='x'"),
    ({1: float("nan")}, "class_weight[1]=nan"),
])
def test_class_weight_bad_keys_and_values_are_named(class_weight, quoted):
    raises_on_fit(binary_model(), ValueError, r"`class_weight`.*" + re.escape(quoted), X, Y,
                  class_weight=class_weight)


def test_class_weight_negative_label_in_fit_weighs_one():
    # With class_weight {0: 1, 1: 1, 2: 9}, a label of -1 used to take the last class's 9;
    # the first epoch's loss then equals the one with a sample_weight of 1 for it.
    y = np.array([0.0, 1.0, 1.0, 0.0, 1.0, 0.0, 1.0, 0.0, 1.0, -1.0])
    losses = []
    for kwargs in (dict(class_weight={0: 1.0, 1: 1.0, 2: 9.0}), dict(sample_weight=np.ones(10))):
        keras.utils.set_random_seed(0)
        model = binary_model()
        losses.append(model.fit(X, y, epochs=1, shuffle=False, verbose=0,
                                **kwargs).history["loss"][0])
    assert losses[0] == losses[1]


# ------------------------------------------------------------------ compile (item 4)


def _trained_model():
    keras.utils.set_random_seed(0)
    model = binary_model()
    model.fit(X, Y, epochs=2, batch_size=4, shuffle=False, verbose=0)
    return model


@pytest.mark.parametrize("kwargs, pattern", [
    (dict(optimizer="sgd", loss="nope"), r"'nope'"),
    (dict(optimizer="sgd", loss="mse", metrics="accuracy"), r"Received: metrics='accuracy'"),
    (dict(optimizer="sgd", loss="mse", metrics=["accurcy"]), r"'accurcy'"),
    (dict(optimizer="sgd", loss="mse", weighted_metrics=["accurcy"]), r"'accurcy'"),
    (dict(optimizer="sgd", loss="mse", loss_weights="x"), r"loss_weights='x'"),
    (dict(optimizer="adamx", loss="mse"), r"'adamx'"),
])
def test_a_failing_compile_leaves_the_model_as_it_was(kwargs, pattern):
    model, twin = _trained_model(), _trained_model()
    optimizer, loss, metrics = model.optimizer, model.loss, model._metric_identifiers
    state = [np.array(v, copy=True) for v in optimizer.variables]
    with pytest.raises(ValueError, match=pattern):
        model.compile(**kwargs)
    assert model.compiled
    assert model.optimizer is optimizer and model.loss is loss
    assert model._metric_identifiers == metrics
    for before, after in zip(state, optimizer.variables):
        np.testing.assert_array_equal(after, before)
    # The next fit continues exactly as on a model that never saw the failed compile().
    ours = model.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    theirs = twin.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0).history
    assert ours == theirs
    assert_unchanged(model, twin.get_weights())


def test_a_failing_first_compile_leaves_the_model_uncompiled():
    model = binary_model(compiled=False)
    with pytest.raises(ValueError, match=r"'nope'"):
        model.compile(optimizer="sgd", loss="nope")
    assert not model.compiled and model.optimizer is None and model.loss is None


# ------------------------------------------------------------------ float32 range (item 6)


@pytest.mark.parametrize("where, name", [
    ("x", "x"), ("y", "y"), ("sample_weight", "sample_weight"),
    ("x_val", "validation_data[0]"), ("y_val", "validation_data[1]"),
    ("sw_val", "validation_data[2]"),
])
def test_values_beyond_float32_are_reported_not_trained_on(where, name):
    arrays = {"x": X.astype("float64"), "y": Y.astype("float64"), "sample_weight": np.ones(10),
              "x_val": X[:4].astype("float64"), "y_val": Y[:4].astype("float64"),
              "sw_val": np.ones(4)}
    flat_index = 5 if arrays[where].ndim == 2 else 2
    arrays[where].flat[flat_index] = 1e39
    index = "1, 2" if arrays[where].ndim == 2 else "2"
    raises_on_fit(binary_model(), ValueError,
                  rf"`{re.escape(name)}` holds 1 value\(s\) beyond the range of "
                  rf"floatx=float32.*Received: {re.escape(name)}\[{index}\]=1e\+39",
                  arrays["x"], arrays["y"], sample_weight=arrays["sample_weight"],
                  validation_data=(arrays["x_val"], arrays["y_val"], arrays["sw_val"]))


def test_values_beyond_float32_in_evaluate_and_predict():
    model = binary_model()
    big = X.astype("float64")
    big[0, 0] = -1e39
    with pytest.raises(ValueError, match=r"Received: x\[0, 0\]=-1e\+39"):
        model.evaluate(big, Y, verbose=0)
    with pytest.raises(ValueError, match=r"Received: x\[0, 0\]=-1e\+39"):
        model.predict(big, verbose=0)


def test_float64_inputs_in_range_still_train():
    history = binary_model().fit(X.astype("float64") * 1e3, Y, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ------------------------------------------------ sample_weight and labels (item 7)


@pytest.mark.parametrize("shape", [(10, 3), (10, 1, 2), (10, 2, 1)])
def test_sample_weight_of_the_wrong_shape_is_named(shape):
    raises_on_fit(binary_model(), ValueError,
                  r"`sample_weight` must hold one weight per sample.*"
                  + re.escape(f"Received: sample_weight.shape={shape}"),
                  X, Y, sample_weight=np.ones(shape))


def test_sample_weight_of_the_wrong_shape_in_evaluate_and_validation():
    model = binary_model()
    with pytest.raises(ValueError, match=re.escape("Received: sample_weight.shape=(10, 3)")):
        model.evaluate(X, Y, sample_weight=np.ones((10, 3)), verbose=0)
    raises_on_fit(model, ValueError,
                  re.escape("Received: validation_data[2].shape=(4, 2)"), X, Y,
                  validation_data=(X[:4], Y[:4], np.ones((4, 2))))


def test_sample_weight_of_a_good_shape_still_trains():
    for shape in [(10,), (10, 1)]:
        binary_model().fit(X, Y, sample_weight=np.ones(shape), epochs=1, verbose=0)


def test_non_integer_sparse_labels_are_quoted():
    labels = np.array([0.0, 1.0, 2.0, 1.0, 2.5, 0.0, 1.0, 2.0, 1.0, 0.0])
    raises_on_fit(softmax_model(), ValueError,
                  r"integer class labels.*" + re.escape("Received: y_true[4]=2.5"), X, labels)


# ------------------------------------------------------------------ diverging fit (item 9)


@pytest.mark.parametrize("conv", [False, True], ids=["dense", "conv"])
def test_a_diverging_fit_prints_no_numpy_warnings(conv, capsys):
    """Keras prints no RuntimeWarning when the loss overflows; TerminateOnNaN reports it.
    The conv model splits its batches over threads: the silencing must hold there too."""
    rng = np.random.default_rng(1)
    if conv:
        x = rng.normal(size=(256, 12, 12, 3)).astype("float32")
        layers = [keras.Input((12, 12, 3)), keras.layers.Conv2D(8, 3), keras.layers.Flatten(),
                  keras.layers.Dense(1)]
    else:
        x = rng.normal(size=(256, 3)).astype("float32")
        layers = [keras.Input((3,)), keras.layers.Dense(8), keras.layers.Dense(1)]
    y = rng.normal(size=(256, 1)).astype("float32") * 1e3
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.SGD(1e3), loss="mse")
    with warnings_recorded() as caught:
        history = model.fit(x, y, epochs=5, batch_size=128, verbose=0,
                            callbacks=[keras.callbacks.TerminateOnNaN()])
        model.predict(x[:4], verbose=0)
        model.evaluate(x, y, verbose=0)
    assert [str(w.message) for w in caught] == []
    assert not np.isfinite(history.history["loss"][-1])
    assert len(history.history["loss"]) < 5
    assert "Invalid loss, terminating training" in capsys.readouterr().out


def test_the_step_does_not_silence_numpy_for_the_user():
    model = binary_model()
    model.fit(X, Y, epochs=1, verbose=0)
    with warnings_recorded() as caught:
        np.float32(1e38) * np.float32(10)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)


def test_huge_but_finite_inputs_train_to_an_inf_loss_without_numpy_warnings():
    """float32 values near the top of the range overflow in the first layer: Keras shows that
    only as its loss; so does minikeras, from the checks before training on."""
    big = np.full((10, 3), 3e38, dtype="float32")
    keras.utils.set_random_seed(0)
    model = binary_model()
    with warnings_recorded() as caught:
        history = model.fit(big, Y, epochs=1, verbose=0)
    assert [str(w.message) for w in caught] == []
    assert np.isnan(history.history["loss"][0])
