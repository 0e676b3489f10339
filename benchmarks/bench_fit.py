"""Benchmark: the two-circles fit (50 epochs, batch 32) on Keras and on minikeras, same run.

    python benchmarks/bench_fit.py [--repeats 3] [--epochs 50]

Both engines train the same model from the same initial weights (Keras's, copied) on the same
900 samples with shuffle=False; only the fit() call is timed. Prints both times and the ratio.
"""

import argparse
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import minikeras  # noqa: E402


def make_circles(n=1000, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x += rng.normal(0, noise, x.shape)
    return x[:900].astype("float32"), y[:900].astype("float32")


def build(k):
    model = k.Sequential([
        k.Input((2,)),
        k.layers.Dense(4, activation="relu"),
        k.layers.Dense(6, activation="relu"),
        k.layers.Dense(6, activation="relu"),
        k.layers.Dense(4, activation="relu"),
        k.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def time_fit(k, weights, x, y, epochs):
    model = build(k)
    model.set_weights(weights)
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=32, verbose=0, shuffle=False)
    return time.perf_counter() - start, history.history["loss"][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()

    x, y = make_circles()
    keras.utils.set_random_seed(0)
    weights = build(keras).get_weights()

    keras_times, mini_times = [], []
    for _ in range(args.repeats):
        seconds, keras_loss = time_fit(keras, weights, x, y, args.epochs)
        keras_times.append(seconds)
        seconds, mini_loss = time_fit(minikeras, weights, x, y, args.epochs)
        mini_times.append(seconds)
    keras_s = statistics.median(keras_times)
    mini_s = statistics.median(mini_times)
    print(f"two-circles fit, {args.epochs} epochs, 900 samples, batch 32 "
          f"(median of {args.repeats})")
    print(f"  keras {keras.__version__} ({keras.backend.backend()}): {keras_s:8.3f} s   "
          f"final loss {keras_loss:.6f}")
    print(f"  minikeras {minikeras.__version__}:            {mini_s:8.3f} s   "
          f"final loss {mini_loss:.6f}")
    print(f"  speed-up: {keras_s / mini_s:.1f}x")


if __name__ == "__main__":
    main()
