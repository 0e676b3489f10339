"""The two-circles classifier's decision boundary as it trains.

The model of examples/two_circles.py is trained in stages; after each stage its decision
boundary (where the predicted probability crosses 0.5) is drawn over the data. At first the
boundary is a straight line or nothing at all (a network of ReLUs starts close to linear); the
hidden layers then bend it into a closed curve between the two circles.

A plain Keras script: `python examples/decision_boundary.py` runs it on Keras,
`minikeras run examples/decision_boundary.py` on minikeras. Needs matplotlib
(`pip install "minikeras[examples]"`); writes its figure to the folder --out.
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from keras.layers import Dense
from keras.models import Sequential
from keras.utils import set_random_seed

from minikeras.utils.plotting import plot_decision_boundary

# Checked before any training: the figure is the point of this script.
try:
    import matplotlib.pyplot as plt
except ModuleNotFoundError:
    sys.exit("decision_boundary.py draws its figure with matplotlib, which is not installed. "
             "Install the examples' extra: pip install \"minikeras[examples]\" (or pip install "
             "matplotlib)")

# Snapshot after these fractions of the training.
FRACTIONS = (0.0, 0.1, 0.25, 0.5, 1.0)


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


parser = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--epochs", type=int, default=100)
parser.add_argument("--out", default="example-output",
                    help="folder for the figure (created if needed; default: %(default)s)")
args = parser.parse_args()
figure = Path(args.out) / "decision_boundary.png"
figure.parent.mkdir(parents=True, exist_ok=True)

set_random_seed(1)
X, y = make_circles()

model = Sequential()
model.add(Dense(4, input_dim=2, activation="relu"))
model.add(Dense(6, activation="relu"))
model.add(Dense(6, activation="relu"))
model.add(Dense(4, activation="relu"))
model.add(Dense(1, activation="sigmoid"))
model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])

snapshots = sorted({round(f * args.epochs) for f in FRACTIONS})
fig, axes = plt.subplots(1, len(snapshots), figsize=(3.2 * len(snapshots), 3.4), squeeze=False)
done = 0
for ax, epoch in zip(axes[0], snapshots):
    if epoch > done:
        # `epochs` is the index to stop at: this continues from epoch `done` to `epoch`.
        model.fit(X, y, initial_epoch=done, epochs=epoch, verbose=0)
        done = epoch
    loss, accuracy = model.evaluate(X, y, verbose=0)
    plot_decision_boundary(model, X, y, ax=ax, resolution=120,
                           title=f"epoch {epoch}: accuracy {accuracy:.2f}")
    print(f"epoch {epoch:>4}: loss {loss:.4f}, accuracy {accuracy:.3f}")
fig.suptitle("Two circles: the decision boundary (probability 0.5) during training")
fig.tight_layout()
fig.savefig(figure, dpi=100)
print(f"figure saved to {figure}")
