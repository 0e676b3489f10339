"""What users write with keras.ops trains like Keras: a custom layer, a subclassed model with
two branches, a custom loss (function and Loss subclass), a callable activation, a custom
metric, a Lambda, an add_loss regulariser and a train_step override. Each model is defined
once per engine (`k` is keras or minikeras), starts from Keras's initial weights, and its
History must match Keras's epoch by epoch."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import minikeras
from compat_tests.compare import assert_histories_close


def _data(n=96, features=5, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (np.sin(x[:, :1]) + 0.5 * x[:, 1:2] > 0).astype("float32")
    return x, y


def _fit_pair(make, compile_kwargs, epochs=4, validation=True, x=None, y=None):
    """make(k) -> an uncompiled model for engine k. Builds both, copies Keras's weights,
    fits both (shuffle=False). Returns (keras history, minikeras history, both models)."""
    if x is None:
        x, y = _data()
    keras.utils.set_random_seed(0)
    reference = make(keras)
    ours = make(minikeras)
    reference(x[:2])
    ours(x[:2])
    assert [w.shape for w in ours.get_weights()] == [w.shape for w in reference.get_weights()]
    ours.set_weights(reference.get_weights())
    histories = []
    for model, k in ((reference, keras), (ours, minikeras)):
        model.compile(**{key: value(k) if callable(value) else value
                         for key, value in compile_kwargs.items()})
        extra = {"validation_data": (x[:32], y[:32])} if validation else {}
        histories.append(model.fit(x, y, batch_size=16, epochs=epochs, shuffle=False,
                                   verbose=0, **extra).history)
    return histories[0], histories[1], reference, ours


# ---------------------------------------------------------------- definitions, per engine


def scale_layer(k):
    """A custom layer: y = (x * scale + shift) with scale trainable and shift not."""

    class Scale(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)

        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones",
                                         name="scale")
            self.shift = self.add_weight(shape=(input_shape[-1],), initializer="zeros",
                                         trainable=False, name="shift")

        def call(self, inputs):
            return k.ops.tanh(inputs * self.scale + self.shift)

    return Scale


def my_dense_layer(k):
    class MyDense(k.layers.Layer):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units

        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w",
                                     initializer="glorot_uniform")
            self.b = self.add_weight(shape=(self.units,), name="b", initializer="zeros")

        def call(self, inputs):
            return k.ops.matmul(inputs, self.w) + self.b

        def get_config(self):
            config = super().get_config()
            config["units"] = self.units
            return config

    return MyDense


def test_custom_layer_with_trainable_and_frozen_weights():
    def make(k):
        return k.Sequential([k.Input((5,)), scale_layer(k)(), my_dense_layer(k)(8),
                             k.layers.Activation("relu"),
                             k.layers.Dense(1, activation="sigmoid")])

    ref, ours, reference, model = _fit_pair(
        make, {"optimizer": "adam", "loss": "binary_crossentropy", "metrics": ["accuracy"]})
    assert_histories_close(ref, ours)
    assert len(model.trainable_weights) == len(reference.trainable_weights) == 5
    for a, b in zip(model.get_weights(), reference.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_custom_layer_in_functional_model():
    def make(k):
        inputs = k.Input((5,))
        hidden = my_dense_layer(k)(6)(inputs)
        outputs = k.layers.Dense(1)(k.layers.Activation("tanh")(hidden))
        return k.Model(inputs, outputs)

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "sgd", "loss": "mse"})
    assert_histories_close(ref, ours)


def two_branch_model(k):
    class TwoBranches(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.left = k.layers.Dense(6, activation="relu")
            self.right = k.layers.Dense(6, activation="tanh")
            self.head = k.layers.Dense(1, activation="sigmoid")

        def call(self, inputs, training=False):
            joined = k.ops.concatenate([self.left(inputs), self.right(inputs)], axis=-1)
            if training:
                joined = joined * 0.9      # a branch taken only while training
            return self.head(joined)

    return TwoBranches()


def test_subclassed_model_with_two_branches():
    ref, ours, reference, model = _fit_pair(
        two_branch_model, {"optimizer": "adam", "loss": "binary_crossentropy",
                           "metrics": ["accuracy"]})
    assert_histories_close(ref, ours)
    x, y = _data()
    np.testing.assert_allclose(model.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-6)
    np.testing.assert_allclose(model.evaluate(x, y, verbose=0),
                               reference.evaluate(x, y, verbose=0), rtol=1e-4)


def test_custom_loss_function_and_loss_subclass_and_activation():
    def my_loss(k):
        def clipped_squared_error(y_true, y_pred):
            return k.ops.mean(k.ops.minimum(k.ops.square(y_true - y_pred), 0.8), axis=-1)
        return clipped_squared_error

    def make(k):
        def swishish(z):
            return z * k.ops.sigmoid(1.5 * z)
        return k.Sequential([k.Input((5,)), k.layers.Dense(8, activation=swishish),
                             k.layers.Dense(1)])

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": my_loss})
    assert_histories_close(ref, ours)

    def loss_class(k):
        class Huberish(k.losses.Loss):
            def call(self, y_true, y_pred):
                error = k.ops.abs(y_true - y_pred)
                return k.ops.mean(k.ops.where(error < 0.5, 0.5 * error ** 2, error - 0.125),
                                  axis=-1)
        return Huberish()

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": loss_class})
    assert_histories_close(ref, ours)


def test_custom_metric_with_state():
    def metric(k):
        class MeanAbove(k.metrics.Metric):
            """Fraction of predictions above a threshold, over the epoch."""

            def __init__(self, threshold=0.5, name="mean_above", **kwargs):
                super().__init__(name=name, **kwargs)
                self.threshold = threshold
                self.hits = self.add_weight(shape=(), initializer="zeros", name="hits")
                self.seen = self.add_variable(shape=(), initializer="zeros", name="seen")

            def update_state(self, y_true, y_pred, sample_weight=None):
                above = k.ops.cast(k.ops.greater(y_pred, self.threshold), "float32")
                self.hits.assign_add(k.ops.sum(above))
                self.seen.assign_add(k.ops.cast(k.ops.size(above), "float32"))

            def result(self):
                return k.ops.divide(self.hits, k.ops.maximum(self.seen, 1.0))

            def reset_state(self):
                self.hits.assign(0.0)
                self.seen.assign(0.0)

        return [MeanAbove()]

    def make(k):
        return k.Sequential([k.Input((5,)), k.layers.Dense(1, activation="sigmoid")])

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": "binary_crossentropy",
                                       "metrics": metric})
    assert "mean_above" in ours and "val_mean_above" in ours
    assert_histories_close(ref, ours)


def test_lambda_layer():
    def make(k):
        return k.Sequential([
            k.Input((5,)), k.layers.Dense(4),
            k.layers.Lambda(lambda t: k.ops.concatenate([t, k.ops.square(t)], axis=-1)),
            k.layers.Dense(1, activation="sigmoid")])

    ref, ours, reference, model = _fit_pair(make, {"optimizer": "rmsprop",
                                                   "loss": "binary_crossentropy"})
    assert_histories_close(ref, ours)
    assert model.layers[1].compute_output_shape((None, 4)) == (None, 8)


def test_add_loss_regulariser():
    def make(k):
        class ActivityPenalty(k.layers.Layer):
            def call(self, inputs):
                self.add_loss(0.05 * k.ops.mean(k.ops.square(inputs)))
                return inputs

        return k.Sequential([k.Input((5,)), k.layers.Dense(8, activation="tanh"),
                             ActivityPenalty(), k.layers.Dense(1)])

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": "mse"})
    assert_histories_close(ref, ours)


def step_model(k, gradient_tape):
    """The keras.io pattern: a subclassed model overriding train_step. Keras's reference
    takes gradients with tf.GradientTape; minikeras's with keras.ops.GradientTape."""

    class Stepper(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.hidden = k.layers.Dense(8, activation="relu")
            self.out = k.layers.Dense(1)
            self.loss_tracker = k.metrics.Mean(name="loss")
            self.mae_tracker = k.metrics.MeanAbsoluteError(name="mae")

        def call(self, inputs):
            return self.out(self.hidden(inputs))

        @property
        def metrics(self):
            return [self.loss_tracker, self.mae_tracker]

        def train_step(self, data):
            x, y = data
            with gradient_tape() as tape:
                y_pred = self(x, training=True)
                loss = self.compute_loss(y=y, y_pred=y_pred)
            grads = tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply(grads, self.trainable_weights)
            self.loss_tracker.update_state(loss)
            self.mae_tracker.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

        def test_step(self, data):
            x, y = data
            y_pred = self(x, training=False)
            self.loss_tracker.update_state(self.compute_loss(y=y, y_pred=y_pred))
            self.mae_tracker.update_state(y, y_pred)
            return {m.name: m.result() for m in self.metrics}

    return Stepper()


def test_train_step_override():
    def make(k):
        return step_model(k, tf.GradientTape if k is keras else minikeras.ops.GradientTape)

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": "mse"})
    assert sorted(ours) == ["loss", "mae", "val_loss", "val_mae"]
    assert_histories_close(ref, ours)


def test_compute_loss_override():
    def make(k):
        class Penalised(k.Sequential):
            def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None,
                             training=True):
                loss = super().compute_loss(x, y, y_pred, sample_weight, training)
                return loss + 0.1 * k.ops.mean(k.ops.abs(y_pred))

        return Penalised([k.Input((5,)), k.layers.Dense(4, activation="relu"),
                          k.layers.Dense(1)])

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "sgd", "loss": "mse"})
    assert_histories_close(ref, ours)


@pytest.mark.parametrize("floatx", ["float64"])
def test_custom_layer_float64(floatx):
    keras.config.set_floatx(floatx)
    keras.config.set_dtype_policy(floatx)
    minikeras.backend.set_floatx(floatx)
    x, y = _data()

    def make(k):
        return k.Sequential([k.Input((5,)), my_dense_layer(k)(3), k.layers.Dense(1)])

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": "mse"},
                                x=x.astype(floatx), y=y.astype(floatx))
    assert_histories_close(ref, ours, rtol=1e-9, atol=1e-12)


def nested_model(k):
    """A subclassed model holding a custom layer (with its own sublayer) and a list."""

    class Inner(k.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.d = k.layers.Dense(2)

        def build(self, input_shape):
            self.s = self.add_weight(shape=(2,), initializer="ones", name="s")

        def call(self, inputs):
            return self.d(inputs) * self.s

    class Net(k.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.zeta = k.layers.Dense(5, activation="relu")
            self.alpha = Inner()
            self.blocks = [k.layers.Dense(3), k.layers.Dense(2)]

        def call(self, inputs):
            h = self.zeta(inputs)
            for block in self.blocks:
                h = block(h)
            return self.alpha(h)

    return Net()


def test_subclassed_weights_files_are_interchangeable(tmp_path):
    x, _ = _data()
    keras.utils.set_random_seed(1)
    reference = nested_model(keras)
    reference(x[:2])
    reference.save_weights(tmp_path / "keras.weights.h5")
    ours = nested_model(minikeras)
    ours(x[:2])
    assert [w.shape for w in ours.weights] == [w.shape for w in reference.weights]
    ours.load_weights(tmp_path / "keras.weights.h5")
    np.testing.assert_allclose(ours.predict(x, verbose=0), reference.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    ours.set_weights([w + 0.5 for w in ours.get_weights()])
    ours.save_weights(tmp_path / "ours.weights.h5")
    reference.load_weights(tmp_path / "ours.weights.h5")
    np.testing.assert_allclose(reference.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_custom_layer_saved_in_keras_file_loads_in_keras(tmp_path):
    x, y = _data()
    MyDense = minikeras.saving.register_keras_serializable(package="compat")(
        my_dense_layer(minikeras))
    model = minikeras.Sequential([minikeras.Input((5,)), MyDense(3), minikeras.layers.Dense(1)])
    model.compile("adam", "mse")
    model.fit(x, y, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    again = minikeras.models.load_model(tmp_path / "m.keras")
    assert type(again.layers[0]) is MyDense and again.layers[0].units == 3
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    KerasDense = keras.saving.register_keras_serializable(package="compat")(
        my_dense_layer(keras))
    theirs = keras.models.load_model(tmp_path / "m.keras")
    assert type(theirs.layers[0]) is KerasDense
    np.testing.assert_allclose(theirs.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # And back: Keras's file of the same model loads in minikeras.
    theirs.save(tmp_path / "k.keras")
    back = minikeras.models.load_model(tmp_path / "k.keras")
    assert type(back.layers[0]) is MyDense
    np.testing.assert_allclose(back.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)


def test_train_step_override_with_compiled_metrics():
    """keras.io's pattern: loop over self.metrics, updating "loss" with the loss and the
    compiled metrics with (y, y_pred)."""

    def make(k):
        gradient_tape = tf.GradientTape if k is keras else minikeras.ops.GradientTape

        class Regressor(k.Model):
            def __init__(self, **kwargs):
                super().__init__(**kwargs)
                self.hidden = k.layers.Dense(8, activation="relu")
                self.out = k.layers.Dense(1)

            def call(self, inputs):
                return self.out(self.hidden(inputs))

            def train_step(self, data):
                x, y = data
                with gradient_tape() as tape:
                    y_pred = self(x, training=True)
                    loss = self.compute_loss(y=y, y_pred=y_pred)
                grads = tape.gradient(loss, self.trainable_weights)
                self.optimizer.apply(grads, self.trainable_weights)
                for metric in self.metrics:
                    if metric.name == "loss":
                        metric.update_state(loss)
                    else:
                        metric.update_state(y, y_pred)
                return {m.name: m.result() for m in self.metrics}

        return Regressor()

    ref, ours, _, _ = _fit_pair(make, {"optimizer": "adam", "loss": "mse",
                                       "metrics": ["mae"]}, validation=False)
    assert_histories_close(ref, ours)


def subclassed_model_class(k, package):
    """A registered subclassed model with a constructor argument and its get_config."""

    @k.saving.register_keras_serializable(package=package)
    class TwoLayers(k.Model):
        def __init__(self, units=4, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.hidden = k.layers.Dense(units, activation="relu")
            self.out = k.layers.Dense(1)

        def call(self, inputs):
            return self.out(self.hidden(inputs))

        def get_config(self):
            return {"units": self.units, **super().get_config()}

    return TwoLayers


def test_subclassed_model_keras_files_go_both_ways(tmp_path):
    """model.save("x.keras") of a subclassed model: its class by registered name, its
    get_config, build and compile configs, weights and optimizer state. Each engine loads the
    other's file and trains on from the same state."""
    x, y = _data()
    ours_class = subclassed_model_class(minikeras, "subclassed_compat")
    theirs_class = subclassed_model_class(keras, "subclassed_compat")
    ours = ours_class(units=6)
    ours.compile(optimizer="adam", loss="mse")
    ours.fit(x, y, epochs=1, verbose=0)
    ours.save(tmp_path / "ours.keras")
    again = minikeras.models.load_model(tmp_path / "ours.keras")
    assert type(again) is ours_class and again.units == 6
    np.testing.assert_array_equal(again.predict(x, verbose=0), ours.predict(x, verbose=0))
    theirs = keras.models.load_model(tmp_path / "ours.keras")
    assert type(theirs) is theirs_class and theirs.units == 6
    assert int(theirs.optimizer.iterations) == int(ours.optimizer.iterations)
    np.testing.assert_allclose(theirs.predict(x, verbose=0), ours.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    # both train on from the loaded state alike
    history_theirs = theirs.fit(x, y, epochs=2, verbose=0, shuffle=False).history
    history_again = again.fit(x, y, epochs=2, verbose=0, shuffle=False).history
    assert_histories_close(history_again, history_theirs)
    # and Keras's file loads in minikeras
    theirs.save(tmp_path / "theirs.keras")
    back = minikeras.models.load_model(tmp_path / "theirs.keras")
    assert type(back) is ours_class and back.units == 6
    np.testing.assert_allclose(back.predict(x, verbose=0), theirs.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    assert int(back.optimizer.iterations) == int(theirs.optimizer.iterations)
