"""The learning rate: too small, well chosen, too large, on the two-circles problem.

The same network (examples/two_circles.py) is trained three times with plain SGD, from the same
initial weights, changing only the learning rate:

- 0.001: every step is tiny; after many epochs the loss has barely moved.
- 0.1:   the loss falls quickly and the two circles are separated.
- 2.0:   the steps overshoot; the loss jumps about and stalls near log(2) = 0.693, the loss of
         a coin toss (large steps also push ReLU units into their flat region, where they stop
         learning).

A plain Keras script: `python examples/learning_rates.py` runs it on Keras,
`minikeras run examples/learning_rates.py` on minikeras. Needs matplotlib for its figure
(`pip install "minikeras[examples]"`), which it writes to the folder --out.
"""

import argparse
import importlib.util
import sys
from pathlib import Path

import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.optimizers import SGD
from keras.utils import set_random_seed

from minikeras.utils.plotting import plot_history

LEARNING_RATES = {"too small (0.001)": 0.001, "well chosen (0.1)": 0.1, "too large (2.0)": 2.0}


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


def build_model():
    model = Sequential()
    model.add(Dense(4, input_dim=2, activation="relu"))
    model.add(Dense(6, activation="relu"))
    model.add(Dense(6, activation="relu"))
    model.add(Dense(4, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    return model


parser = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--out", default="example-output",
                    help="folder for the figure (created if needed; default: %(default)s)")
args = parser.parse_args()

# The figure at the end needs matplotlib: say so now, before any training, not afterwards.
if importlib.util.find_spec("matplotlib") is None:
    sys.exit("learning_rates.py draws its figure with matplotlib, which is not installed. "
             "Install the examples' extra: pip install \"minikeras[examples]\" "
             "(or pip install matplotlib)")
figure = Path(args.out) / "learning_rates.png"
figure.parent.mkdir(parents=True, exist_ok=True)

X, y = make_circles()
histories = {}
for label, learning_rate in LEARNING_RATES.items():
    set_random_seed(1)                  # the same initial weights for every learning rate
    model = build_model()
    model.compile(loss="binary_crossentropy", optimizer=SGD(learning_rate=learning_rate),
                  metrics=["accuracy"])
    histories[label] = model.fit(X, y, epochs=args.epochs, validation_split=0.2, verbose=0)
    final = histories[label].history
    print(f"{label:<20} loss {final['loss'][-1]:.4f}  "
          f"validation accuracy {final['val_accuracy'][-1]:.3f}")

plot_history(histories, title="Two circles, SGD: the effect of the learning rate",
             filename=figure)
print(f"figure saved to {figure}")
