"""Benchmark: a 1-D convnet on text-shaped data, minikeras against Keras (TensorFlow).

    python benchmarks/bench_conv1d.py [--epochs 3] [--samples 2048] [--batch 32]

The model is the classic Keras text convnet's core on embedded sequences:
random (batch, 200, 64) float32 inputs (200 steps of 64-dimensional word vectors),
Conv1D(128, 5, relu) + GlobalMaxPooling1D + Dense(1, sigmoid), binary cross-entropy, Adam.
Both engines start from the same initial weights (Keras's, saved by the first run) and train
with shuffle=False, each in its own subprocess (TensorFlow's spinning thread pool would
otherwise slow whatever runs next to it), one after the other in the same run: time per
epoch after one warm-up epoch, best and median of --epochs, and the ratio minikeras / Keras
(below 1: minikeras is faster). The last losses are printed too (they agree closely).

Timings on a shared machine are noisy; the load average is printed with the results.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402

STEPS, FEATURES, FILTERS, KERNEL = 200, 64, 128, 5


def build(k):
    return k.Sequential([
        k.Input((STEPS, FEATURES)),
        k.layers.Conv1D(FILTERS, KERNEL, activation="relu"),
        k.layers.GlobalMaxPooling1D(),
        k.layers.Dense(1, activation="sigmoid"),
    ])


def data(samples, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((samples, STEPS, FEATURES)).astype("float32")
    # a label the convnet can learn: does a fixed 5-step pattern show up strongly somewhere
    pattern = rng.standard_normal((KERNEL, FEATURES)).astype("float32")
    windows = np.lib.stride_tricks.sliding_window_view(x, KERNEL, axis=1)  # (n, 196, 64, 5)
    score = np.einsum("ntfk,kf->nt", windows, pattern).max(axis=1)
    y = (score > np.median(score)).astype("float32")
    return x, y


def train(engine, args, weights_file):
    """Runs in a subprocess: trains `engine`'s model, prints one line of JSON results."""
    if engine == "keras":
        import keras as k

        k.utils.set_random_seed(0)
    else:
        import minikeras as k
    x, y = data(args.samples)
    model = build(k)
    if engine == "keras":
        np.savez(weights_file, *model.get_weights())
    else:
        with np.load(weights_file) as f:
            model.set_weights([f[f"arr_{i}"] for i in range(len(f.files))])
    model.compile(optimizer=k.optimizers.Adam(1e-3), loss="binary_crossentropy")
    model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)  # warm-up
    times, loss = [], None
    for _ in range(args.epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=args.batch, epochs=1, shuffle=False, verbose=0)
        times.append(time.perf_counter() - start)
        loss = history.history["loss"][-1]
    print(json.dumps({"times": times, "loss": loss}))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs (after a warm-up)")
    parser.add_argument("--samples", type=int, default=2048)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--engine", choices=("keras", "minikeras"), help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.engine:
        train(args.engine, args, args.weights)
        return

    results = {}
    with tempfile.TemporaryDirectory() as folder:
        weights = os.path.join(folder, "initial_weights.npz")
        for engine in ("keras", "minikeras"):   # Keras first: it writes the initial weights
            proc = subprocess.run(
                [sys.executable, __file__, "--engine", engine, "--weights", weights,
                 "--epochs", str(args.epochs), "--samples", str(args.samples),
                 "--batch", str(args.batch)],
                capture_output=True, text=True, check=True)
            results[engine] = json.loads(proc.stdout.strip().splitlines()[-1])

    times = {name: result["times"] for name, result in results.items()}
    print(f"Conv1D({FILTERS}, {KERNEL}) + GlobalMaxPooling1D + Dense(1) on ({args.samples}, "
          f"{STEPS}, {FEATURES}) float32, batch {args.batch}, {args.epochs} timed epochs")
    for name in times:
        print(f"  {name:10s} best {min(times[name]):.3f} s/epoch, median "
              f"{statistics.median(times[name]):.3f} s, last loss {results[name]['loss']:.6f}")
    best = min(times["minikeras"]) / min(times["keras"])
    median = statistics.median(times["minikeras"]) / statistics.median(times["keras"])
    print(f"  ratio minikeras / keras: best {best:.2f}x, median {median:.2f}x "
          f"(below 1: minikeras faster)")
    print(f"  load average {tuple(round(v, 2) for v in os.getloadavg())} on {os.cpu_count()} "
          "cores")


if __name__ == "__main__":
    main()
