"""Mistakes a user makes, one test each: the exception type Keras raises (ValueError or
TypeError), a message naming the argument and quoting what was received, and, where a model
exists, not one weight changed."""

import re

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
