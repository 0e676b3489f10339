"""Sequential's public API: structure, shapes, weights, fit/evaluate/predict contracts."""

import inspect
import warnings

import numpy as np
import pytest

import minikeras
import minikeras as keras
from minikeras.models import data

RNG = np.random.default_rng(0)
X = RNG.normal(size=(40, 3)).astype("float32")
Y = (X[:, 0] > 0).astype("float32")


def model_3_4_1(**compile_kwargs):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(4, activation="relu"),
                              keras.layers.Dense(1, activation="sigmoid")])
    if compile_kwargs:
        model.compile(**compile_kwargs)
    return model


# ------------------------------------------------------------------ structure


def test_list_constructor_add_pop_and_layers():
    model = keras.Sequential()
    model.add(keras.Input((3,)))
    first = keras.layers.Dense(4)
    model.add(first)
    model.add(keras.layers.Dense(2))
    assert model.built and model.output_shape == (None, 2)
    assert [type(layer).__name__ for layer in model.layers] == ["Dense", "Dense"]
    popped = model.pop()
    assert popped.units == 2 and model.output_shape == (None, 4)
    assert model.layers == [first] and model.get_layer(index=0) is first
    assert model.get_layer(name=first.name) is first
    with pytest.raises(ValueError, match="Received: name='nope'"):
        model.get_layer(name="nope")
    with pytest.raises(ValueError, match="Received: index=3"):
        model.get_layer(index=3)


def test_unbuilt_model_builds_on_fit_and_reports_shapes():
    model = keras.Sequential([keras.layers.Dense(4), keras.layers.Dense(1)])
    assert not model.built
    with pytest.raises(AttributeError):
        _ = model.input_shape
    with pytest.raises(ValueError, match="built"):
        model.count_params()
    model.compile(optimizer="sgd", loss="mse")
    model.fit(X, Y, epochs=1, verbose=0)
    assert model.input_shape == (None, 3) and model.output_shape == (None, 1)
    assert model.count_params() == 3 * 4 + 4 + 4 + 1


def test_layer_and_model_symbolic_inputs_and_outputs():
    model = model_3_4_1()
    assert model.inputs[0].shape == (None, 3) and model.outputs[0].shape == (None, 1)
    assert model.layers[0].input.shape == (None, 3)
    assert model.layers[0].output.shape == (None, 4)
    assert model.layers[0].kernel.shape == (3, 4)
    with pytest.raises(AttributeError, match="no defined input"):
        _ = keras.layers.Dense(2).input


def test_weights_order_and_count_params():
    model = model_3_4_1()
    shapes = [w.shape for w in model.get_weights()]
    assert shapes == [(3, 4), (4,), (4, 1), (1,)]
    assert [w.path for w in model.weights][0].endswith("/kernel")
    assert model.count_params() == 21 and isinstance(model.count_params(), int)
    model.layers[0].trainable = False
    assert [w.shape for w in model.trainable_weights] == [(4, 1), (1,)]
    assert [w.shape for w in model.non_trainable_weights] == [(3, 4), (4,)]


def test_set_weights_round_trip():
    model = model_3_4_1()
    new = [RNG.normal(size=w.shape).astype("float32") for w in model.get_weights()]
    model.set_weights(new)
    for a, b in zip(model.get_weights(), new):
        np.testing.assert_array_equal(a, b)
    copy = model.get_weights()
    copy[0][0, 0] = 123.0                   # get_weights returns copies
    assert model.get_weights()[0][0, 0] != 123.0


def test_config_round_trip():
    model = model_3_4_1()
    clone = keras.Sequential.from_config(model.get_config())
    assert [w.shape for w in clone.get_weights()] == [w.shape for w in model.get_weights()]
    assert clone.layers[0].get_config()["units"] == 4


# ------------------------------------------------------------------ fit contract


def test_fit_signature_is_keras():
    params = inspect.signature(keras.Sequential.fit).parameters
    expected = dict(x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
                    validation_split=0.0, validation_data=None, shuffle=True,
                    class_weight=None, sample_weight=None, initial_epoch=0,
                    steps_per_epoch=None, validation_steps=None, validation_batch_size=None,
                    validation_freq=1)
    assert [name for name in params if name != "self"] == list(expected)
    for name, default in expected.items():
        assert params[name].default == default, name


def test_history_keys_and_epochs():
    model = model_3_4_1(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    history = model.fit(X, Y, epochs=3, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.epoch == [0, 1, 2] and model.history is history
    assert all(len(values) == 3 for values in history.history.values())


def test_validation_split_does_not_train_on_the_held_out_samples():
    # The last 10 samples are garbage: if they were trained on, the loss would show it.
    x = X.copy()
    x[30:] = 1e3
    model = model_3_4_1(optimizer="sgd", loss="binary_crossentropy")
    first = model.get_weights()
    history = model.fit(x, Y, epochs=1, batch_size=30, validation_split=0.25, shuffle=False,
                        verbose=0)
    reference = model_3_4_1(optimizer="sgd", loss="binary_crossentropy")
    reference.set_weights(first)
    expected = reference.fit(x[:30], Y[:30], epochs=1, batch_size=30, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected.history["loss"], rtol=1e-6)


def test_evaluate_and_on_batch_return_forms():
    model = model_3_4_1(optimizer="adam", loss="binary_crossentropy",
                        metrics=["accuracy"], weighted_metrics=["accuracy"])
    values = model.evaluate(X, Y, verbose=0)
    logs = model.evaluate(X, Y, verbose=0, return_dict=True)
    assert sorted(logs) == ["accuracy", "loss", "weighted_accuracy"]
    # Keras's list order: loss, each metric by its own name, then the rest sorted.
    assert values == [logs["loss"], logs["accuracy"], logs["accuracy"],
                      logs["weighted_accuracy"]]
    assert isinstance(model.train_on_batch(X, Y), list)
    assert sorted(model.test_on_batch(X, Y, return_dict=True)) == sorted(logs)
    assert model.predict_on_batch(X).shape == (40, 1)


def test_predict_batches_and_dtype():
    model = model_3_4_1()
    full = model.predict(X, verbose=0)
    np.testing.assert_allclose(model.predict(X, batch_size=7, verbose=0), full, rtol=1e-6)
    assert full.dtype == np.float32 and full.shape == (40, 1)
    assert model.predict(X, steps=2, batch_size=5, verbose=0).shape == (10, 1)
    # No compile needed for predict, and integer input is cast to floatx.
    assert model.predict(np.ones((2, 3), dtype=int), verbose=0).dtype == np.float32


def test_stop_training_from_a_callback():
    class StopAfterTwo(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 1:
                self.model.stop_training = True

    model = model_3_4_1(optimizer="sgd", loss="binary_crossentropy")
    history = model.fit(X, Y, epochs=10, callbacks=[StopAfterTwo()], verbose=0)
    assert history.epoch == [0, 1]


def test_frozen_layer_is_not_updated_and_toggling_takes_effect_at_the_next_fit():
    model = model_3_4_1(optimizer="adam", loss="binary_crossentropy")
    model.layers[0].trainable = False
    frozen = model.layers[0].get_weights()
    model.fit(X, Y, epochs=2, verbose=0)
    for a, b in zip(model.layers[0].get_weights(), frozen):
        np.testing.assert_array_equal(a, b)
    model.layers[0].trainable = True
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X, Y, epochs=2, verbose=0)
    assert not np.array_equal(model.layers[0].get_weights()[0], frozen[0])


def test_a_callback_may_freeze_a_layer_mid_fit():
    class Freeze(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            self.model.layers[0].trainable = False
            self.frozen = self.model.layers[0].get_weights()[0]

    model = model_3_4_1(optimizer="sgd", loss="binary_crossentropy")
    callback = Freeze()
    model.fit(X, Y, epochs=2, callbacks=[callback], verbose=0)
    np.testing.assert_array_equal(model.layers[0].get_weights()[0], callback.frozen)


def test_regularizers_add_to_the_loss():
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(1, kernel_regularizer=keras.regularizers.L2(1.0),
                                                 kernel_initializer="ones")])
    model.compile(optimizer="sgd", loss="mse")
    plain = np.mean((X @ np.ones((3, 1)) - Y[:, None]) ** 2)
    np.testing.assert_allclose(model.evaluate(X, Y, verbose=0), plain + 3.0, rtol=1e-5)


def test_float64_end_to_end():
    keras.backend.set_floatx("float64")
    try:
        model = model_3_4_1(optimizer="adam", loss="binary_crossentropy")
        model.fit(X, Y, epochs=2, verbose=0)
        assert all(w.dtype == np.float64 for w in model.get_weights())
        assert model.predict(X, verbose=0).dtype == np.float64
        assert all(np.asarray(s).dtype in (np.float64, np.int64)
                   for s in model.optimizer.variables[2:])
    finally:
        keras.backend.set_floatx("float32")


# ------------------------------------------------------------------ data helpers


def test_epoch_batches_carry_across_epochs_with_steps_per_epoch():
    batches = data.EpochBatches(10, 3, steps_per_epoch=3)     # 4 batches per pass
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        epochs = [[(b.start, b.stop) for _, b in batches.epoch()] for _ in range(3)]
    assert epochs == [[(0, 3), (3, 6), (6, 9)], [(9, 10)], [(0, 3), (3, 6), (6, 9)]]
    assert len(caught) == 1 and "ran out of data" in str(caught[0].message)


def test_epoch_batches_reshuffle_each_pass():
    keras.utils.set_random_seed(3)
    batches = data.EpochBatches(8, 8, shuffle=True)
    first = next(batches.epoch())[1]
    second = next(batches.epoch())[1]
    assert sorted(first) == sorted(second) == list(range(8))
    assert list(first) != list(second)


def test_class_weights_to_sample_weights():
    y = np.array([0, 1, 2, 1])
    np.testing.assert_array_equal(data.class_weights_to_sample_weights({1: 3.0}, y),
                                  [1.0, 3.0, 1.0, 3.0])
    one_hot = np.eye(3)[y]
    np.testing.assert_array_equal(
        data.class_weights_to_sample_weights({0: 2.0, 2: 0.5}, one_hot), [2.0, 1.0, 0.5, 1.0])


def test_callbacks_can_stop_evaluate_and_predict_early():
    class Stop(keras.callbacks.Callback):
        def on_test_batch_end(self, batch, logs=None):
            self.model.stop_evaluating = True

        def on_predict_batch_end(self, batch, logs=None):
            self.model.stop_predicting = True

    model = model_3_4_1(optimizer="sgd", loss="binary_crossentropy")
    assert model.predict(X, batch_size=8, callbacks=[Stop()], verbose=0).shape == (8, 1)
    first_batch = model.evaluate(X[:8], Y[:8], verbose=0)
    assert model.evaluate(X, Y, batch_size=8, callbacks=[Stop()], verbose=0) == first_batch


def test_array_valued_metrics_are_logged_as_arrays():
    """F1Score gives one value per class; fit logs it as an array, as Keras does."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 3)).astype("float32")
    y = minikeras.utils.to_categorical(rng.integers(0, 3, 40), 3)
    model = minikeras.Sequential([minikeras.Input((3,)),
                                  minikeras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="sgd", loss="categorical_crossentropy",
                  metrics=[minikeras.metrics.F1Score()])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert np.asarray(history.history["f1_score"][-1]).shape == (3,)


def test_fit_with_ema_ends_on_the_moving_average_weights():
    """With use_ema, fit's last act is to copy the moving averages into the weights."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=(64, 2)).astype("float32")
    y = (x[:, :1] > 0).astype("float32")

    def trained(use_ema):
        minikeras.utils.set_random_seed(3)
        model = minikeras.Sequential([minikeras.Input((2,)), minikeras.layers.Dense(1)])
        model.compile(optimizer=minikeras.optimizers.SGD(0.1, use_ema=use_ema,
                                                         ema_momentum=0.5), loss="mse")
        model.fit(x, y, epochs=2, batch_size=16, verbose=0, shuffle=False)
        return model

    plain, averaged = trained(False), trained(True)
    kernel_plain = plain.get_weights()[0]
    kernel_averaged = averaged.get_weights()[0]
    assert not np.allclose(kernel_plain, kernel_averaged)
    averages = averaged.optimizer._averages
    np.testing.assert_array_equal(kernel_averaged, averages[0])


@pytest.mark.parametrize("y_kind, expected", [
    ("binary", "BinaryCrossentropy"),
    ("sparse", "SparseCategoricalCrossentropy"),
    ("onehot", "CategoricalCrossentropy"),
])
def test_compile_crossentropy_shortcut_picks_the_loss_from_shapes(y_kind, expected):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 3)).astype("float32")
    labels = rng.integers(0, 3, 20)
    if y_kind == "binary":
        y, units, activation = (labels > 0).astype("float32"), 1, "sigmoid"
    elif y_kind == "sparse":
        y, units, activation = labels, 3, "softmax"
    else:
        y, units, activation = keras.utils.to_categorical(labels, 3), 3, "softmax"
    model = keras.Sequential([keras.Input((3,)),
                              keras.layers.Dense(units, activation=activation)])
    explicit = keras.Sequential([keras.Input((3,)),
                                 keras.layers.Dense(units, activation=activation)])
    explicit.set_weights(model.get_weights())
    model.compile(optimizer="sgd", loss="ce")
    explicit.compile(optimizer="sgd", loss=getattr(keras.losses, expected)())
    history = model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    assert type(model.loss.chosen).__name__ == expected
    np.testing.assert_array_equal(
        history.history["loss"],
        explicit.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"])
