"""Keeping every core busy: minikeras splits each batch over threads, BLAS runs on one.

NumPy releases the GIL inside its loops over arrays and inside BLAS, so Python threads that
each run whole-array operations on their own part of a batch keep several cores busy. That
is how minikeras uses the machine for the big arrays of a training step: im2col copies,
convolution GEMMs, pooling, relu.

Why not leave the matrix products to BLAS's own threads? OpenBLAS (NumPy's BLAS on Linux
and Windows) keeps its worker threads spinning for a long while (about 0.1 s) after every
product, waiting for the next one. Between two products a training step runs pooling, relu,
im2col copies for milliseconds, and the spinning workers take CPU time away from that work:
the MNIST convnet's epochs took 20-50% longer that way (benchmarks/bench_conv.py, its
minikeras-blas-threads line). So while a model with convolution or pooling layers trains,
evaluates or predicts (Model._all_cores, `one_blas_thread()`), OpenBLAS is told to use one
thread per call, its workers go to sleep, and the batch is split here instead:
`over_batch_parts` gives each thread its own slice of the batch axis. Models of Dense layers
alone keep BLAS's threads: their time is nearly all in products, which BLAS shares out best.

The work given to `over_batch_parts` must write only into its own part of preallocated
outputs (or return its result, as partial sums do).
"""

import contextlib
import contextvars
import ctypes
import functools
import glob
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

# Below this many elements, handing parts of the work to other threads costs more than it saves.
PARALLEL_MIN_ELEMENTS = 2**20
# Matrix products are worth splitting sooner: they do far more work per element.
GEMM_MIN_ELEMENTS = 2**17
# More threads than this gain little: the passes are memory-bound and each costs Python time.
MAX_WORKERS = 8
# False leaves BLAS its own threads during training (one_blas_thread() then does nothing and
# matrix products are not split): for comparison, or when another library in the process
# needs BLAS's threads meanwhile.
SPLIT_BATCHES = True


def worker_count():
    """Cores this process may run on (at most MAX_WORKERS)."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        cores = os.cpu_count() or 1
    return max(1, min(cores, MAX_WORKERS))


_THREAD_PREFIX = "minikeras-part"


def _pool():
    """The threads that take the other parts: one pool per process (a child made by fork()
    inherits the pool object but not its threads, so it must start its own)."""
    return _pool_of_process(os.getpid())


@functools.cache
def _pool_of_process(pid):
    return ThreadPoolExecutor(max_workers=worker_count() - 1 or 1,
                              thread_name_prefix=_THREAD_PREFIX)


def batch_parts(batch, elements, minimum=None):
    """Slices cutting the batch axis into one part per worker (one part for small work).

    Args:
        batch: length of the batch axis.
        elements: size of the arrays the work touches; below `minimum` (by default
            PARALLEL_MIN_ELEMENTS) the work stays whole.
    """
    minimum = PARALLEL_MIN_ELEMENTS if minimum is None else minimum
    parts = min(worker_count(), batch) if elements >= minimum else 1
    if parts <= 1:
        return [slice(None)]
    edges = [batch * k // parts for k in range(parts + 1)]
    return [slice(start, stop) for start, stop in zip(edges[:-1], edges[1:])]


def over_batch_parts(work, batch, elements, minimum=None):
    """Calls work(part) for each part (a slice of the batch axis), the parts in parallel.

    Args:
        work: function of a slice of the batch axis.
        batch: length of the batch axis.
        elements: size of the arrays involved: below `minimum` (or on one core, or with a
            batch of one) there is a single call, work(slice(None)).
        minimum: the size from which splitting pays: PARALLEL_MIN_ELEMENTS by default,
            gemm_minimum() for matrix products.

    Returns:
        The list of work(part) results, in batch order.
    """
    parts = batch_parts(batch, elements, minimum)
    if len(parts) == 1 or threading.current_thread().name.startswith(_THREAD_PREFIX):
        # one part, or called from a part already running in the pool: waiting there for
        # the pool's other threads could wait forever, so the parts run here in turn
        return [work(part) for part in parts]
    # The other threads take all parts but the last, which this thread does meanwhile. Each
    # part runs in a copy of this thread's context, so NumPy's errstate (train_step silences
    # floating-point warnings) holds in the pool's threads too.
    futures = [_pool().submit(contextvars.copy_context().run, work, part)
               for part in parts[:-1]]
    last = work(parts[-1])
    return [future.result() for future in futures] + [last]   # re-raises a thread's error


def item_workers(count, elements, minimum=None):
    """How many workers over_items gives `count` items touching `elements` numbers in all."""
    minimum = PARALLEL_MIN_ELEMENTS if minimum is None else minimum
    if elements < minimum or threading.current_thread().name.startswith(_THREAD_PREFIX):
        return 1
    return max(1, min(worker_count(), count))


def over_items(work, count, elements, minimum=None):
    """Calls work(item, worker) for item in 0..count-1, the workers taking the next item as
    each comes free: many small items (blocks of rows) rather than one part per worker.

    Sharing out item by item keeps a late worker from holding the others up: on a busy
    machine the operating system may start a pool thread milliseconds late, and this thread
    then simply does the items itself (a thread that has not started by the end is
    cancelled, not waited for).

    Args:
        work: function of (item, worker); worker is 0 for this thread, up to
            item_workers(...) - 1: the index of any scratch space the worker owns.
        count: number of items.
        elements, minimum: as for over_batch_parts; below `minimum` one worker does all.

    Returns:
        The list of work's results, in item order (whichever worker made them), so that a
        caller summing them gets the same rounding every time.
    """
    workers = item_workers(count, elements, minimum)
    results = [None] * count
    if workers == 1:
        for item in range(count):
            results[item] = work(item, 0)
        return results
    items = iter(range(count))
    lock = threading.Lock()

    def run(worker):
        while True:
            with lock:
                item = next(items, None)
            if item is None:
                return
            results[item] = work(item, worker)

    futures = [_pool().submit(contextvars.copy_context().run, run, worker)
               for worker in range(1, workers)]
    try:
        run(0)
    finally:
        with lock:                        # after an error here the others take no more
            for _ in items:
                pass
        for future in futures:
            if not future.cancel():
                future.result()           # started: let it finish its item (re-raises)
    return results


def gemm_minimum():
    """The `minimum` for splitting a matrix product: GEMM_MIN_ELEMENTS when BLAS runs on one
    thread (inside one_blas_thread), else never (BLAS's own threads share the product)."""
    return GEMM_MIN_ELEMENTS if _blas_pinned.depth else float("inf")


def _split_product(rows, columns):
    """Whether a product over `rows` (the batch) touching `columns` numbers per row is worth
    splitting: only while BLAS runs on one thread, and only when it is big."""
    return _blas_pinned.depth and rows * columns >= GEMM_MIN_ELEMENTS and rows > 1


def matmul(a, b):
    """a @ b for a (..., k) and 2-D b (k, n); big products split over the workers by rows
    (all of a's leading axes flattened into one)."""
    rows = a.size // a.shape[-1] if a.shape[-1] else 0
    if not _split_product(rows, a.shape[-1] + b.shape[1]):
        return np.matmul(a, b)           # the usual case: no reshape on the hot path
    a2 = a.reshape(rows, a.shape[-1])
    out = np.empty((rows, b.shape[1]), dtype=np.result_type(a, b))

    def work(part):
        np.matmul(a2[part], b, out=out[part])

    over_batch_parts(work, rows, a2.size + out.size, GEMM_MIN_ELEMENTS)
    return out.reshape(a.shape[:-1] + (b.shape[1],))


def matmul_transposed_a(a, b):
    """a.T @ b for 2-D a (rows, k) and b (rows, n): partial products over parts of the rows,
    summed (the weight gradient x.T @ dz of a batch)."""
    if not _split_product(a.shape[0], a.shape[1] + b.shape[1]):
        return a.T @ b
    partials = over_batch_parts(lambda part: a[part].T @ b[part], a.shape[0], a.size + b.size,
                                GEMM_MIN_ELEMENTS)
    return functools.reduce(np.add, partials)


# ------------------------------------------------------------ OpenBLAS's thread count


class _Pinned:
    """BLAS's thread count is one setting for the whole process: so is this record of it."""

    lock = threading.Lock()
    depth = 0            # how many one_blas_thread() blocks are open
    previous = None      # BLAS's thread count before the first of them


_blas_pinned = _Pinned()


@functools.cache
def _openblas_thread_functions():
    """(get_num_threads, set_num_threads) of the OpenBLAS that NumPy loaded, or None.

    NumPy's wheels bundle OpenBLAS under a prefixed name (scipy_openblas...64_); other builds
    (MKL, Accelerate) have no such functions and are left alone.
    """
    for path in _loaded_openblas_paths():
        try:
            library = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in (("scipy_openblas", "64_"), ("scipy_openblas", ""),
                               ("openblas", "64_"), ("openblas", "")):
            getter = getattr(library, f"{prefix}_get_num_threads{suffix}", None)
            setter = getattr(library, f"{prefix}_set_num_threads{suffix}", None)
            if getter is not None and setter is not None:
                getter.restype = ctypes.c_int
                setter.argtypes = [ctypes.c_int]
                return getter, setter
    return None


def _loaded_openblas_paths():
    """Paths of the OpenBLAS libraries mapped into this process (Linux: /proc/self/maps),
    else those bundled with NumPy's wheel."""
    paths = []
    try:
        with open("/proc/self/maps") as maps:
            for line in maps:
                path = line.split(maxsplit=5)[-1].strip()
                if "openblas" in os.path.basename(path) and path not in paths:
                    paths.append(path)
    except OSError:
        pass
    numpy_dir = os.path.dirname(np.__file__)
    if not paths:
        for pattern in ("../numpy.libs/*openblas*", ".dylibs/*openblas*"):
            paths += glob.glob(os.path.join(numpy_dir, pattern))

    # SciPy (loaded by TensorFlow, scikit-learn...) maps its own OpenBLAS too: pinning that
    # one instead of NumPy's left NumPy's products on all threads. NumPy's own copy first.
    def is_numpys(path):
        folder = os.path.dirname(path)
        return os.path.basename(folder) == "numpy.libs" or folder.startswith(numpy_dir)

    return sorted(paths, key=lambda path: not is_numpys(path))


@contextlib.contextmanager
def one_blas_thread():
    """While inside, OpenBLAS computes each product on one thread and minikeras splits the
    products itself (see the module docstring). BLAS's thread count is restored on exit.
    Nests; does nothing on one core, when NumPy's BLAS is not OpenBLAS (MKL, Accelerate:
    products then keep BLAS's threads), or when SPLIT_BATCHES is False."""
    functions = None
    if SPLIT_BATCHES and worker_count() > 1:
        functions = _openblas_thread_functions()
    if functions is None:
        yield
        return
    get_threads, set_threads = functions
    with _blas_pinned.lock:
        if _blas_pinned.depth == 0:
            _blas_pinned.previous = get_threads()
            set_threads(1)
        _blas_pinned.depth += 1
    try:
        yield
    finally:
        with _blas_pinned.lock:
            _blas_pinned.depth -= 1
            if _blas_pinned.depth == 0:
                set_threads(_blas_pinned.previous)


__all__ = [
    "GEMM_MIN_ELEMENTS",
    "PARALLEL_MIN_ELEMENTS",
    "SPLIT_BATCHES",
    "batch_parts",
    "gemm_minimum",
    "item_workers",
    "matmul",
    "matmul_transposed_a",
    "one_blas_thread",
    "over_batch_parts",
    "over_items",
    "worker_count",
]
