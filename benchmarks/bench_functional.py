"""Benchmark: functional models on Keras and on minikeras, in the same run.

    python benchmarks/bench_functional.py [--repeats 3] [--epochs 20] [--inception-epochs 1]
                                          [--models residual inception]

Two models, each trained by both engines from the same initial weights (Keras's, copied) on
the same data with shuffle=False; only fit() is timed (median of the repeats):

- residual MLP: Dense 32 -> two residual blocks (Dense, Dense, Add with the block's input,
  relu) -> sigmoid, on 900 two-circles points (16 noisy features), batch 32;
- Inception: the model of examples/inception_mnist.py (parallel 1x1/3x3/5x5/pooling branches
  joined by Concatenate) on 2,000 MNIST-sized random images, batch 64.

Prints both times, the ratio Keras / minikeras and the load average (timings on a shared
machine are noisy: compare the ratio, and read it with the load).
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


def circles(n=1000, seed=0):
    """Two noisy circles, embedded in 16 features (the 2 coordinates and 14 of noise)."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x = np.hstack([x + rng.normal(0, 0.1, x.shape), rng.normal(0, 0.1, (n, 14))])
    return x[:900].astype("float32"), y[:900].astype("float32")


def residual_mlp(k):
    inputs = k.Input((16,))
    x = k.layers.Dense(32, activation="relu")(inputs)
    for _ in range(2):
        h = k.layers.Dense(32, activation="relu")(x)
        h = k.layers.Dense(32)(h)
        x = k.layers.Activation("relu")(k.layers.Add()([x, h]))
    outputs = k.layers.Dense(1, activation="sigmoid")(x)
    model = k.Model(inputs, outputs)
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def inception(k):
    """The network of examples/inception_mnist.py."""
    layers = k.layers
    inputs = k.Input((28, 28, 1))
    x = layers.Conv2D(16, 3, activation="relu")(inputs)
    x = layers.MaxPooling2D(2)(x)
    b1 = layers.Conv2D(8, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(8, 1, padding="same", activation="relu")(x)
    b3 = layers.Conv2D(12, 3, padding="same", activation="relu")(b3)
    b5 = layers.Conv2D(4, 1, padding="same", activation="relu")(x)
    b5 = layers.Conv2D(4, 5, padding="same", activation="relu")(b5)
    bp = layers.MaxPooling2D(3, strides=1, padding="same")(x)
    bp = layers.Conv2D(4, 1, padding="same", activation="relu")(bp)
    x = layers.Concatenate()([b1, b3, b5, bp])
    x = layers.MaxPooling2D(2)(x)
    x = layers.Flatten()(x)
    x = layers.Dropout(0.3)(x)
    outputs = layers.Dense(10, activation="softmax")(x)
    model = k.Model(inputs, outputs)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def images(n=2000, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.uniform(0, 1, (n, 28, 28, 1)).astype("float32")
    y = np.eye(10, dtype="float32")[rng.integers(0, 10, n)]
    return x, y


def time_fit(k, build, weights, x, y, epochs, batch_size):
    model = build(k)
    model.set_weights(weights)
    start = time.perf_counter()
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, shuffle=False)
    return time.perf_counter() - start, history.history["loss"][-1]


def compare(label, build, data, epochs, batch_size, repeats):
    x, y = data
    keras.utils.set_random_seed(0)
    weights = build(keras).get_weights()
    keras_times, mini_times = [], []
    for _ in range(repeats):
        seconds, keras_loss = time_fit(keras, build, weights, x, y, epochs, batch_size)
        keras_times.append(seconds)
        seconds, mini_loss = time_fit(minikeras, build, weights, x, y, epochs, batch_size)
        mini_times.append(seconds)
    keras_s, mini_s = statistics.median(keras_times), statistics.median(mini_times)
    print(f"{label}, {epochs} epochs, {len(x)} samples, batch {batch_size} "
          f"(median of {repeats})")
    print(f"  keras {keras.__version__} ({keras.backend.backend()}): {keras_s:8.3f} s   "
          f"final loss {keras_loss:.6f}")
    print(f"  minikeras {minikeras.__version__}:            {mini_s:8.3f} s   "
          f"final loss {mini_loss:.6f}")
    print(f"  speed-up: {keras_s / mini_s:.2f}x   load average: "
          f"{' '.join(f'{v:.2f}' for v in os.getloadavg())}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--inception-epochs", type=int, default=1)
    parser.add_argument("--models", nargs="+", choices=["residual", "inception"],
                        default=["residual", "inception"])
    args = parser.parse_args()
    if "residual" in args.models:
        compare("residual MLP (2 Add blocks)", residual_mlp, circles(), args.epochs, 32,
                args.repeats)
    if "inception" in args.models:
        compare("Inception block (Concatenate of 4 branches)", inception, images(),
                args.inception_epochs, 64, args.repeats)


if __name__ == "__main__":
    main()
