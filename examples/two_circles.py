"""Two-circles binary classifier: the reference example.

A plain Keras script. Run it on Keras with `python examples/two_circles.py`, or on minikeras
with `minikeras run examples/two_circles.py` (or `KERAS_BACKEND=minikeras python ...`).
"""

import argparse

import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.utils import set_random_seed


def make_circles(n_samples=1000, noise=0.1, factor=0.5, seed=0):
    """Points on two concentric circles (radius 1 and `factor`) with Gaussian noise.
    Label 1 is the inner circle."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n_samples)
    angle = rng.uniform(0.0, 2.0 * np.pi, n_samples)
    radius = np.where(y == 1, factor, 1.0)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X += rng.normal(0.0, noise, X.shape)
    return X.astype("float32"), y.astype("float32")


parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=50)
args = parser.parse_args()

set_random_seed(1)
X, y = make_circles()
split = int(0.9 * len(X))                    # hold out 10% for testing
X_train, y_train, X_test, y_test = X[:split], y[:split], X[split:], y[split:]

model = Sequential()
model.add(Dense(4, input_dim=2, activation='relu'))
model.add(Dense(6, activation='relu'))
model.add(Dense(6, activation='relu'))
model.add(Dense(4, activation='relu'))
model.add(Dense(1, activation='sigmoid'))
model.compile(loss='binary_crossentropy', optimizer='adam', metrics=['accuracy'])
model.fit(X_train, y_train, epochs=args.epochs, verbose=0)

loss, accuracy = model.evaluate(X_test, y_test, verbose=0)
print(f"test loss: {loss:.4f}")
print(f"test accuracy: {accuracy:.4f}")
