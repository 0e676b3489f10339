"""Layers, models, losses and steps written with keras.ops: their gradients from the tape
against float64 finite differences, and how they plug into fit, saving and summary."""

import json
import zipfile

import numpy as np
import pytest

import minikeras as keras
from minikeras import layers, ops
from minikeras.ops import tape
from tests.gradcheck import check_layer, numerical_gradient, relative_error


@pytest.fixture(autouse=True)
def _float64():
    keras.backend.set_floatx("float64")
    keras.utils.set_random_seed(0)      # the "loss goes down" checks start from fixed weights
    yield
    keras.backend.set_floatx("float32")


class Gated(layers.Layer):
    """A custom layer with a Dense inside, a trainable and a frozen weight, and add_loss."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.inner = layers.Dense(units, activation="tanh")

    def build(self, input_shape):
        self.gate = self.add_weight(shape=(input_shape[-1], self.units), name="gate")
        self.offset = self.add_weight(shape=(self.units,), initializer="ones",
                                      trainable=False, name="offset")

    def call(self, inputs, training=None):
        gate = ops.sigmoid(ops.matmul(inputs, self.gate) + self.offset)
        out = self.inner(inputs) * gate
        self.add_loss(0.1 * ops.mean(ops.square(out)))
        return out

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_custom_layer_gradients_match_finite_differences():
    layer = Gated(3)
    x = np.random.default_rng(0).normal(size=(4, 5))
    layer(x)
    # Weights: its own (gate, then the frozen offset), then the inner Dense's, as Keras.
    assert [w.name for w in layer.weights] == ["gate", "offset", "kernel", "bias"]
    assert [w.name for w in layer.trainable_weights] == ["gate", "kernel", "bias"]
    # check_layer's loss is sum(out * R); the add_loss term is part of what backward
    # differentiates, so compare against that total here.
    rng = np.random.default_rng(1)
    r = rng.normal(size=(4, 3))

    def total(_):
        out, cache = layer.forward(x, training=True)
        return float(np.sum(out * r) + cache.loss)

    out, cache = layer.forward(x, training=True)
    dx, grads = layer.backward(r, cache)
    assert relative_error(dx, numerical_gradient(total, x)) < 1e-6
    for weight, grad in zip(layer.trainable_weights, grads):
        assert relative_error(grad, numerical_gradient(total, weight.value)) < 1e-6, weight.name


def test_custom_layer_without_add_loss_passes_check_layer():
    class Scale(layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, inputs):
            return ops.softplus(inputs * self.scale) / ops.norm(inputs, axis=-1,
                                                                 keepdims=True)

    check_layer(Scale(), np.random.default_rng(2).normal(size=(3, 4)))


def test_lambda_gradients_config_and_refusal_to_load():
    lam = layers.Lambda(lambda t, power: t ** power, arguments={"power": 3.0})
    check_layer(lam, np.random.default_rng(3).normal(size=(2, 3)))
    config = lam.get_config()
    assert config["function"] == "<lambda>" and config["arguments"] == {"power": 3.0}
    with pytest.raises(ValueError, match="never runs code"):
        layers.Lambda.from_config(config)

    @keras.saving.register_keras_serializable(package="tests")
    def cube(t):
        return t * t * t

    again = layers.Lambda.from_config({**layers.Lambda(cube).get_config(),
                                       "function": "tests>cube"})
    np.testing.assert_allclose(again(np.array([[2.0]])), [[8.0]])
    with pytest.raises(ValueError, match="function=3"):
        layers.Lambda(3)


def test_functional_shapes_of_a_custom_layer_are_inferred():
    inputs = keras.Input((5,))
    outputs = layers.Lambda(lambda t: ops.concatenate([t, t[:, :2]], axis=-1))(inputs)
    assert outputs.shape == (None, 7)
    assert Gated(4).compute_output_shape((None, 5)) == (None, 4)


class Branchy(keras.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.encoder = Gated(4)
        self.head = layers.Dense(1)

    def call(self, inputs, training=False):
        h = self.encoder(inputs)
        if training:
            h = h + 0.5
        return self.head(h)


def _regression(n=40, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 5))
    return x, x[:, :1] * 2.0 - x[:, 1:2]


def test_subclassed_model_gradients_match_finite_differences():
    model = Branchy()
    x, y = _regression(8)
    model.compile("sgd", "mse")
    model.build((None, 5))
    y_pred, record = model._forward(x, training=True)
    loss, dy, flags = model._loss_and_output_gradients(y, y_pred, record)
    grads = model._gradients(dy, record, flags)

    def total(_):
        pred, rec = model._forward(x, training=True)
        return float(model._loss_and_output_gradients(y, pred, rec)[0])

    for weight, grad in zip(model.trainable_weights, grads):
        assert relative_error(grad, numerical_gradient(total, weight.value)) < 1e-6, weight.path


def test_subclassed_model_trains_evaluates_predicts_and_summarises(capsys):
    model = Branchy()
    x, y = _regression()
    model.compile("adam", "mse", metrics=["mae"])
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert model.predict(x, verbose=0).shape == (40, 1)
    loss, mae = model.evaluate(x, y, verbose=0)
    assert loss > 0 and mae > 0
    model.summary()
    text = capsys.readouterr().out
    assert "gated" in text and "(None, 4)" in text and "(None, 1)" in text


def test_gradient_tape_agrees_with_the_graph_backward():
    model = keras.Sequential([keras.Input((5,)), layers.Dense(3, activation="relu"),
                              layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = _regression(6)
    y_pred, record = model._forward(x, training=True)
    _, dy, flags = model._loss_and_output_gradients(y, y_pred, record)
    expected = model._gradients(dy, record, flags)
    with ops.GradientTape() as gradient_tape:
        loss = model.compute_loss(y=y, y_pred=model(x, training=True))
    for got, want in zip(gradient_tape.gradient(loss, model.trainable_weights), expected):
        np.testing.assert_allclose(got, want, rtol=1e-12)


def test_train_step_without_targets_and_loss_from_add_loss_only():
    class AutoEncoder(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.code = layers.Dense(2)
            self.back = layers.Dense(5)
            self.tracker = keras.metrics.Mean(name="reconstruction")

        def call(self, inputs):
            return self.back(self.code(inputs))

        @property
        def metrics(self):
            return [self.tracker]

        def train_step(self, data):
            with ops.GradientTape() as gradient_tape:
                rebuilt = self(data, training=True)
                loss = ops.mean(ops.square(rebuilt - data))
            grads = gradient_tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            self.tracker.update_state(loss)
            return {"reconstruction": self.tracker.result()}

    model = AutoEncoder()
    model.compile(optimizer="adam")
    x, _ = _regression()
    history = model.fit(x, epochs=4, batch_size=8, verbose=0)
    assert list(history.history) == ["reconstruction"]
    assert history.history["reconstruction"][-1] < history.history["reconstruction"][0]


def test_custom_metric_with_add_weight_state():
    class Total(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.total = self.add_weight(shape=(), initializer="zeros", name="total")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.total.assign_add(ops.sum(y_pred))

        def result(self):
            return self.total.value

    metric = Total(name="total")
    metric.update_state(None, np.array([1.0, 2.0]))
    metric.update_state(None, np.array([3.0]))
    assert float(metric.result()) == 6.0
    metric.reset_state()
    assert float(metric.result()) == 0.0


def test_tracked_values_leave_the_tape_as_arrays():
    x = tape.Tracked(np.array([1.0, 2.0]))
    assert np.asarray(x * 2.0).tolist() == [2.0, 4.0]
    assert float(ops.sum(x)) == 3.0


class Regressor(keras.Model):
    """The keras.io pattern of a custom training step, with minikeras's gradient context
    (README.md shows Regressor.train_step)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)

    def call(self, inputs):
        return self.out(self.hidden(inputs))

    def train_step(self, data):
        x, y = data
        with keras.ops.GradientTape() as tape:
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


def test_regressor_train_step_as_the_readme_shows():
    model = Regressor()
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    x, y = _regression()
    history = model.fit(x, y, epochs=5, batch_size=8, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert history.history["mae"][-1] < history.history["mae"][0]


@pytest.mark.parametrize("name", ["binary_crossentropy", "mean_squared_error", "huber",
                                  "categorical_crossentropy"])
def test_loss_functions_on_the_tape_match_finite_differences(name):
    function = getattr(keras.losses, name)
    rng = np.random.default_rng(4)
    y_true = rng.uniform(0.1, 0.9, size=(3, 4))
    y_pred = rng.uniform(0.1, 0.9, size=(3, 4))
    leaf = tape.Tracked(y_pred)
    loss = ops.mean(function(y_true, leaf))
    (grad,) = tape.gradients([(loss, None)], [leaf])

    def total(_):
        return float(np.mean(function(y_true, y_pred)))

    assert relative_error(grad, numerical_gradient(total, y_pred)) < 1e-6


def test_a_model_trained_only_by_its_train_step_needs_no_call():
    encoder = keras.Sequential([keras.Input((5,)), layers.Dense(2)])
    decoder = keras.Sequential([keras.Input((2,)), layers.Dense(5, activation="sigmoid")])

    class AutoEncoder(keras.Model):       # keras.io's VAE shape: no call, only train_step
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.encoder, self.decoder = encoder, decoder

        def train_step(self, data):
            with ops.GradientTape() as gradient_tape:
                rebuilt = self.decoder(self.encoder(data))
                loss = ops.mean(keras.losses.binary_crossentropy(data, rebuilt))
            grads = gradient_tape.gradient(loss, self.trainable_weights)
            self.optimizer.apply_gradients(zip(grads, self.trainable_weights))
            return {"loss": loss}

    x = np.random.default_rng(5).uniform(size=(32, 5))
    model = AutoEncoder()
    model.compile(optimizer="adam")
    before = [w.copy() for w in decoder.get_weights()]
    history = model.fit(x, epochs=3, batch_size=8, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert all(not np.array_equal(a, b) for a, b in zip(before, decoder.get_weights()))


def test_masks_reach_a_custom_call_that_takes_them():
    class ZeroMasker(layers.Layer):
        def call(self, inputs):
            return inputs

        def compute_mask(self, inputs, mask=None):
            return ops.any(ops.not_equal(inputs, 0.0), axis=-1)

    class MaskedMean(layers.Layer):
        supports_masking = True

        def call(self, inputs, mask=None):
            if mask is None:
                return ops.mean(inputs, axis=1)
            weights = ops.expand_dims(ops.cast(mask, inputs.dtype), -1)
            return ops.sum(inputs * weights, axis=1) / ops.sum(weights, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None

    inputs = keras.Input((4, 3))
    model = keras.Model(inputs, MaskedMean()(ZeroMasker()(inputs)))
    x = np.random.default_rng(6).uniform(1, 2, size=(2, 4, 3))
    x[0, 2:] = 0.0
    np.testing.assert_allclose(model.predict(x, verbose=0),
                               [x[0, :2].mean(axis=0), x[1].mean(axis=0)])


def test_a_layer_held_by_the_model_and_by_its_sublayer_gets_one_gradient():
    shared = layers.Dense(5, activation="tanh")

    class Wrapper(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.inner = shared

        def call(self, inputs):
            return self.inner(inputs) * 2.0

    class Twice(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.shared = shared
            self.wrapper = Wrapper()
            self.head = layers.Dense(1)

        def call(self, inputs):
            return self.head(self.shared(inputs) + self.wrapper(inputs))

    model = Twice()
    x, y = _regression(6)
    model.compile("sgd", "mse")
    model.build((None, 5))
    assert len(model.trainable_weights) == 4            # shared's two, the head's two
    y_pred, record = model._forward(x, training=True)
    _, dy, flags = model._loss_and_output_gradients(y, y_pred, record)
    grads = model._gradients(dy, record, flags)

    def total(_):
        pred, rec = model._forward(x, training=True)
        return float(model._loss_and_output_gradients(y, pred, rec)[0])

    for weight, grad in zip(model.trainable_weights, grads):
        assert relative_error(grad, numerical_gradient(total, weight.value)) < 1e-6, weight.path


def test_a_subclassed_model_saves_to_a_keras_file_and_loads(tmp_path):
    """Its class is found again by its registered name (nothing runs from the file), rebuilt
    with get_config() and the shape it was built on, then compiled, with its weights and
    optimizer state; an unregistered class is refused with its name."""

    @keras.saving.register_keras_serializable(package="test_subclassed_saving")
    class Tower(keras.Model):
        def __init__(self, units=3, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.first = keras.layers.Dense(units, activation="tanh")
            self.last = keras.layers.Dense(1)

        def call(self, inputs):
            return self.last(self.first(inputs))

        def get_config(self):
            return {"units": self.units, **super().get_config()}

    rng = np.random.default_rng(0)
    x = rng.normal(size=(16, 4)).astype("float32")
    y = rng.normal(size=(16, 1)).astype("float32")
    model = Tower(units=5)
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=2, verbose=0)
    model.save(tmp_path / "tower.keras")
    config = json.loads(zipfile.ZipFile(tmp_path / "tower.keras").read("config.json"))
    assert config["registered_name"] == "test_subclassed_saving>Tower"
    assert config["config"]["units"] == 5 and config["build_config"] == {"input_shape": [None, 4]}
    again = keras.models.load_model(tmp_path / "tower.keras")
    assert type(again) is Tower and again.units == 5
    np.testing.assert_array_equal(again.predict(x, verbose=0), model.predict(x, verbose=0))
    assert int(again.optimizer.iterations) == int(model.optimizer.iterations) == 2
    expected = model.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"]
    assert again.fit(x, y, epochs=1, verbose=0, shuffle=False).history["loss"] == expected

    class Unregistered(keras.Model):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.dense = keras.layers.Dense(1)

        def call(self, inputs):
            return self.dense(inputs)

    plain = Unregistered()
    plain(x[:2])
    plain.save(tmp_path / "plain.keras")
    with pytest.raises(ValueError, match="Unregistered"):
        keras.models.load_model(tmp_path / "plain.keras")
