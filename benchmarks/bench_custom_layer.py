"""Benchmark: a dense layer written by hand with keras.ops (its gradient from the tape) against
the built-in Dense (hand-written backward), same model otherwise, same run.

    python benchmarks/bench_custom_layer.py [--repeats 5] [--epochs 3] [--batch-size 32]
    python benchmarks/bench_custom_layer.py --bytecodes

Two sizes, both Input(features) -> dense(units, relu) x 2 -> Dense(10, softmax), trained with
Adam on 4096 random samples; only the two hidden layers differ:
    wide:  64 features, 128 units (BLAS does most of the work)
    small:  8 features,  16 units (the per-step bookkeeping dominates: the tape's cost shows)
Prints each one's median fit time, the ratio custom / built-in (target: within 1.5x) and
os.getloadavg(). The fits alternate, built-in then custom, so each pair sees about the same
machine load: the median of the pairs' ratios is the wall-clock figure least moved by other
work on a shared machine. The main thread's CPU time (time.thread_time) leaves out the time
spent waiting for a core, but also the work of BLAS's own threads (the wide case's products).
The tape's cost per op is the custom fit's extra time per training step divided by the ops
it records per step (3 per hand-written layer: matmul, add, relu), forward and backward
together, each layer call's own bookkeeping included.

--bytecodes prints a figure that load does not move: the Python bytecodes (and Python calls)
one forward+backward of each 8-16 layer runs, counted with sys.settrace. The tape's Python
work is the difference; use it to compare two versions of the tape on a busy machine.
"""

import argparse
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import numpy as np  # noqa: E402

import minikeras  # noqa: E402
from minikeras import ops  # noqa: E402


class OpsDense(minikeras.layers.Layer):
    """relu(x @ w + b) written with keras.ops: the layer a user writes."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), name="w")
        self.b = self.add_weight(shape=(self.units,), initializer="zeros", name="b")

    def call(self, inputs):
        return ops.relu(ops.matmul(inputs, self.w) + self.b)


OPS_PER_STEP = 2 * 3     # two OpsDense layers, each recording matmul, add and relu


def build(custom, features, units):
    k = minikeras
    hidden = [OpsDense(units) if custom else k.layers.Dense(units, activation="relu")
              for _ in range(2)]
    model = k.Sequential([k.Input((features,)), *hidden,
                          k.layers.Dense(10, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


def time_fit(custom, x, y, units, epochs, batch_size):
    """(wall time, this thread's CPU time) of one fit, in seconds."""
    minikeras.utils.set_random_seed(0)
    model = build(custom, x.shape[1], units)
    start, start_cpu = time.perf_counter(), time.thread_time()
    model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=False, verbose=0)
    return time.perf_counter() - start, time.thread_time() - start_cpu


def count_bytecodes(layer, x, dout):
    """(bytecodes, Python calls) run by one forward+backward of `layer` on x, after a warm-up."""
    counts = {"opcode": 0, "call": 0}

    def tracer(frame, event, arg):
        frame.f_trace_opcodes = True
        if event in counts:
            counts[event] += 1
        return tracer

    def step():
        out, cache = layer.forward(x, training=True)
        layer.backward(dout, cache)

    step()
    sys.settrace(tracer)
    try:
        step()
    finally:
        sys.settrace(None)
    return counts["opcode"], counts["call"]


def print_bytecodes(batch_size):
    x = np.random.default_rng(0).normal(size=(batch_size, 8)).astype("float32")
    dout = np.ones((batch_size, 16), dtype="float32")
    for name, layer in (("built-in Dense", minikeras.layers.Dense(16, activation="relu")),
                        ("ops Dense (tape)", OpsDense(16))):
        layer._maybe_build(x.shape)
        opcodes, calls = count_bytecodes(layer, x, dout)
        print(f"{name:18s} forward+backward: {opcodes} Python bytecodes, {calls} Python calls")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=32)
    parser.add_argument("--bytecodes", action="store_true",
                        help="count the Python bytecodes of one layer step instead of timing")
    args = parser.parse_args()
    if args.bytecodes:
        print_bytecodes(args.batch_size)
        return
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, size=4096)
    for size, features, units in (("wide", 64, 128), ("small", 8, 16)):
        x = rng.normal(size=(4096, features)).astype("float32")
        times = {"built-in Dense": [], "ops Dense (tape)": []}
        cpu_times = {"built-in Dense": [], "ops Dense (tape)": []}
        for _ in range(args.repeats):       # interleaved: both see the same machine load
            for name, custom in (("built-in Dense", False), ("ops Dense (tape)", True)):
                wall, cpu = time_fit(custom, x, y, units, args.epochs, args.batch_size)
                times[name].append(wall)
                cpu_times[name].append(cpu)
        medians = {name: statistics.median(values) for name, values in times.items()}
        print(f"{size} ({features} features, {units} units, {args.epochs} epochs of "
              f"{4096 // args.batch_size} steps)")
        for name, value in medians.items():
            print(f"  {name:18s} median {value:.3f} s   best {min(times[name]):.3f} s")
        ratio = medians["ops Dense (tape)"] / medians["built-in Dense"]
        best = min(times["ops Dense (tape)"]) / min(times["built-in Dense"])
        pairs = statistics.median(
            c / b for b, c in zip(times["built-in Dense"], times["ops Dense (tape)"]))
        print(f"  ratio custom / built-in: median {ratio:.2f}x, best {best:.2f}x, "
              f"median of pairs {pairs:.2f}x (target <= 1.5x)")
        cpu_ratio = (statistics.median(cpu_times["ops Dense (tape)"])
                     / statistics.median(cpu_times["built-in Dense"]))
        print(f"  ratio of the main thread's CPU time (medians): {cpu_ratio:.2f}x")
        steps = args.epochs * -(-len(x) // args.batch_size)
        extra = (medians["ops Dense (tape)"] - medians["built-in Dense"]) / steps
        print(f"  the tape's cost: {extra * 1e6:.0f} us per step, "
              f"{extra * 1e6 / OPS_PER_STEP:.1f} us per op")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
