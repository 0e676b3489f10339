"""Benchmark: lookup and text layers, minikeras against Keras (TensorFlow) in the same run.

    python benchmarks/bench_lookup.py [--rounds 3]

Each case is timed on both engines on the same data (best of --rounds), called directly on
NumPy arrays as most Keras scripts use these layers (outside the model):

    StringLookup  adapt on 200,000 tokens from a 5,000-word Zipf vocabulary, then a call
                  on (2,000, 100) tokens, int and multi_hot
    IntegerLookup the same with integer ids
    Hashing       (20,000, 10) strings into 1,000 bins (FarmHash64, once per distinct value)
    TextVectorization adapt on 20,000 ten-word texts, then a call on them (int, length 12)

Timings on a shared machine are noisy; the load average is printed with the results.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402

import minikeras  # noqa: E402


def best_time(fn, rounds):
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def cases():
    rng = np.random.default_rng(0)
    words = np.array([f"word{i}" for i in range(5000)])
    ranks = np.minimum(rng.zipf(1.3, size=200_000), 5000) - 1
    tokens = words[ranks].reshape(2000, 100)
    ids = (ranks * 7 + 3).reshape(2000, 100)
    texts = np.array([" ".join(row) for row in words[ranks[:200_000]].reshape(20_000, 10)])

    def lookup(layers, cls, data, mode):
        def run():
            layer = getattr(layers, cls)(output_mode=mode)
            layer.adapt(data)
            np.asarray(layer(data))
        return run

    def hashing(layers):
        return lambda: np.asarray(layers.Hashing(num_bins=1000)(tokens[:, :10].repeat(10, 0)))

    def text(layers):
        def run():
            layer = layers.TextVectorization(max_tokens=3000, output_sequence_length=12)
            layer.adapt(texts)
            np.asarray(layer(texts))
        return run

    return [
        ("StringLookup int", lambda L: lookup(L, "StringLookup", tokens, "int")),
        ("StringLookup multi_hot", lambda L: lookup(L, "StringLookup", tokens, "multi_hot")),
        ("IntegerLookup int", lambda L: lookup(L, "IntegerLookup", ids, "int")),
        ("Hashing", hashing),
        ("TextVectorization", text),
    ]


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(f"{'case':26s} {'keras s':>9s} {'minikeras s':>12s} {'ratio':>7s}")
    for name, make in cases():
        theirs = best_time(make(keras.layers), args.rounds)
        ours = best_time(make(minikeras.layers), args.rounds)
        print(f"{name:26s} {theirs:9.3f} {ours:12.3f} {ours / theirs:7.2f}")
    print("load average:", os.getloadavg())


if __name__ == "__main__":
    main()
