"""fit()'s features against Keras: same start (Keras's weights copied), shuffle=False, and every
History value within rtol of Keras's, epoch by epoch.

Each test trains a small model for a few epochs on a few dozen samples, so the whole file runs in
about a minute.
"""

import warnings

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, fit_both, per_module

RNG = np.random.default_rng(42)
X = RNG.normal(size=(60, 4)).astype("float32")
Y_BIN = (X[:, 0] * X[:, 1] + 0.3 * X[:, 2] > 0).astype("float32")
Y_INT = (np.digitize(X[:, 0] + 0.5 * X[:, 3], [-0.5, 0.5])).astype("int64")    # 3 classes
Y_ONEHOT = np.eye(3, dtype="float32")[Y_INT]
Y_REG = np.stack([X[:, 0] - X[:, 1], X[:, 2] * 0.5], axis=1).astype("float32")
SW = np.linspace(0.2, 2.0, 60).astype("float32")
X_VAL = RNG.normal(size=(17, 4)).astype("float32")
Y_VAL = (X_VAL[:, 0] * X_VAL[:, 1] > 0).astype("float32")
SW_VAL = np.linspace(2.0, 0.5, 17).astype("float32")

BINARY = dict(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])


def binary_model(k, **dense_kwargs):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="tanh", **dense_kwargs),
        k.layers.Dense(1, activation="sigmoid"),
    ])


def softmax_model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(8, activation="relu"),
        k.layers.Dense(3, activation="softmax"),
    ])


def regression_model(k):
    return k.Sequential([
        k.Input((4,)),
        k.layers.Dense(6, activation="relu"),
        k.layers.Dense(2),
    ])


def run(build, y, compile_kwargs, rtol=1e-4, floatx="float32", x=X, **fit_kwargs):
    """Builds, compiles and fits both engines; checks the Histories. Returns both models."""
    fit_kwargs.setdefault("epochs", 10)
    fit_kwargs.setdefault("batch_size", 16)
    reference, ours = build_pair(build, floatx=floatx)
    ref, got = fit_both(reference, ours, x, y, compile_kwargs, **fit_kwargs)
    assert list(got) == list(ref)                   # History keys in Keras's order
    assert_histories_close(ref, got, rtol=rtol, atol=rtol * 1e-2)
    return reference, ours


def assert_weights_close(reference, ours, rtol=1e-3, atol=1e-5):
    ref_weights = reference.get_weights()
    our_weights = ours.get_weights()
    assert [w.shape for w in our_weights] == [w.shape for w in ref_weights]
    for a, b in zip(our_weights, ref_weights):
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol)


# ------------------------------------------------------------------ validation


def test_validation_split():
    run(binary_model, Y_BIN, BINARY, validation_split=0.25)


def test_validation_data():
    run(binary_model, Y_BIN, BINARY, validation_data=(X_VAL, Y_VAL))


def test_validation_data_with_sample_weights():
    run(binary_model, Y_BIN, dict(BINARY, weighted_metrics=["accuracy"]),
        validation_data=(X_VAL, Y_VAL, SW_VAL))


def test_validation_batch_size_and_steps():
    run(binary_model, Y_BIN, BINARY, validation_data=(X_VAL, Y_VAL), validation_batch_size=5,
        validation_steps=2, epochs=6)


@pytest.mark.parametrize("freq", [2, [1, 3, 4]], ids=["every_2", "list"])
def test_validation_freq(freq):
    run(binary_model, Y_BIN, BINARY, validation_data=(X_VAL, Y_VAL), validation_freq=freq,
        epochs=6)


# ------------------------------------------------------------------ weighting


def test_sample_weight():
    run(binary_model, Y_BIN, dict(BINARY, weighted_metrics=["accuracy"]), sample_weight=SW)


def test_sample_weight_with_validation_split():
    run(binary_model, Y_BIN, dict(BINARY, weighted_metrics=["accuracy"]), sample_weight=SW,
        validation_split=0.2)


def test_class_weight_binary():
    run(binary_model, Y_BIN, dict(BINARY, weighted_metrics=["accuracy"]),
        class_weight={0: 0.5, 1: 2.0}, validation_split=0.2)


def test_class_weight_categorical_one_hot():
    run(softmax_model, Y_ONEHOT,
        dict(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"],
             weighted_metrics=["accuracy"]),
        class_weight={0: 1.0, 1: 3.0, 2: 0.5})


def test_class_weight_sparse_with_a_missing_class():
    # Classes absent from class_weight get weight 1, as in Keras.
    run(softmax_model, Y_INT,
        dict(loss="sparse_categorical_crossentropy", optimizer="adam", metrics=["accuracy"]),
        class_weight={1: 3.0})


def test_class_weight_labels_outside_the_dict_and_negative_labels():
    # Keras rounds each label and looks it up: -2, -1 and 3 are not in the dict, so they
    # weigh 1 (minikeras once took -2's weight from the end of a table).
    labels = np.round(np.clip(X[:, :1] * 2, -2, 3)).astype("float32")
    assert {-2.0, -1.0, 3.0} <= set(labels.ravel())
    run(lambda k: k.Sequential([k.Input((4,)), k.layers.Dense(1)]), labels,
        dict(loss="mse", optimizer="adam", weighted_metrics=["mae"]),
        class_weight={0: 0.5, 1: 2.0, 2: 4.0})


def test_weighted_and_unweighted_metrics_together():
    run(softmax_model, Y_ONEHOT,
        dict(loss="categorical_crossentropy", optimizer="adam",
             metrics=["accuracy", "categorical_accuracy", "accuracy"],
             weighted_metrics=["accuracy", "categorical_accuracy"]),
        sample_weight=SW, validation_data=(X_VAL[:, :4], np.eye(3, dtype="float32")[
            np.arange(17) % 3]))


def test_loss_weights():
    run(regression_model, Y_REG, dict(loss="mse", optimizer="sgd", metrics=["accuracy"],
                                      loss_weights=0.5))


# ------------------------------------------------------------------ batching and epochs


def test_batch_size_that_does_not_divide_the_data():
    run(regression_model, Y_REG, dict(loss="mse", optimizer="adam", metrics=["accuracy"]),
        batch_size=7, validation_split=0.1)


def test_initial_epoch():
    reference, ours = run(binary_model, Y_BIN, BINARY, initial_epoch=3, epochs=8)
    assert ours.history.epoch == reference.history.epoch == [3, 4, 5, 6, 7]


@pytest.mark.parametrize("steps, batch_size, runs_out", [(3, 8, True), (20, 8, True),
                                                       (4, None, False)],
                         ids=["fewer_than_data", "more_than_data", "no_batch_size"])
def test_steps_per_epoch(steps, batch_size, runs_out):
    # With arrays, Keras keeps one iterator across epochs when steps_per_epoch is given: an
    # epoch of 3 steps over 8 batches continues where the previous one stopped, and an epoch
    # that reaches the end of the data stops there (with a warning). Without a batch size,
    # Keras picks ceil(samples / steps_per_epoch).
    reference, ours = build_pair(regression_model)
    compile_kwargs = dict(loss="mse", optimizer="sgd", metrics=["accuracy"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ref, got = fit_both(reference, ours, X, Y_REG, compile_kwargs, steps_per_epoch=steps,
                            batch_size=batch_size, epochs=7)
    assert_histories_close(ref, got)
    ran_out = [str(w.message) for w in caught if "ran out of data" in str(w.message)]
    from_keras = [m for m in ran_out if "dataset or generator" in m]
    assert len(ran_out) == 2 * len(from_keras)          # each engine warned as often
    assert bool(from_keras) == runs_out
    assert ours.optimizer.iterations == int(reference.optimizer.iterations.numpy())
    assert_weights_close(reference, ours)


# ------------------------------------------------------------------ float types


@pytest.mark.parametrize("floatx, rtol", [("float32", 1e-4), ("float64", 1e-9)])
def test_float_types(floatx, rtol):
    x = X.astype(floatx)
    reference, ours = run(softmax_model, Y_ONEHOT.astype(floatx),
                          dict(loss="categorical_crossentropy", metrics=["accuracy"],
                               optimizer="adam"),
                          rtol=rtol, floatx=floatx, x=x, validation_split=0.2)
    assert all(w.dtype == floatx for w in ours.get_weights())
    assert ours.predict(x, verbose=0).dtype == floatx
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=rtol * 10, atol=rtol * 1e-2)


# ------------------------------------------------------------------ evaluate / predict


def test_evaluate_and_predict_after_fit():
    reference, ours = run(softmax_model, Y_INT,
                          dict(loss="sparse_categorical_crossentropy", optimizer="adam",
                               metrics=["accuracy", "sparse_categorical_accuracy"]))
    ref = reference.evaluate(X_VAL, np.arange(17) % 3, verbose=0, batch_size=5)
    got = ours.evaluate(X_VAL, np.arange(17) % 3, verbose=0, batch_size=5)
    assert isinstance(got, list) and len(got) == len(ref) == 3
    np.testing.assert_allclose(got, ref, rtol=1e-4)
    ref_dict = reference.evaluate(X_VAL, np.arange(17) % 3, verbose=0, return_dict=True)
    got_dict = ours.evaluate(X_VAL, np.arange(17) % 3, verbose=0, return_dict=True)
    assert list(got_dict) == list(ref_dict)         # same keys in the same order
    for key in ref_dict:
        np.testing.assert_allclose(got_dict[key], ref_dict[key], rtol=1e-4)
    np.testing.assert_allclose(ours.predict(X_VAL, verbose=0, batch_size=4),
                               reference.predict(X_VAL, verbose=0, batch_size=4),
                               rtol=1e-4, atol=1e-6)


def test_evaluate_without_metrics_returns_a_float():
    reference, ours = build_pair(regression_model)
    reference.compile(loss="mse", optimizer="sgd")
    ours.compile(loss="mse", optimizer="sgd")
    got = ours.evaluate(X, Y_REG, verbose=0)
    assert isinstance(got, float)
    np.testing.assert_allclose(got, reference.evaluate(X, Y_REG, verbose=0), rtol=1e-5)


def test_evaluate_with_sample_weight_and_steps():
    reference, ours = build_pair(binary_model)
    compile_kwargs = dict(BINARY, weighted_metrics=["accuracy"])
    reference.compile(**compile_kwargs)
    ours.compile(**compile_kwargs)
    for kwargs in (dict(sample_weight=SW), dict(steps=2), dict(steps=3, batch_size=None)):
        np.testing.assert_allclose(ours.evaluate(X, Y_BIN, verbose=0, **kwargs),
                                   reference.evaluate(X, Y_BIN, verbose=0, **kwargs),
                                   rtol=1e-5, err_msg=str(kwargs))


def test_on_batch_methods():
    reference, ours = build_pair(softmax_model)
    for model in (reference, ours):
        model.compile(loss="categorical_crossentropy", optimizer="adam",
                      metrics=["accuracy"])
    for start in range(0, 60, 20):
        xb, yb = X[start:start + 20], Y_ONEHOT[start:start + 20]
        np.testing.assert_allclose(ours.train_on_batch(xb, yb),
                                   reference.train_on_batch(xb, yb), rtol=1e-4)
        ref = reference.train_on_batch(xb, yb, sample_weight=SW[:20], return_dict=True)
        got = ours.train_on_batch(xb, yb, sample_weight=SW[:20], return_dict=True)
        assert list(got) == list(ref)
        for key in ref:
            np.testing.assert_allclose(got[key], ref[key], rtol=1e-4)
        np.testing.assert_allclose(ours.train_on_batch(xb, yb, class_weight={0: 2.0}),
                                   reference.train_on_batch(xb, yb, class_weight={0: 2.0}),
                                   rtol=1e-4)
        np.testing.assert_allclose(ours.test_on_batch(xb, yb), reference.test_on_batch(xb, yb),
                                   rtol=1e-4)
        got = ours.test_on_batch(xb, yb, return_dict=True)
        ref = reference.test_on_batch(xb, yb, return_dict=True)
        assert list(got) == list(ref)
        np.testing.assert_allclose(ours.predict_on_batch(xb),
                                   np.asarray(reference.predict_on_batch(xb)), rtol=1e-4,
                                   atol=1e-6)
    assert_weights_close(reference, ours)


# ------------------------------------------------------------------ regularizers, constraints


@pytest.mark.parametrize("kwargs", [
    dict(kernel_regularizer="l2"),
    dict(kernel_regularizer=per_module(lambda k: k.regularizers.L1(0.02))),
    dict(bias_regularizer=per_module(lambda k: k.regularizers.L2(0.05))),
    dict(activity_regularizer=per_module(lambda k: k.regularizers.L1L2(l1=0.01, l2=0.02))),
    dict(kernel_regularizer=per_module(lambda k: k.regularizers.l1_l2(0.01, 0.01)),
         bias_regularizer="l1", activity_regularizer="l2"),
    dict(kernel_regularizer=per_module(lambda k: k.regularizers.OrthogonalRegularizer(0.5))),
    dict(kernel_regularizer=per_module(
        lambda k: k.regularizers.OrthogonalRegularizer(0.5, mode="columns"))),
], ids=["kernel_l2", "kernel_l1", "bias_l2", "activity_l1_l2", "all", "orthogonal_rows",
        "orthogonal_columns"])
def test_regularizers(kwargs):
    def build(k):
        resolved = {key: value(k) if getattr(value, "_per_module", False) else value
                    for key, value in kwargs.items()}
        return binary_model(k, **resolved)

    reference, ours = run(build, Y_BIN, BINARY, validation_split=0.2)
    assert_weights_close(reference, ours)


@pytest.mark.parametrize("constraint", [
    per_module(lambda k: k.constraints.MaxNorm(0.5)),
    per_module(lambda k: k.constraints.NonNeg()),
    per_module(lambda k: k.constraints.UnitNorm()),
    per_module(lambda k: k.constraints.MinMaxNorm(0.2, 0.6, rate=0.5)),
], ids=["max_norm", "non_neg", "unit_norm", "min_max_norm"])
def test_constraints(constraint):
    def build(k):
        return binary_model(k, kernel_constraint=constraint(k), bias_constraint=constraint(k))

    reference, ours = run(build, Y_BIN, dict(BINARY, optimizer="sgd"))
    assert_weights_close(reference, ours)


# ------------------------------------------------------------------ layers in models


def test_dense_on_rank_3_inputs():
    x3 = X.reshape(60, 2, 2)

    def build(k):
        return k.Sequential([
            k.Input((2, 2)),
            k.layers.Dense(5, activation="relu"),
            k.layers.Dense(3, activation="tanh"),
            k.layers.Flatten(),
            k.layers.Dense(1, activation="sigmoid"),
        ])

    reference, ours = run(build, Y_BIN, BINARY, x=x3, validation_split=0.2)
    assert ours.layers[0].output.shape == reference.layers[0].output.shape == (None, 2, 5)


def test_flatten_reshape_activation_dropout_model():
    def build(k):
        return k.Sequential([
            k.Input((4,)),
            k.layers.Reshape((2, 2)),
            k.layers.Flatten(),
            k.layers.Dense(6),
            k.layers.Activation("relu"),
            k.layers.Dropout(0.0),
            k.layers.Reshape((3, 2)),
            k.layers.Reshape((-1,)),
            k.layers.Dense(3),
            k.layers.Activation("softmax"),
        ])

    run(build, Y_INT, dict(loss="sparse_categorical_crossentropy", optimizer="adam",
                           metrics=["accuracy"]), validation_split=0.2)


def test_dropout_is_identity_in_inference():
    def build(k):
        return k.Sequential([k.Input((4,)), k.layers.Dense(8, activation="relu"),
                             k.layers.Dropout(0.5, seed=1), k.layers.Dense(1)])

    reference, ours = build_pair(build)
    for model in (reference, ours):
        model.compile(loss="mse", optimizer="sgd", metrics=["accuracy"])
    np.testing.assert_allclose(ours.predict(X, verbose=0), reference.predict(X, verbose=0),
                               rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(ours.evaluate(X, Y_REG[:, :1], verbose=0),
                               reference.evaluate(X, Y_REG[:, :1], verbose=0), rtol=1e-5)


@pytest.mark.parametrize("first", ["input", "input_dim", "input_shape"])
def test_ways_to_give_the_input_shape(first):
    def build(k):
        if first == "input":
            head = [k.Input((4,)), k.layers.Dense(5, activation="relu")]
        elif first == "input_dim":
            head = [k.layers.Dense(5, activation="relu", input_dim=4)]
        else:
            head = [k.layers.Dense(5, activation="relu", input_shape=(4,))]
        return k.Sequential(head + [k.layers.Dense(1, activation="sigmoid")])

    reference, ours = run(build, Y_BIN, BINARY)
    assert ours.input_shape == reference.input_shape == (None, 4)
    assert ours.output_shape == reference.output_shape == (None, 1)
    assert len(ours.layers) == len(reference.layers) == 2


def test_use_bias_false():
    reference, ours = run(lambda k: binary_model(k, use_bias=False), Y_BIN, BINARY)
    assert [w.shape for w in ours.get_weights()] == [(4, 8), (8, 1), (1,)]
    assert_weights_close(reference, ours)


def test_non_default_initializers_have_keras_shapes():
    def build(k):
        return k.Sequential([
            k.Input((4,)),
            k.layers.Dense(8, kernel_initializer="he_normal", bias_initializer="ones"),
            k.layers.Dense(3, kernel_initializer="orthogonal",
                           bias_initializer=k.initializers.Constant(0.5)),
        ])

    keras.utils.set_random_seed(0)
    reference = build(keras)
    ours = build(minikeras)
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in reference.get_weights()]
    np.testing.assert_array_equal(ours.get_weights()[1], np.ones(8, "float32"))
    np.testing.assert_array_equal(ours.get_weights()[3], np.full(3, 0.5, "float32"))


def test_frozen_layer_stays_frozen():
    def build(k):
        model = binary_model(k)
        model.layers[0].trainable = False
        return model

    reference, ours = build_pair(build)
    frozen = [w.copy() for w in ours.layers[0].get_weights()]
    ref, got = fit_both(reference, ours, X, Y_BIN, BINARY, epochs=10, batch_size=16,
                        validation_split=0.2)
    assert_histories_close(ref, got)
    for before, after in zip(frozen, ours.layers[0].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert len(ours.trainable_weights) == len(reference.trainable_weights) == 2
    assert len(ours.non_trainable_weights) == len(reference.non_trainable_weights) == 2
    assert_weights_close(reference, ours)


def test_trainable_toggled_after_compile_takes_effect_at_fit():
    reference, ours = build_pair(binary_model)
    for model in (reference, ours):
        model.compile(**BINARY)
        model.layers[1].trainable = False
    frozen = ours.layers[1].get_weights()
    ref = reference.fit(X, Y_BIN, epochs=8, batch_size=16, shuffle=False, verbose=0).history
    got = ours.fit(X, Y_BIN, epochs=8, batch_size=16, shuffle=False, verbose=0).history
    assert_histories_close(ref, got)
    for before, after in zip(frozen, ours.layers[1].get_weights()):
        np.testing.assert_array_equal(before, after)
    assert_weights_close(reference, ours)


def test_whole_model_frozen_then_unfrozen_and_recompiled():
    reference, ours = build_pair(binary_model)
    for model in (reference, ours):
        model.trainable = False
        model.compile(**BINARY)
    start = ours.get_weights()
    # Nothing to train: Keras warns, records the loss, and changes nothing.
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        ref = reference.fit(X, Y_BIN, epochs=2, shuffle=False, verbose=0).history
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        got = ours.fit(X, Y_BIN, epochs=2, shuffle=False, verbose=0).history
    assert_histories_close(ref, got)
    for before, after in zip(start, ours.get_weights()):
        np.testing.assert_array_equal(before, after)
    for model in (reference, ours):
        model.trainable = True
        model.compile(**BINARY)
    ref = reference.fit(X, Y_BIN, epochs=3, shuffle=False, verbose=0).history
    got = ours.fit(X, Y_BIN, epochs=3, shuffle=False, verbose=0).history
    assert_histories_close(ref, got)


def test_rank_3_targets_with_per_timestep_sample_weights():
    x3 = X.reshape(60, 2, 2)
    y3 = np.stack([Y_REG, -Y_REG], axis=1)             # (60, 2, 2): one target per timestep
    sw = np.stack([SW, SW[::-1]], axis=1)              # (60, 2): one weight per timestep

    def build(k):
        return k.Sequential([k.Input((2, 2)), k.layers.Dense(6, activation="tanh"),
                             k.layers.Dense(2)])

    run(build, y3, dict(loss="mse", optimizer="adam"), x=x3, sample_weight=sw,
        validation_split=0.2)
