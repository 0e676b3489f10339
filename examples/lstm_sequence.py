"""An LSTM learns the adding problem (Hochreiter and Schmidhuber, 1997).

A plain Keras script. Run it on Keras with `python examples/lstm_sequence.py`, or on minikeras
with `minikeras run examples/lstm_sequence.py`.

Each sequence has 30 steps of two numbers: a random value in [0, 1), and a marker that is 1 at
exactly two steps and 0 elsewhere. The target is the sum of the two marked values. A model that
ignores the order can only guess the mean (1.0, squared error about 1/6); to do better the
LSTM must remember the marked values across the sequence. The data are made in code.
"""

import argparse

import numpy as np
from keras import layers
from keras.models import Sequential
from keras.utils import set_random_seed

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--epochs", type=int, default=25)
args = parser.parse_args()

STEPS = 30


def adding_problem(n, rng):
    """x: (n, STEPS, 2) values and markers; y: (n, 1) the sum of the two marked values."""
    values = rng.random((n, STEPS))
    markers = np.zeros((n, STEPS))
    first = rng.integers(0, STEPS // 2, n)            # one mark in each half
    second = rng.integers(STEPS // 2, STEPS, n)
    markers[np.arange(n), first] = 1.0
    markers[np.arange(n), second] = 1.0
    x = np.stack([values, markers], axis=-1).astype("float32")
    y = (values * markers).sum(axis=1, keepdims=True).astype("float32")
    return x, y


set_random_seed(1)
rng = np.random.default_rng(0)
x_train, y_train = adding_problem(4000, rng)
x_test, y_test = adding_problem(500, rng)
baseline = float(np.mean((y_test - y_train.mean()) ** 2))
print("x_train shape:", x_train.shape, f"guessing the mean: test mse {baseline:.4f}")

model = Sequential([
    layers.Input(shape=(STEPS, 2)),
    layers.LSTM(32),
    layers.Dense(1),
])
model.summary()
model.compile(loss="mse", optimizer="adam")
model.fit(x_train, y_train, batch_size=64, epochs=args.epochs, validation_split=0.1,
          shuffle=False)

test_mse = model.evaluate(x_test, y_test, verbose=0)
print(f"test mse: {test_mse:.4f} (guessing the mean: {baseline:.4f})")
for values, target, guess in zip(x_test[:3], y_test[:3], model.predict(x_test[:3], verbose=0)):
    marked = values[values[:, 1] == 1, 0]
    print(f"  {marked[0]:.2f} + {marked[1]:.2f} = {target[0]:.2f}, the LSTM says {guess[0]:.2f}")
