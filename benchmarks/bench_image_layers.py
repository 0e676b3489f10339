"""Benchmark: forward + backward time of the image layers, minikeras against Keras (TensorFlow)
in the same run.

    python benchmarks/bench_image_layers.py [--repeats 5]

For each layer, the same weights and a float32 batch of 32 images: Keras's time is
tf.GradientTape around the layer's call (training=True), gradients of sum(out * r) with
respect to the input and the weights; minikeras's is layer.forward + layer.backward, run as
fit runs it (BLAS on one thread for layers that split their batches over the cores). The best
of --repeats runs after one warm-up, the ratio minikeras / Keras, and the load average
(timings on a shared machine are noisy).
"""

import argparse
import contextlib
import os
import time

import keras
import numpy as np
import tensorflow as tf

import minikeras
from minikeras.kernels import parallel

CASES = [
    ("Conv2DTranspose 32->16 k3 s2 same, 16x16",
     lambda k: k.layers.Conv2DTranspose(16, 3, strides=2, padding="same"), (32, 16, 16, 32)),
    ("DepthwiseConv2D k3 m1, 32x32x32",
     lambda k: k.layers.DepthwiseConv2D(3, padding="same"), (32, 32, 32, 32)),
    ("SeparableConv2D 32->64 k3, 32x32",
     lambda k: k.layers.SeparableConv2D(64, 3, padding="same"), (32, 32, 32, 32)),
    ("UpSampling2D bilinear x2, 16x16x32",
     lambda k: k.layers.UpSampling2D(interpolation="bilinear"), (32, 16, 16, 32)),
    ("RandomRotation bilinear reflect, 32x32x3",
     lambda k: k.layers.RandomRotation(0.2, seed=0), (32, 32, 32, 3)),
    ("RandomZoom nearest constant, 32x32x3",
     lambda k: k.layers.RandomZoom(0.2, fill_mode="constant", interpolation="nearest", seed=0),
     (32, 32, 32, 3)),
]


def best_time(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    print(f"{'layer':45s} {'keras ms':>9s} {'minikeras ms':>13s} {'ratio':>6s}")
    for title, make, shape in CASES:
        x = rng.uniform(0, 1, size=shape).astype("float32")
        reference, ours = make(keras), make(minikeras)
        reference.build(shape)
        ours.build(shape)
        ours.set_weights(reference.get_weights())
        out, _ = ours.forward(x, training=True)
        r = rng.normal(size=out.shape).astype("float32")
        x_tf, r_tf = tf.constant(x), tf.constant(r)

        def keras_step(reference=reference, x_tf=x_tf, r_tf=r_tf):
            with tf.GradientTape() as tape:
                tape.watch(x_tf)
                loss = tf.reduce_sum(reference(x_tf, training=True) * r_tf)
            tape.gradient(loss, [x_tf] + [w.value for w in reference.trainable_weights])

        def our_step(ours=ours, x=x, r=r):
            _, cache = ours.forward(x, training=True)
            ours.backward(r, cache)

        keras_s = best_time(keras_step, args.repeats)
        # As fit runs a model holding this layer: a layer that splits its batches over the
        # cores has BLAS pinned to one thread meanwhile (kernels/parallel.py says why).
        pinned = parallel.one_blas_thread() if ours.splits_batches else contextlib.nullcontext()
        with pinned:
            ours_s = best_time(our_step, args.repeats)
        print(f"{title:45s} {keras_s * 1e3:9.2f} {ours_s * 1e3:13.2f} {ours_s / keras_s:6.2f}")
    print(f"load average: {os.getloadavg()}")


if __name__ == "__main__":
    main()
