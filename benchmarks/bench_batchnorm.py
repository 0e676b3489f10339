"""Benchmark: a convnet with BatchNormalization, Keras and minikeras in the same run.

    python benchmarks/bench_batchnorm.py [--repeats 3] [--epochs 2]

(a) fit time of the same model on both engines (Conv2D -> BatchNormalization -> ReLU ->
    MaxPooling2D, twice, then Dense), from Keras's initial weights with shuffle=False, on
    2,048 random 28x28x1 images, batch 128; the median over the repeats;
(b) inside minikeras, each BatchNormalization's forward + backward (training mode) against the
    forward + backward of the Conv2D it follows, on the shapes that model trains on: the
    issue's target is that the normalization never costs more than that convolution. The
    first Conv2D is timed twice: with its input gradient, and as fit runs it (without: no
    layer needs the gradient of the model's input).

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
    """(conv name, conv ms, conv ms as trained or None, batchnorm ms) for each Conv2D ->
    BatchNormalization pair. "As trained": fit computes no input gradient for the model's
    first layer, so that Conv2D's backward pass is cheaper there (None: the same)."""
    rows = []
    layers = model.layers
    with model._all_cores():
        h = x
        for i, layer in enumerate(layers):
            out, cache = layer.forward(h, training=True)
            nxt = layers[i + 1] if i + 1 < len(layers) else None
            if isinstance(layer, minikeras.layers.Conv2D) and isinstance(
                    nxt, minikeras.layers.BatchNormalization):
                dout = np.ones_like(out)

                def conv_step(layer=layer, h=h, dout=dout, need_input_gradient=True):
                    o, c = layer.forward(h, training=True)
                    layer.backward(dout, c, need_input_gradient=need_input_gradient)

                # The normalization's output has its input's shape, so `dout` serves both:
                # neither timing includes making the incoming gradient.
                def bn_step(nxt=nxt, bn_in=out, dout=dout):
                    o, c = nxt.forward(bn_in, training=True)
                    nxt.backward(dout, c)

                trained_ms = None if i > 0 else best_time(
                    functools.partial(conv_step, need_input_gradient=False)) * 1e3
                rows.append((layer.name, best_time(conv_step) * 1e3, trained_ms,
                             best_time(bn_step) * 1e3))
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
    for name, conv_ms, trained_ms, bn_ms in layer_costs(ours, x[:128]):
        print(f"    {name:10s} Conv2D {conv_ms:7.2f} ms   BatchNormalization after it "
              f"{bn_ms:7.2f} ms   ({bn_ms / conv_ms:.0%} of the convolution)")
        if trained_ms is not None:
            print(f"    {'':10s} as trained (first layer: no input gradient) {trained_ms:7.2f} ms"
                  f"   ({bn_ms / trained_ms:.0%})")
    print(f"load average: {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
