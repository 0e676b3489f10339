"""Benchmark: a convnet with BatchNormalization, Keras and minikeras in the same run.

    python benchmarks/bench_batchnorm.py [--repeats 3] [--epochs 2]

(a) fit time of the same model on both engines (Conv2D -> BatchNormalization -> ReLU ->
    MaxPooling2D, twice, then Dense), from Keras's initial weights with shuffle=False, on
    2,048 random 28x28x1 images, batch 128; the median over the repeats;
(b) inside minikeras, each BatchNormalization's forward + backward (training mode) against the
    forward + backward of the Conv2D it follows, on the shapes that model trains on and as
    fit runs them (the first Conv2D without its input gradient: no layer needs the gradient
    of the model's input; a pair the graph executor fuses timed as one, the normalization's
    share being the pair's time minus the convolution's): the issue's target is that the
    normalization never costs more than that convolution.

Prints the load average too: timings on a shared machine are noisy.
"""

import argparse
import functools
import os
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))

import keras  # noqa: E402
import numpy as np  # noqa: E402

import minikeras  # noqa: E402
from minikeras.models import fusion  # noqa: E402


def convnet(k):
    layers = k.layers
    model = k.Sequential([
        k.Input((28, 28, 1)),
        layers.Conv2D(32, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Conv2D(64, 3, use_bias=False), layers.BatchNormalization(), layers.ReLU(),
        layers.MaxPooling2D(),
        layers.Flatten(), layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="sparse_categorical_crossentropy", optimizer="adam")
    return model


def time_fit(model, x, y, epochs):
    start = time.perf_counter()
    model.fit(x, y, epochs=epochs, batch_size=128, shuffle=False, verbose=0)
    return time.perf_counter() - start


def best_time(fn, repeats=7):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def layer_costs(model, x):
    """(conv name, conv ms, conv ms as trained, normalization ms, fused) for each Conv2D ->
    BatchNormalization pair, timed as fit runs them.

    "As trained": fit computes no input gradient for the model's first layer, so that
    Conv2D's backward is cheaper there. A pair the graph executor fuses (models/fusion.py:
    the normalization's statistics from the convolution's im2col matrix) runs as one piece of
    work, so the normalization's cost is the pair's time minus the convolution's alone.
    """
    rows = []
    steps = model._graph.steps
    with model._all_cores():
        h = x
        for i, step in enumerate(steps):
            layer = step.layer
            out, cache = layer.forward(h, training=True)
            nxt = steps[i + 1] if i + 1 < len(steps) else None
            if isinstance(layer, minikeras.layers.Conv2D) and isinstance(
                    nxt.layer, minikeras.layers.BatchNormalization):
                need_dx = step.needs_input_gradient
                dout = np.ones_like(out)

                def conv_step(layer=layer, h=h, dout=dout, need_input_gradient=True):
                    o, c = layer.forward(h, training=True)
                    layer.backward(dout, c, need_input_gradient=need_input_gradient)

                # The normalization's output has its input's shape, so `dout` serves both:
                # no timing includes making the incoming gradient.
                def pair_step(step=step, nxt=nxt, h=h, dout=dout, need_dx=need_dx):
                    if step.fusion is None:
                        z, conv_cache = step.layer.forward(h, training=True)
                        y, bn_cache = nxt.layer.forward(z, training=True)
                        dz, _ = nxt.layer.backward(dout, bn_cache)
                        step.layer.backward(dz, conv_cache, need_input_gradient=need_dx)
                        return
                    z, conv_cache = fusion.forward(step, h, True, [])
                    y, bn_cache = fusion.forward(nxt, z, True, [conv_cache])
                    dz, _ = fusion.backward(nxt, dout, bn_cache, y, True)
                    fusion.backward(step, dz, conv_cache, z, need_dx)

                conv_ms = best_time(conv_step) * 1e3
                trained_ms = best_time(functools.partial(conv_step,
                                                         need_input_gradient=need_dx)) * 1e3
                pair_ms = best_time(pair_step) * 1e3
                rows.append((layer.name, conv_ms, trained_ms, pair_ms - trained_ms,
                             step.fusion is not None))
            h = out
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--epochs", type=int, default=2)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.random((2048, 28, 28, 1), dtype=np.float32)
    y = rng.integers(0, 10, 2048)

    keras_times, ours_times = [], []
    for _ in range(args.repeats):
        keras.utils.set_random_seed(0)
        reference = convnet(keras)
        ours = convnet(minikeras)
        ours.set_weights(reference.get_weights())
        reference.fit(x[:128], y[:128], epochs=1, verbose=0)     # warm-up (tracing)
        keras_times.append(time_fit(reference, x, y, args.epochs))
        ours_times.append(time_fit(ours, x, y, args.epochs))
    k_med, m_med = statistics.median(keras_times), statistics.median(ours_times)
    print(f"(a) fit, {args.epochs} epochs of 2,048 images, batch 128 (median of "
          f"{args.repeats}):")
    print(f"    keras      {k_med:7.3f} s")
    print(f"    minikeras  {m_med:7.3f} s   ratio keras/minikeras {k_med / m_med:.2f}x")
    print("(b) minikeras, forward + backward in training mode, batch 128 (best of 7):")
    for name, conv_ms, trained_ms, bn_ms, fused in layer_costs(ours, x[:128]):
        how = "fused with it: the pair's time minus the Conv2D's" if fused else "as written"
        print(f"    {name:10s} Conv2D {trained_ms:7.2f} ms as trained ({conv_ms:.2f} ms with "
              f"its input gradient); BatchNormalization after it {bn_ms:7.2f} ms "
              f"({bn_ms / trained_ms:.0%} of the convolution as trained; {how})")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
