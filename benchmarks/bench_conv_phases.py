"""Benchmark: where one training step of the MNIST convnet spends its time, phase by phase.

    python benchmarks/bench_conv_phases.py [--steps 30]

Trains bench_conv.py's convnet (batch 128, minikeras's default fast kernels, batch split over
the cores) on real MNIST digits and times, over --steps steps after a warm-up epoch:

    conv forward:  im2col copy | GEMM cols @ W (+ bias)
    conv backward: im2col copy again (layers with several input channels fill their im2col
                   matrix a block of images at a time in both passes) | kernel gradient GEMM
                   cols.T @ dout (with the bias gradient when the bias rides in the GEMM:
                   one input channel) | input gradient (GEMMs + strided adds) | the bias
                   gradient summed outside the GEMM (other layers)
    pooling, the convolutions' relu, the dense layer (its softmax included), dropout and
    flatten (each forward + backward), the optimizer, the rest of the step (loss, metrics),
    and allocation: minor page faults per step, and the step time and faults when every
    layer's Workspace is emptied before each step (fresh big arrays, as before workspaces).

Phases that run inside the batch parts (im2col, GEMMs, scatter) are timed in each thread and
their share of the convolution's wall time is shown; the others are wall times in the
calling thread. Prints the load average: timings on a shared machine are noisy.
"""

import argparse
import collections
import functools
import os
import resource
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import bench_conv  # noqa: E402

import minikeras  # noqa: E402
from minikeras.kernels import conv_fast, parallel  # noqa: E402
from minikeras.layers import base_pooling, conv2d, dense, dropout, flatten  # noqa: E402
from minikeras.models import fusion  # noqa: E402
from minikeras.optimizers import base_optimizer  # noqa: E402

wall = collections.defaultdict(float)        # phase -> seconds in the calling thread
in_parts = collections.defaultdict(float)    # phase -> seconds summed over the threads
lock = threading.Lock()
current = threading.local()                  # .pass_: "forward" or "backward", per thread


def timed(owner, name, phase, totals, pass_=None, by_pass=False):
    """Replaces owner.name by a wrapper adding its duration to totals[phase]; with pass_,
    calls made meanwhile (in this thread) know they run in that pass, and with by_pass
    the phase is named after the pass it runs in: "im2col copy (forward)"."""
    original = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args, **kwargs):
        name = f"{phase} ({getattr(current, 'pass_', '?')})" if by_pass else phase
        if pass_:
            current.pass_ = pass_
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            with lock:
                totals[name] += time.perf_counter() - start

    setattr(owner, name, wrapper)


def instrument():
    # the layers' modules hold the names they imported from minikeras.kernels
    timed(conv2d, "conv2d_forward", "conv forward", wall)
    timed(conv2d, "conv2d_backward", "conv backward", wall)
    # inside conv backward: the bias gradient where it is not a by-product of the GEMM
    timed(conv_fast, "conv2d_bias_gradient", "conv bias gradient", wall)
    timed(conv_fast, "_convolve_part", "forward part", in_parts, pass_="forward")
    timed(conv_fast, "_gradients_part", "backward part", in_parts, pass_="backward")
    timed(conv_fast, "_fill_cols", "im2col copy", in_parts, by_pass=True)
    timed(conv_fast, "_scatter_input_gradient", "input gradient", in_parts)
    timed(base_pooling, "pool2d_forward", "pooling", wall)
    timed(base_pooling, "pool2d_backward", "pooling", wall)
    timed(conv2d.Conv2D, "_activate", "conv relu", wall)
    timed(conv2d.Conv2D, "_activation_backward", "conv relu", wall)
    # a relu moved after the max pooling (models/fusion.py) runs on the pooled values
    timed(fusion, "relu_in_place", "conv relu", wall)
    timed(fusion, "relu_gradient", "conv relu", wall)
    for cls, phase in ((dense.Dense, "dense (softmax included)"),
                       (dropout.Dropout, "dropout, flatten"),
                       (flatten.Flatten, "dropout, flatten")):
        timed(cls, "forward", phase, wall)
        timed(cls, "backward", phase, wall)
    timed(base_optimizer.Optimizer, "apply", "optimizer", wall)


def train_steps(model, x, y, steps, fresh_buffers=False):
    """(seconds per step, minor page faults per step) of `steps` train_on_batch calls; with
    fresh_buffers, every layer's Workspace is emptied before each step (so its big arrays
    are allocated anew, as before workspaces existed)."""
    batch = bench_conv.BATCH
    starts = [i * batch for i in range(len(x) // batch)]
    workspaces = [layer._workspace for layer in model.layers if hasattr(layer, "_workspace")]
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    start = time.perf_counter()
    with parallel.one_blas_thread():         # as fit() trains a convnet
        for step in range(steps):
            if fresh_buffers:
                for workspace in workspaces:
                    workspace.clear()
            i = starts[step % len(starts)]
            model.train_on_batch(x[i : i + batch], y[i : i + batch])
    seconds = (time.perf_counter() - start) / steps
    return seconds, (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / steps


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=30)
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()}")
    x, y = bench_conv.mnist_sample()
    model = bench_conv.convnet(minikeras)
    model.fit(x, y, batch_size=bench_conv.BATCH, epochs=1, verbose=0, shuffle=False)  # warm-up
    fresh_s, fresh_faults = train_steps(model, x, y, args.steps, fresh_buffers=True)
    train_steps(model, x, y, 3)                                   # buffers back in place
    instrument()
    step_s, faults = train_steps(model, x, y, args.steps)
    per_step = {phase: seconds / args.steps for phase, seconds in wall.items()}

    forward, backward = per_step.pop("conv forward"), per_step.pop("conv backward")
    bias_gradient = per_step.pop("conv bias gradient", 0.0)
    backward -= bias_gradient
    im2col_share = in_parts["im2col copy (forward)"] / in_parts["forward part"]
    refill_share = in_parts["im2col copy (backward)"] / in_parts["backward part"]
    dx_share = in_parts["input gradient"] / in_parts["backward part"]
    rows = [
        ("conv forward: im2col copy", forward * im2col_share),
        ("conv forward: GEMM cols @ W + bias", forward * (1 - im2col_share)),
        ("conv backward: im2col copy again", backward * refill_share),
        ("conv backward: kernel gradient GEMM", backward * (1 - dx_share - refill_share)),
        ("conv backward: input gradient", backward * dx_share),
        ("conv bias gradient (outside the GEMM)", bias_gradient),
    ]
    rows += sorted(per_step.items(), key=lambda item: -item[1])
    rows.append(("rest (loss, metrics, loop)", step_s - sum(seconds for _, seconds in rows)))
    batch = bench_conv.BATCH
    print(f"\nconvnet training step, batch {batch}, mean of {args.steps} steps: "
          f"{step_s * 1e3:.1f} ms")
    for name, seconds in rows:
        print(f"  {name:<38} {seconds * 1e3:7.2f} ms {seconds / step_s:6.1%}")
    print(f"  allocation: {faults:.0f} minor page faults per step with the layers' workspaces; "
          f"without them (fresh arrays every step, timed before the instrumented run): "
          f"{fresh_faults:.0f} faults and {fresh_s * 1e3:.1f} ms per step")
    print(f"load average after: {os.getloadavg()}")


if __name__ == "__main__":
    main()
