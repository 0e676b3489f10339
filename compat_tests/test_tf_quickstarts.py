"""TensorFlow's two quick-start programs, in our own words with the same calls, on small
generated images: each runs unchanged with real TensorFlow (`python script.py`) and with
minikeras (`minikeras run script.py`), and both reach a similar accuracy. Also: a
GradientTape training loop gives fit's History from the same weights."""

import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import minikeras
import minikeras.tf_standin as mtf

# Ten classes of 12x12 images: class k lights up a different bar, under noise.
DATA = """
import numpy as np

def make_images(n, seed):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, 10, n).astype("uint8")
    images = rng.integers(0, 90, (n, 12, 12)).astype("uint8")
    for k in range(10):
        rows = labels == k
        if k < 6:
            images[rows, 2 * k:2 * k + 2, :] = 255
        else:
            images[rows, :, 3 * (k - 6):3 * (k - 6) + 2] = 255
    return images, labels

(x_train, y_train), (x_test, y_test) = make_images(600, 0), make_images(200, 1)
"""

BEGINNER = DATA + """
import json
import tensorflow as tf
print("TensorFlow version:", tf.__version__)
tf.random.set_seed(0)

x_train, x_test = x_train / 255.0, x_test / 255.0

model = tf.keras.models.Sequential([
    tf.keras.layers.Input((12, 12)),
    tf.keras.layers.Flatten(),
    tf.keras.layers.Dense(128, activation="relu"),
    tf.keras.layers.Dropout(0.2),
    tf.keras.layers.Dense(10),
])
predictions = model(x_train[:1]).numpy()
probabilities = tf.nn.softmax(predictions).numpy()
loss_fn = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
first_loss = loss_fn(y_train[:1], predictions).numpy()

model.compile(optimizer="adam", loss=loss_fn, metrics=["accuracy"])
model.fit(x_train, y_train, epochs=5, verbose=0)
test_loss, test_accuracy = model.evaluate(x_test, y_test, verbose=2)

probability_model = tf.keras.Sequential([model, tf.keras.layers.Softmax()])
first_five = probability_model(x_test[:5])
print(json.dumps({
    "version": tf.__version__,
    "probabilities_sum": float(probabilities.sum()),
    "first_loss": float(first_loss),
    "accuracy": float(test_accuracy),
    "first_five_shape": list(first_five.numpy().shape),
    "first_five_sums": np.sum(first_five.numpy(), axis=1).round(5).tolist(),
}))
"""

EXPERT = DATA + """
import json
import tensorflow as tf
from tensorflow.keras import Model
from tensorflow.keras.layers import Conv2D, Dense, Flatten
tf.random.set_seed(0)

x_train, x_test = x_train / 255.0, x_test / 255.0
x_train = x_train[..., tf.newaxis].astype("float32")
x_test = x_test[..., tf.newaxis].astype("float32")

train_ds = tf.data.Dataset.from_tensor_slices((x_train, y_train)).shuffle(10000).batch(32)
test_ds = tf.data.Dataset.from_tensor_slices((x_test, y_test)).batch(32)


class MyModel(Model):
    def __init__(self):
        super().__init__()
        self.conv1 = Conv2D(8, 3, activation="relu")
        self.flatten = Flatten()
        self.d1 = Dense(32, activation="relu")
        self.d2 = Dense(10)

    def call(self, x):
        x = self.conv1(x)
        x = self.flatten(x)
        x = self.d1(x)
        return self.d2(x)


model = MyModel()
loss_object = tf.keras.losses.SparseCategoricalCrossentropy(from_logits=True)
optimizer = tf.keras.optimizers.Adam()

train_loss = tf.keras.metrics.Mean(name="train_loss")
train_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="train_accuracy")
test_loss = tf.keras.metrics.Mean(name="test_loss")
test_accuracy = tf.keras.metrics.SparseCategoricalAccuracy(name="test_accuracy")


@tf.function
def train_step(images, labels):
    with tf.GradientTape() as tape:
        predictions = model(images, training=True)
        loss = loss_object(labels, predictions)
    gradients = tape.gradient(loss, model.trainable_variables)
    optimizer.apply_gradients(zip(gradients, model.trainable_variables))
    train_loss(loss)
    train_accuracy(labels, predictions)


@tf.function
def test_step(images, labels):
    predictions = model(images, training=False)
    t_loss = loss_object(labels, predictions)
    test_loss(t_loss)
    test_accuracy(labels, predictions)


EPOCHS = 4
for epoch in range(EPOCHS):
    train_loss.reset_state()
    train_accuracy.reset_state()
    test_loss.reset_state()
    test_accuracy.reset_state()
    for images, labels in train_ds:
        train_step(images, labels)
    for test_images, test_labels in test_ds:
        test_step(test_images, test_labels)
    print(
        f"Epoch {epoch + 1}, "
        f"Loss: {train_loss.result():0.2f}, "
        f"Accuracy: {train_accuracy.result() * 100:0.2f}, "
        f"Test Loss: {test_loss.result():0.2f}, "
        f"Test Accuracy: {test_accuracy.result() * 100:0.2f}"
    )
print(json.dumps({"accuracy": float(test_accuracy.result()),
                  "train_loss": float(train_loss.result())}))
"""


def _run(script, tmp_path, engine):
    path = tmp_path / f"quickstart_on_{engine}.py"     # not tensorflow.py: it would shadow it
    path.write_text(textwrap.dedent(script))
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3", KERAS_BACKEND="tensorflow")
    command = [sys.executable, str(path)]
    if engine == "minikeras":
        command = [sys.executable, "-m", "minikeras", "run", str(path)]
    proc = subprocess.run(command, cwd=tmp_path, env=env, capture_output=True, text=True,
                          timeout=600)
    assert proc.returncode == 0, f"{engine}: exit {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1]), proc.stdout


@pytest.mark.slow
def test_beginner_quickstart_runs_on_both_engines(tmp_path):
    tensorflow, _ = _run(BEGINNER, tmp_path, "tensorflow")
    ours, _ = _run(BEGINNER, tmp_path, "minikeras")
    assert "minikeras" in ours["version"] and "minikeras" not in tensorflow["version"]
    for report in (tensorflow, ours):
        assert report["probabilities_sum"] == pytest.approx(1.0, abs=1e-5)
        assert 1.0 < report["first_loss"] < 4.0        # about log(10) before training
        assert report["first_five_shape"] == [5, 10]
        assert report["first_five_sums"] == [1.0] * 5
        assert report["accuracy"] > 0.9
    assert abs(ours["accuracy"] - tensorflow["accuracy"]) < 0.06


@pytest.mark.slow
def test_expert_quickstart_runs_on_both_engines(tmp_path):
    tensorflow, _ = _run(EXPERT, tmp_path, "tensorflow")
    ours, output = _run(EXPERT, tmp_path, "minikeras")
    assert output.count("Epoch ") == 4 and "Test Accuracy: " in output
    for report in (tensorflow, ours):
        assert report["accuracy"] > 0.9
    assert abs(ours["accuracy"] - tensorflow["accuracy"]) < 0.06


def test_gradient_tape_loop_gives_fits_history():
    """The expert loop (tf.GradientTape, apply_gradients, metrics) on the stand-in, against
    fit on the same batches from the same weights."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(64, 5)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int64") + (x[:, 2] > 1)

    def build():
        minikeras.utils.set_random_seed(7)
        return minikeras.Sequential([minikeras.Input((5,)),
                                     minikeras.layers.Dense(8, activation="tanh"),
                                     minikeras.layers.Dense(3)])

    loss_object = minikeras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model = build()
    model.compile(optimizer=minikeras.optimizers.Adam(0.01), loss=loss_object,
                  metrics=["accuracy"])
    expected = model.fit(x, y, batch_size=16, epochs=3, shuffle=False, verbose=0).history

    model = build()
    optimizer = minikeras.optimizers.Adam(0.01)
    train_loss = minikeras.metrics.Mean()
    train_accuracy = minikeras.metrics.SparseCategoricalAccuracy()
    dataset = mtf.data.Dataset.from_tensor_slices((x, y)).batch(16)
    history = {"accuracy": [], "loss": []}
    for _ in range(3):
        train_loss.reset_state()
        train_accuracy.reset_state()
        for images, labels in dataset:
            with mtf.GradientTape() as tape:
                predictions = model(images, training=True)
                loss = loss_object(labels, predictions)
            gradients = tape.gradient(loss, model.trainable_variables)
            optimizer.apply_gradients(zip(gradients, model.trainable_variables))
            train_loss(loss)
            train_accuracy(labels, predictions)
        history["loss"].append(float(train_loss.result()))
        history["accuracy"].append(float(train_accuracy.result()))
    for key in expected:
        np.testing.assert_allclose(history[key], expected[key], rtol=1e-5)
