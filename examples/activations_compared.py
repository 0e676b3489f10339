"""Activation functions compared: sigmoid, tanh and relu in the hidden layers.

The two-circles network (examples/two_circles.py) is trained with each activation in its four
hidden layers (the output stays a sigmoid), with Adam and the same data. Things to look for:

- sigmoid: its slope is at most 0.25, so the gradient shrinks by that factor or more in each
  of the four hidden layers on its way back (the vanishing gradient); the loss stays flat for
  a long time before it starts to fall.
- tanh: the same S shape, but centred on 0 with slope 1 there; it learns much faster.
- relu: slope 1 wherever the unit is active; fast, but a unit whose input stays negative gets
  no gradient at all (a "dead" unit), which matters in a network this narrow.

A plain Keras script: `python examples/activations_compared.py` runs it on Keras,
`minikeras run examples/activations_compared.py` on minikeras. Needs matplotlib for its figure
(`pip install "minikeras[examples]"`), which it writes to the folder --out.
"""

import argparse
import importlib.util
import sys
import time
from pathlib import Path

import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.utils import set_random_seed

from minikeras.utils.plotting import plot_history

ACTIVATIONS = ["sigmoid", "tanh", "relu"]


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


def build_model(activation):
    model = Sequential()
    model.add(Dense(4, input_dim=2, activation=activation))
    model.add(Dense(6, activation=activation))
    model.add(Dense(6, activation=activation))
    model.add(Dense(4, activation=activation))
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
    sys.exit("activations_compared.py draws its figure with matplotlib, which is not installed. "
             "Install the examples' extra: pip install \"minikeras[examples]\" "
             "(or pip install matplotlib)")
figure = Path(args.out) / "activations_compared.png"
figure.parent.mkdir(parents=True, exist_ok=True)

X, y = make_circles()
histories = {}
for activation in ACTIVATIONS:
    set_random_seed(1)
    model = build_model(activation)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    start = time.perf_counter()
    histories[activation] = model.fit(X, y, epochs=args.epochs, validation_split=0.2, verbose=0)
    seconds = time.perf_counter() - start
    final = histories[activation].history
    print(f"{activation:<8} loss {final['loss'][-1]:.4f}  "
          f"validation accuracy {final['val_accuracy'][-1]:.3f}  ({seconds:.1f} s)")

plot_history(histories, title="Two circles, Adam: hidden-layer activations compared",
             filename=figure)
print(f"figure saved to {figure}")
