"""Benchmark: an IMDB-shaped LSTM (Embedding 128 + LSTM 64 + Dense(1, sigmoid), vocabulary
20,000, sequences of 200, batch 32) trained on Keras and on minikeras in the same run.

    python benchmarks/bench_rnn.py [--batches 20] [--repeats 3] [--optimizer adam]

Random ids made in code (no download). Both engines start from Keras's initial weights; each
repeat times one fit() epoch over `batches` batches (shuffle=False) after a one-batch warm-up
fit, and reports milliseconds per batch (best and median of the repeats), the ratios, and
the load.
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

VOCABULARY, LENGTH, BATCH = 20_000, 200, 32


def build(k, optimizer):
    model = k.Sequential([
        k.Input((LENGTH,)),
        k.layers.Embedding(VOCABULARY, 128),
        k.layers.LSTM(64),
        k.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer=optimizer, metrics=["accuracy"])
    return model


def time_epoch(k, weights, x, y, optimizer):
    """Seconds for one fit() epoch over x (after a warm-up fit that builds everything)."""
    model = build(k, optimizer)
    model.set_weights(weights)
    model.fit(x[:BATCH], y[:BATCH], epochs=1, batch_size=BATCH, verbose=0, shuffle=False)
    start = time.perf_counter()
    history = model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, shuffle=False)
    return time.perf_counter() - start, history.history["loss"][-1]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=20)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--optimizer", default="adam")
    args = parser.parse_args()

    rng = np.random.default_rng(0)
    n = args.batches * BATCH
    x = rng.integers(1, VOCABULARY, size=(n, LENGTH))
    y = rng.integers(0, 2, size=(n, 1)).astype("float32")
    keras.utils.set_random_seed(0)
    weights = build(keras, args.optimizer).get_weights()

    keras_times, mini_times = [], []
    for _ in range(args.repeats):
        seconds, keras_loss = time_epoch(keras, weights, x, y, args.optimizer)
        keras_times.append(seconds)
        seconds, mini_loss = time_epoch(minikeras, weights, x, y, args.optimizer)
        mini_times.append(seconds)
    def per_batch(seconds):
        return 1000 * seconds / args.batches

    keras_best, keras_ms = per_batch(min(keras_times)), per_batch(statistics.median(keras_times))
    mini_best, mini_ms = per_batch(min(mini_times)), per_batch(statistics.median(mini_times))
    print(f"IMDB-shaped LSTM: Embedding({VOCABULARY}, 128) + LSTM(64) + Dense(1), sequences "
          f"of {LENGTH}, batch {BATCH}, {args.optimizer}; {args.batches} batches per epoch, "
          f"{args.repeats} repeats (best / median ms per batch)")
    print(f"  keras {keras.__version__} ({keras.backend.backend()}): {keras_best:8.1f} / "
          f"{keras_ms:8.1f}   loss {keras_loss:.6f}")
    print(f"  minikeras {minikeras.__version__}:            {mini_best:8.1f} / {mini_ms:8.1f}"
          f"   loss {mini_loss:.6f}")
    print(f"  minikeras time / keras time: best {mini_best / keras_best:.2f}, median "
          f"{mini_ms / keras_ms:.2f}  (below 1: minikeras faster)")
    print(f"  load average (1, 5, 15 min): {os.getloadavg()}")


if __name__ == "__main__":
    main()
