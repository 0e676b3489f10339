"""Files move between Keras and minikeras in both directions.

Keras saves, minikeras loads (and the reverse), for `.keras` archives and `.weights.h5` files:
the loaded model predicts the same outputs (1e-6 relative), carries the same optimizer state,
and training continues along the same curve as in the program that saved it.
"""

import json
import zipfile

import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, build_pair, two_circles, two_circles_model
from minikeras.saving import saving_api

X, Y = two_circles(n=160)
FIT = dict(batch_size=32, shuffle=False, verbose=0)


def assert_same_predictions(ours, reference, x):
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-6, atol=1e-7)


def assert_same_optimizer_state(ours, reference):
    ours_state = ours.optimizer.variables
    ref_state = [v.numpy() for v in reference.optimizer.variables]
    assert len(ours_state) == len(ref_state)
    for i, (a, b) in enumerate(zip(ours_state, ref_state)):
        np.testing.assert_allclose(np.asarray(a), b, rtol=1e-6, atol=1e-7,
                                   err_msg=f"optimizer variable {i}")


def _conv_layers(k):
    """(Conv2D, MaxPooling2D) of keras, or of minikeras (from their files while the package
    does not export them yet)."""
    if k is keras:
        return keras.layers.Conv2D, keras.layers.MaxPooling2D
    from minikeras.layers.conv2d import Conv2D
    from minikeras.layers.max_pooling2d import MaxPooling2D

    return Conv2D, MaxPooling2D


def small_cnn(k):
    Conv2D, MaxPooling2D = _conv_layers(k)
    return k.Sequential([
        k.Input((8, 8, 1)),
        Conv2D(4, 3, activation="relu", padding="same"),
        MaxPooling2D(),
        Conv2D(3, 2, strides=2),
        k.layers.Flatten(),
        k.layers.Dropout(0.0),       # in the file, but no random masks while training
        k.layers.Dense(3, activation="softmax"),
    ])


def cnn_data():
    rng = np.random.default_rng(1)
    x = rng.normal(size=(48, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 3, 48).astype("float32")
    return x, y


# ---------------------------------------------------------- Keras saves, minikeras loads


def test_keras_archive_loads_in_minikeras_and_training_continues(tmp_path):
    keras.utils.set_random_seed(0)
    reference = two_circles_model(keras)
    reference.compile(optimizer=keras.optimizers.Adam(0.01), loss="binary_crossentropy",
                      metrics=["accuracy"])
    reference.fit(X, Y, epochs=3, **FIT)
    reference.save(tmp_path / "keras.keras")

    ours = saving_api.load_model(tmp_path / "keras.keras")
    assert isinstance(ours, minikeras.Sequential)
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert_same_predictions(ours, reference, X)
    assert ours.compiled and type(ours.optimizer).__name__ == "Adam"
    assert_same_optimizer_state(ours, reference)

    ref_history = reference.fit(X, Y, epochs=3, **FIT).history
    our_history = ours.fit(X, Y, epochs=3, **FIT).history
    assert_histories_close(ref_history, our_history)


def test_keras_weights_file_loads_in_minikeras(tmp_path):
    reference, ours = build_pair(two_circles_model, seed=3)
    reference.compile(optimizer="sgd", loss="binary_crossentropy")
    reference.fit(X, Y, epochs=2, **FIT)
    reference.save_weights(tmp_path / "keras.weights.h5")
    saving_api.load_weights(ours, tmp_path / "keras.weights.h5")
    assert_same_predictions(ours, reference, X)


def test_keras_cnn_archive_loads_in_minikeras(tmp_path):
    x, y = cnn_data()
    keras.utils.set_random_seed(0)
    reference = small_cnn(keras)
    reference.compile(optimizer=keras.optimizers.RMSprop(0.01, momentum=0.5),
                      loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    reference.fit(x, y, epochs=2, **FIT)
    reference.save(tmp_path / "cnn.keras")
    ours = saving_api.load_model(tmp_path / "cnn.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        "Conv2D", "MaxPooling2D", "Conv2D", "Flatten", "Dropout", "Dense"]
    assert_same_predictions(ours, reference, x)
    assert_same_optimizer_state(ours, reference)
    ref_history = reference.fit(x, y, epochs=2, **FIT).history
    our_history = ours.fit(x, y, epochs=2, **FIT).history
    assert_histories_close(ref_history, our_history)


# ---------------------------------------------------------- minikeras saves, Keras loads


def test_minikeras_archive_loads_in_keras_and_training_continues(tmp_path):
    reference, ours = build_pair(two_circles_model, seed=1)
    ours.compile(optimizer=minikeras.optimizers.Adam(0.01, amsgrad=True),
                 loss="binary_crossentropy", metrics=["accuracy"])
    ours.fit(X, Y, epochs=3, **FIT)
    saving_api.save_model(ours, tmp_path / "ours.keras")

    with zipfile.ZipFile(tmp_path / "ours.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        config = json.loads(archive.read("config.json"))
    assert config["module"] == "keras" and config["class_name"] == "Sequential"

    loaded = keras.models.load_model(tmp_path / "ours.keras")
    assert_same_predictions(ours, loaded, X)
    assert_same_optimizer_state(ours, loaded)
    assert int(loaded.optimizer.iterations.numpy()) == ours.optimizer.iterations

    ref_history = loaded.fit(X, Y, epochs=3, **FIT).history
    our_history = ours.fit(X, Y, epochs=3, **FIT).history
    assert_histories_close(ref_history, our_history)


def test_minikeras_weights_file_loads_in_keras(tmp_path):
    reference, ours = build_pair(two_circles_model, seed=4)
    ours.compile(optimizer="adam", loss="binary_crossentropy")
    ours.fit(X, Y, epochs=2, **FIT)
    saving_api.save_weights(ours, tmp_path / "ours.weights.h5")
    reference.load_weights(tmp_path / "ours.weights.h5")
    assert_same_predictions(ours, reference, X)


def test_minikeras_cnn_archive_loads_in_keras(tmp_path):
    x, y = cnn_data()
    _, ours = build_pair(small_cnn, seed=2)
    ours.compile(optimizer="adam", loss="sparse_categorical_crossentropy",
                 metrics=["accuracy"])
    ours.fit(x, y, epochs=2, **FIT)
    saving_api.save_model(ours, tmp_path / "cnn.keras")
    loaded = keras.models.load_model(tmp_path / "cnn.keras")
    assert_same_predictions(ours, loaded, x)
    assert_same_optimizer_state(ours, loaded)
    assert_histories_close(loaded.fit(x, y, epochs=2, **FIT).history,
                           ours.fit(x, y, epochs=2, **FIT).history)


def every_layer_model(k):
    """One model holding every layer type minikeras has (weights in Dense and Conv2D)."""
    names = ["Conv2D", "MaxPooling2D", "AveragePooling2D", "GlobalMaxPooling2D",
             "GlobalAveragePooling2D", "ZeroPadding2D"]
    if k is keras:
        layer = {name: getattr(keras.layers, name) for name in names}
    else:
        from minikeras.saving.serialization import _builtin_class

        layer = {name: _builtin_class("layers", name) for name in names}
    return k.Sequential([
        k.Input((6, 6, 2)),
        layer["ZeroPadding2D"](((1, 0), (0, 1))),
        layer["Conv2D"](3, 3, activation="tanh"),
        layer["AveragePooling2D"](2),
        layer["MaxPooling2D"](1),
        layer["GlobalMaxPooling2D"](keepdims=True),
        layer["GlobalAveragePooling2D"](),
        k.layers.Reshape((3, 1)),
        k.layers.Flatten(),
        k.layers.Dropout(0.3, seed=4),
        k.layers.Activation("relu"),
        k.layers.Dense(2, kernel_regularizer="l2", kernel_constraint="non_neg"),
    ])


def test_every_layer_type_crosses_both_ways(tmp_path):
    x = np.random.default_rng(2).normal(size=(5, 6, 6, 2)).astype("float32")
    keras.utils.set_random_seed(0)
    reference = every_layer_model(keras)
    reference.save(tmp_path / "keras.keras")
    ours = saving_api.load_model(tmp_path / "keras.keras")
    assert [type(layer).__name__ for layer in ours.layers] == [
        type(layer).__name__ for layer in reference.layers]
    assert_same_predictions(ours, reference, x)
    saving_api.save_model(ours, tmp_path / "ours.keras")
    back = keras.models.load_model(tmp_path / "ours.keras")
    assert [layer.get_config() for layer in back.layers] == [
        layer.get_config() for layer in reference.layers]
    assert_same_predictions(ours, back, x)


# ------------------------------------------------------------ every optimizer's state

OPTIMIZERS = [
    lambda k: k.optimizers.SGD(0.05, momentum=0.9, nesterov=True),
    lambda k: k.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
    lambda k: k.optimizers.Adagrad(0.05),
    lambda k: k.optimizers.Adadelta(1.0),
    lambda k: k.optimizers.Adam(0.01, amsgrad=True),
    lambda k: k.optimizers.AdamW(0.01),
    lambda k: k.optimizers.Adamax(0.01),
    lambda k: k.optimizers.Nadam(0.01),
    lambda k: k.optimizers.Ftrl(0.05),
    lambda k: k.optimizers.Lion(0.001),
    lambda k: k.optimizers.Adam(k.optimizers.schedules.ExponentialDecay(0.01, 3, 0.5)),
    lambda k: k.optimizers.SGD(0.05, momentum=0.5, use_ema=True, ema_overwrite_frequency=3),
]
OPTIMIZER_IDS = ["sgd_nesterov", "rmsprop_centered", "adagrad", "adadelta", "adam_amsgrad",
                 "adamw", "adamax", "nadam", "ftrl", "lion", "adam_schedule", "sgd_ema"]


def tiny_model(k):
    return k.Sequential([k.Input((2,)), k.layers.Dense(3, activation="tanh"),
                         k.layers.Dense(1, activation="sigmoid")])


@pytest.mark.parametrize("make_optimizer", OPTIMIZERS, ids=OPTIMIZER_IDS)
def test_optimizer_state_round_trips_both_ways(tmp_path, make_optimizer):
    x, y = X[:64], Y[:64]
    keras.utils.set_random_seed(0)
    reference = tiny_model(keras)
    reference.compile(optimizer=make_optimizer(keras), loss="binary_crossentropy")
    reference.fit(x, y, epochs=2, **FIT)
    reference.save(tmp_path / "keras.keras")

    ours = saving_api.load_model(tmp_path / "keras.keras")
    assert type(ours.optimizer).__name__ == type(reference.optimizer).__name__
    assert_same_optimizer_state(ours, reference)
    saving_api.save_model(ours, tmp_path / "ours.keras")
    back = keras.models.load_model(tmp_path / "ours.keras")
    assert_same_optimizer_state(ours, back)

    ref_history = reference.fit(x, y, epochs=2, **FIT).history
    our_history = ours.fit(x, y, epochs=2, **FIT).history
    assert_histories_close(ref_history, our_history)


# --------------------------------------------------------- every loss and every metric

def _targets(kind, rng, n):
    labels = rng.integers(0, 3, n)
    if kind == "sparse":
        return labels.astype("float32")
    if kind == "onehot":
        return np.eye(3, dtype="float32")[labels]
    if kind == "binary":
        return rng.integers(0, 2, (n, 3)).astype("float32")
    return rng.uniform(0.5, 2.0, (n, 3)).astype("float32")


LOSSES = [
    ("binary_crossentropy", "binary", "sigmoid"),
    (lambda k: k.losses.BinaryFocalCrossentropy(gamma=1.5), "binary", "sigmoid"),
    ("categorical_crossentropy", "onehot", "softmax"),
    (lambda k: k.losses.CategoricalFocalCrossentropy(), "onehot", "softmax"),
    (lambda k: k.losses.SparseCategoricalCrossentropy(from_logits=True), "sparse", "linear"),
    ("kl_divergence", "onehot", "softmax"),
    ("poisson", "positive", "softplus"),
    ("mse", "positive", "linear"),
    (lambda k: k.losses.MeanAbsoluteError(), "positive", "linear"),
    ("mean_absolute_percentage_error", "positive", "linear"),
    ("mean_squared_logarithmic_error", "positive", "softplus"),
    (lambda k: k.losses.Huber(delta=0.5), "positive", "linear"),
    ("log_cosh", "positive", "linear"),
    ("cosine_similarity", "positive", "linear"),
    ("hinge", "binary", "tanh"),
    ("squared_hinge", "binary", "tanh"),
    ("categorical_hinge", "onehot", "linear"),
]


@pytest.mark.parametrize("loss,kind,activation", LOSSES,
                         ids=[str(i) for i in range(len(LOSSES))])
def test_keras_compiled_losses_load_and_evaluate_alike(tmp_path, loss, kind, activation):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = _targets(kind, rng, 40)
    keras.utils.set_random_seed(0)
    reference = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation)])
    reference.compile(optimizer="adam", loss=loss(keras) if callable(loss) else loss)
    reference.save(tmp_path / "m.keras")
    ours = saving_api.load_model(tmp_path / "m.keras")
    saving_api.save_model(ours, tmp_path / "back.keras")
    # Keras's loss as written in each file, computed eagerly on minikeras's predictions.
    # (The file is the reference, not the in-memory object: Keras's own get_config drops some
    # arguments, e.g. Huber's delta.)
    y_pred = ours.predict(x, verbose=0)
    saved = keras.losses.get(_compile_config(tmp_path / "m.keras")["loss"])
    written = keras.losses.get(_compile_config(tmp_path / "back.keras")["loss"])
    # A loss function gives per-sample values; the compiled loss is their mean.
    expected = float(np.mean(saved(y, y_pred)))
    np.testing.assert_allclose(ours.evaluate(x, y, verbose=0), expected, rtol=1e-4)
    np.testing.assert_allclose(float(np.mean(written(y, y_pred))), expected, rtol=1e-6)


def _compile_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))["compile_config"]


METRICS = {
    "onehot": ("softmax", "categorical_crossentropy", [
        "accuracy",
        lambda k: k.metrics.CategoricalAccuracy(name="cat_acc"),
        lambda k: k.metrics.TopKCategoricalAccuracy(k=2),
        lambda k: k.metrics.KLDivergence(),
        lambda k: k.metrics.CategoricalCrossentropy(label_smoothing=0.1),
        lambda k: k.metrics.CategoricalHinge(),
    ]),
    "sparse": ("softmax", "sparse_categorical_crossentropy", [
        "sparse_categorical_accuracy",
        lambda k: k.metrics.SparseTopKCategoricalAccuracy(k=2),
        lambda k: k.metrics.SparseCategoricalCrossentropy(),
    ]),
    "binary": ("sigmoid", "binary_crossentropy", [
        lambda k: k.metrics.BinaryAccuracy(threshold=0.6),
        lambda k: k.metrics.AUC(num_thresholds=50),
        lambda k: k.metrics.Precision(thresholds=0.4),
        lambda k: k.metrics.Recall(),
        lambda k: k.metrics.TruePositives(),
        lambda k: k.metrics.BinaryCrossentropy(),
        lambda k: k.metrics.FalsePositives(thresholds=0.3),
        lambda k: k.metrics.FalseNegatives(),
        lambda k: k.metrics.TrueNegatives(),
        lambda k: k.metrics.Hinge(),
        lambda k: k.metrics.SquaredHinge(),
        lambda k: k.metrics.Accuracy(),
    ]),
    "positive": ("linear", "mse", [
        "mae",
        lambda k: k.metrics.RootMeanSquaredError(),
        lambda k: k.metrics.R2Score(),
        lambda k: k.metrics.CosineSimilarity(),
        lambda k: k.metrics.LogCoshError(),
        lambda k: k.metrics.mean_squared_error,
        lambda k: k.metrics.MeanSquaredError(name="mse_metric"),
        lambda k: k.metrics.MeanAbsolutePercentageError(),
        lambda k: k.metrics.MeanSquaredLogarithmicError(),
        lambda k: k.metrics.Poisson(),
    ]),
}


@pytest.mark.parametrize("kind", sorted(METRICS))
def test_keras_compiled_metrics_load_and_evaluate_alike(tmp_path, kind):
    activation, loss, metrics = METRICS[kind]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = _targets(kind, rng, 40)
    keras.utils.set_random_seed(0)
    reference = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation)])
    resolved = [m(keras) if callable(m) else m for m in metrics]
    reference.compile(optimizer="sgd", loss=loss, metrics=resolved[:2],
                      weighted_metrics=resolved[2:])
    reference.save(tmp_path / "m.keras")
    reference = keras.models.load_model(tmp_path / "m.keras")
    ours = saving_api.load_model(tmp_path / "m.keras")
    expected = reference.evaluate(x, y, verbose=0, return_dict=True)
    got = ours.evaluate(x, y, verbose=0, return_dict=True)
    assert sorted(got) == sorted(expected)
    for key in expected:
        np.testing.assert_allclose(got[key], expected[key], rtol=1e-4, atol=1e-6,
                                   err_msg=key)
    saving_api.save_model(ours, tmp_path / "back.keras")
    back = keras.models.load_model(tmp_path / "back.keras")
    back_results = back.evaluate(x, y, verbose=0, return_dict=True)
    for key in expected:
        np.testing.assert_allclose(back_results[key], expected[key], rtol=1e-5, atol=1e-7,
                                   err_msg=key)


# ------------------------------------------------------------- configs, layer by layer

LAYERS = [
    lambda k: k.layers.Dense(3, activation="relu", use_bias=False,
                             kernel_initializer=k.initializers.HeNormal(seed=3),
                             kernel_regularizer=k.regularizers.L1L2(0.01, 0.02),
                             kernel_constraint=k.constraints.MaxNorm(2.0),
                             activity_regularizer=k.regularizers.L2(0.1)),
    lambda k: k.layers.Dropout(0.3, noise_shape=(None, 1), seed=4),
    lambda k: k.layers.Flatten(),
    lambda k: k.layers.Reshape((3, 2)),
    lambda k: k.layers.Activation("softmax"),
    lambda k: k.layers.Conv2D(2, (3, 2), strides=(1, 2), padding="same", dilation_rate=1,
                              activation="relu", bias_initializer=k.initializers.Constant(0.1)),
    lambda k: k.layers.MaxPooling2D((2, 2), strides=1, padding="same"),
    lambda k: k.layers.AveragePooling2D(2),
    lambda k: k.layers.GlobalAveragePooling2D(keepdims=True),
    lambda k: k.layers.GlobalMaxPooling2D(),
    lambda k: k.layers.ZeroPadding2D(((1, 0), (2, 1))),
]


@pytest.mark.parametrize("make_layer", LAYERS, ids=[str(i) for i in range(len(LAYERS))])
def test_layer_configs_translate_both_ways(make_layer):
    from minikeras.saving.serialization import deserialize_keras_object, serialize_keras_object

    reference = make_layer(keras)
    keras_entry = keras.saving.serialize_keras_object(reference)
    ours = deserialize_keras_object(json.loads(json.dumps(keras_entry)), kind="layers")
    assert type(ours).__name__ == type(reference).__name__
    our_entry = json.loads(json.dumps(serialize_keras_object(ours)))
    back = keras.saving.deserialize_keras_object(our_entry)
    assert back.get_config() == reference.get_config()
