"""The TensorFlow stand-in without TensorFlow: README's subset is what the stand-in provides,
anything else is refused by name, and tensors stay out of the training step's way."""

import inspect
import pathlib
import re

import numpy as np
import pytest

import minikeras
import minikeras.tf_standin as tf
from minikeras.backend.eager_tensor import EagerTensor

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"
NAMESPACES = [tf, tf.math, tf.nn, tf.linalg, tf.random, tf.config, tf.data, tf.data.Dataset,
              tf.Variable, tf.GradientTape]


def _subset_tokens():
    text = README.read_text()
    block = text.split("<!-- tf-subset:start -->")[1].split("<!-- tf-subset:end -->")[0]
    return re.findall(r"`([^`]+)`", block)


def _resolve(token):
    """The object README's `token` names, or None."""
    if token.startswith("tf."):
        value = tf
        for part in token[3:].split("."):
            value = getattr(value, part, None)
            if value is None:
                return None
        return value
    for namespace in NAMESPACES:
        value = getattr(namespace, token, None)
        if value is not None:
            return value
    return None


def _parameter_names():
    names = set()
    for namespace in NAMESPACES:
        for value in vars(namespace).values():
            if callable(value):
                try:
                    names.update(inspect.signature(value).parameters)
                except (TypeError, ValueError):
                    pass
    return names


def test_readme_subset_names_exist():
    tokens = _subset_tokens()
    assert len(tokens) > 150
    parameters = _parameter_names()
    missing = [t for t in tokens if t != "tf.newaxis" and "(" not in t
               and _resolve(t) is None and t not in parameters]
    assert missing == []


@pytest.mark.parametrize("name", ["distribute", "io", "saved_model", "strings", "sparse",
                                  "RaggedTensor", "TensorSpec"])
def test_names_outside_the_subset_are_refused_by_name(name):
    with pytest.raises(AttributeError, match=f"has no attribute '{name}'.*TensorFlow subset"):
        getattr(tf, name)
    assert name not in _subset_tokens()


def test_submodules_refuse_what_they_lack():
    for module, name in ((tf.math, "bessel_i0"), (tf.nn, "conv2d"), (tf.random, "gamma"),
                         (tf.data, "TextLineDataset"), (tf.linalg, "svd"),
                         (tf.config, "set_visible_devices")):
        with pytest.raises(AttributeError, match=f"'{name}'"):
            getattr(module, name)


def test_tensors_read_like_tensorflows_and_compute_as_arrays():
    t = tf.constant([[1.0, 2.0], [3.0, 4.0]])
    assert isinstance(t, tf.Tensor) and t.shape == (2, 2) and t.dtype == tf.float32
    assert type(t.numpy()) is np.ndarray
    assert repr(t).startswith("<tf.Tensor: shape=(2, 2), dtype=float32")
    # NumPy results leave the subclass behind, so the layers' maths stays on plain arrays.
    assert type(t * 2) is np.ndarray and type(t @ t) is np.ndarray
    assert type(np.asarray(t)) is np.ndarray
    assert float(tf.reduce_sum(t)) == 10.0


def test_training_steps_never_see_the_tensor_type():
    seen = []

    class Spy(minikeras.layers.Layer):
        def forward(self, x, training=False):
            seen.append(type(x))
            return x, None

        def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
            return dout, []

    model = minikeras.Sequential([minikeras.Input((3,)), Spy(), minikeras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    dataset = tf.data.Dataset.from_tensor_slices(
        (np.ones((8, 3), "float32"), np.zeros((8, 2), "float32"))).batch(4)
    model.fit(dataset, epochs=1, verbose=0)
    model.predict(tf.constant(np.ones((2, 3), "float32")), verbose=0)
    assert seen and all(kind is np.ndarray for kind in seen)
    assert isinstance(model(np.ones((1, 3), "float32")), EagerTensor)


def test_variable_in_a_tape_and_an_optimizer():
    w = tf.Variable([1.0, -2.0])
    optimizer = minikeras.optimizers.SGD(0.5)
    with tf.GradientTape() as tape:
        loss = tf.reduce_sum(tf.square(w))
    (grad,) = tape.gradient(loss, [w])
    optimizer.apply_gradients(zip([grad], [w]))
    np.testing.assert_allclose(grad.numpy(), [2.0, -4.0])
    np.testing.assert_allclose(w.numpy(), [0.0, 0.0])
    assert repr(w).startswith("<tf.Variable 'Variable:0' shape=(2,) dtype=float32")


def test_seed_makes_weights_and_shuffles_repeat():
    def run():
        tf.random.set_seed(11)
        layer = minikeras.layers.Dense(3)
        layer.build((None, 2))
        order = list(tf.data.Dataset.range(6).shuffle(6).as_numpy_iterator())
        return layer.get_weights()[0], order

    (w1, o1), (w2, o2) = run(), run()
    np.testing.assert_array_equal(w1, w2)
    assert o1 == o2
    with pytest.raises(ValueError, match="seed=1.5"):
        tf.random.set_seed(1.5)


def test_train_step_override_with_tf_gradient_tape_matches_keras_ops_tape():
    def run(tape_class):
        class Regressor(minikeras.Model):
            def __init__(self):
                super().__init__()
                self.dense = minikeras.layers.Dense(1)

            def call(self, x):
                return self.dense(x)

            def train_step(self, data):
                x, y = data
                with tape_class() as tape:
                    y_pred = self(x, training=True)
                    loss = self.compute_loss(y=y, y_pred=y_pred)
                grads = tape.gradient(loss, self.trainable_variables)
                self.optimizer.apply_gradients(zip(grads, self.trainable_variables))
                return {"loss": loss}

        minikeras.utils.set_random_seed(0)
        model = Regressor()
        model.compile(optimizer="sgd", loss="mse")
        rng = np.random.default_rng(0)
        x = rng.normal(size=(32, 3)).astype("float32")
        model.fit(x, x.sum(axis=1, keepdims=True), epochs=3, shuffle=False, verbose=0)
        return model.get_weights()

    for got, expected in zip(run(tf.GradientTape), run(minikeras.ops.GradientTape)):
        np.testing.assert_array_equal(got, expected)
