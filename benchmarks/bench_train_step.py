"""Benchmark: minikeras alone on the two-circles fit (1000 samples, batch 32, 50 epochs), and
where one training step spends its time.

    python benchmarks/bench_train_step.py [--repeats 5] [--epochs 50]

Prints the median fit time and a per-step breakdown (forward, loss, backward, optimizer,
metrics) measured on one batch of 32. Keras is not imported (see bench_fit.py for the race).
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

import minikeras  # noqa: E402


def make_circles(n=1000, noise=0.1, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x += rng.normal(0, noise, x.shape)
    return x.astype("float32"), y.astype("float32")


def build():
    k = minikeras
    model = k.Sequential([k.Input((2,))]
                         + [k.layers.Dense(units, activation="relu") for units in (4, 6, 6, 4)]
                         + [k.layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def time_per_call(fn, calls=2000):
    start = time.perf_counter()
    for _ in range(calls):
        result = fn()
    return (time.perf_counter() - start) / calls * 1e6, result


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()

    x, y = make_circles()
    times = []
    for _ in range(args.repeats):
        minikeras.utils.set_random_seed(0)
        model = build()
        start = time.perf_counter()
        model.fit(x, y, batch_size=32, epochs=args.epochs, verbose=0)
        times.append(time.perf_counter() - start)
    steps = args.epochs * -(-len(x) // 32)
    fit_s = statistics.median(times)
    print(f"two-circles fit, {args.epochs} epochs, {len(x)} samples, batch 32 "
          f"(median of {args.repeats}): {fit_s:.3f} s, {fit_s / steps * 1e6:.0f} us/step")

    xb, yb = x[:32], y[:32]
    parts = {}
    parts["forward"], (y_pred, tape) = time_per_call(lambda: model._forward(xb, True))
    parts["loss"], (loss, dy, from_logits) = time_per_call(
        lambda: model.compute_loss(yb, y_pred, tape))
    parts["backward"], grads = time_per_call(lambda: model._gradients(dy, tape, from_logits))
    weights = model.trainable_weights
    parts["optimizer"], _ = time_per_call(lambda: model.optimizer.apply(grads, weights))
    parts["metrics"], _ = time_per_call(
        lambda: (model._update_metrics(loss, 32, yb, y_pred, None), model._metric_logs()))
    parts["train_step"], _ = time_per_call(lambda: model.train_step(xb, yb))
    for name, micros in parts.items():
        print(f"  {name:<11s} {micros:7.1f} us")


if __name__ == "__main__":
    main()
