"""Benchmark: minikeras alone on the two-circles fit (1000 samples, batch 32, 50 epochs), and
where one training step spends its time.

    python benchmarks/bench_train_step.py [--repeats 5] [--epochs 50]

Prints the median fit time and a per-step breakdown (forward, loss, backward, optimizer,
metrics, and the rest of fit: its loop, batch slicing and callbacks), measured on batches of
32 in sequence. Keras is not imported (see bench_fit.py for the race).
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


def step_breakdown(model, x, y, steps=3000):
    """Microseconds per step spent in each phase of train_step, timed in sequence over the
    batches in turn (so each phase sees the caches as a real step leaves them)."""
    phases = ["forward", "loss", "backward", "optimizer", "metrics"]
    totals = dict.fromkeys(phases, 0.0)
    model._fixed_step_weights = model._step_weights()     # as fit() does
    weights = model._fixed_step_weights[0]
    batches = [(x[i:i + 32], y[i:i + 32]) for i in range(0, len(x) - 31, 32)]
    clock = time.perf_counter
    for step in range(steps):
        xb, yb = batches[step % len(batches)]
        t0 = clock()
        y_pred, tape = model._forward(xb, training=True)
        t1 = clock()
        loss, dy, from_logits = model._loss_and_output_gradients(yb, y_pred, tape)
        t2 = clock()
        grads = model._gradients(dy, tape, from_logits)
        t3 = clock()
        model.optimizer.apply(grads, weights)
        t4 = clock()
        model._update_metrics(loss, xb.shape[0], yb, y_pred, None)
        model._metric_logs()
        t5 = clock()
        for phase, start, stop in zip(phases, (t0, t1, t2, t3, t4), (t1, t2, t3, t4, t5)):
            totals[phase] += stop - start
    model._fixed_step_weights = None
    return {phase: total / steps * 1e6 for phase, total in totals.items()}


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
    step_us = fit_s / steps * 1e6
    print(f"two-circles fit, {args.epochs} epochs, {len(x)} samples, batch 32 "
          f"(median of {args.repeats}): {fit_s:.3f} s, {step_us:.0f} us/step")

    parts = step_breakdown(model, x, y)
    parts["rest of fit"] = step_us - sum(parts.values())   # loop, slicing, callbacks
    for name, micros in parts.items():
        print(f"  {name:<11s} {micros:7.1f} us")


if __name__ == "__main__":
    main()
