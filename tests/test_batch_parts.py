"""Big batches of pooling, relu and convolution run on parts of the batch in several threads:
the result must be the one-call result (values, tie rule, gradients)."""

import os
import threading

import numpy as np
import pytest

from minikeras.kernels import conv, parallel, pooling


@pytest.mark.parametrize("padding,hw", [("valid", (26, 26)), ("valid", (11, 13)),
                                        ("same", (9, 11))])
def test_two_halves_match_one_call(monkeypatch, padding, hw):
    rng = np.random.default_rng(0)
    # rounded values: many tied maxima inside windows; negative ones test the padding
    x = np.round(rng.standard_normal((5, *hw, 8)), 1).astype(np.float32)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ELEMENTS", 0)       # split even this batch
    out, cache = pooling.pool2d_forward(x, (2, 2), None, padding)
    dout = rng.standard_normal(out.shape).astype(np.float32)
    dx = pooling.pool2d_backward(dout, cache)

    monkeypatch.setattr(parallel, "PARALLEL_MIN_ELEMENTS", 2**62)   # one call, no thread
    out_one, cache_one = pooling.pool2d_forward(x, (2, 2), None, padding)
    np.testing.assert_array_equal(out, out_one)
    np.testing.assert_array_equal(dx, pooling.pool2d_backward(dout, cache_one))


def test_parts_cover_the_batch_once_in_order_in_several_threads(monkeypatch):
    monkeypatch.setattr(parallel, "worker_count", lambda: 3)
    seen = []

    def work(part):
        seen.append(threading.current_thread().name)
        return (part.start, part.stop)

    assert parallel.over_batch_parts(work, 7, 2**30) == [(0, 2), (2, 4), (4, 7)]
    assert len(set(seen)) >= 2                   # the last part runs in the calling thread
    assert parallel.over_batch_parts(work, 7, 10) == [(None, None)]      # small: one call
    assert parallel.over_batch_parts(work, 2, 2**30) == [(0, 1), (1, 2)]  # parts <= batch


def test_an_error_in_another_thread_reaches_the_caller():
    def work(part):
        if part.start == 0:
            raise RuntimeError("first part failed")

    with pytest.raises(RuntimeError, match="first part failed"):
        parallel.over_batch_parts(work, 8, 2**30)


@pytest.mark.parametrize("groups,channels,strides,padding",
                         [(1, 1, (1, 1), "valid"), (1, 3, (2, 1), "same"), (2, 4, (1, 1), "same"),
                          (4, 4, (1, 2), "valid")])
def test_conv_parts_match_one_call(monkeypatch, groups, channels, strides, padding):
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 9, 8, channels))
    kernel = rng.standard_normal((3, 2, channels // groups, 4))
    bias = rng.standard_normal(4)
    results = []
    for minimum in (0, 2**62):                       # every batch split, then one call
        monkeypatch.setattr(parallel, "gemm_minimum", lambda m=minimum: m)
        monkeypatch.setattr(parallel, "PARALLEL_MIN_ELEMENTS", minimum)
        out, cache = conv.conv2d_forward(x, kernel, strides, padding, (1, 1), groups, bias)
        dout = np.cos(np.arange(out.size)).reshape(out.shape)
        dx, dkernel, dbias = conv.conv2d_backward(dout, cache)
        # the bias gradient, whether it came out of the GEMM or was summed, is sum(dout)
        np.testing.assert_allclose(dbias, conv.conv2d_bias_gradient(dout), rtol=1e-12)
        results.append((out, dx, dkernel, dbias))
    for split, whole in zip(*results):
        np.testing.assert_allclose(split, whole, rtol=1e-12, atol=1e-12)
    # and the bias is in the output: the same convolution without it differs by exactly it
    unbiased, _ = conv.conv2d_forward(x, kernel, strides, padding, (1, 1), groups)
    np.testing.assert_allclose(results[1][0] - unbiased, np.broadcast_to(bias, unbiased.shape))


@pytest.mark.skipif(parallel._openblas_thread_functions() is None,
                    reason="NumPy's BLAS here is not OpenBLAS: there is no thread count to pin")
def test_one_blas_thread_pins_openblas_and_restores_it():
    get_threads, set_threads = parallel._openblas_thread_functions()
    before = get_threads()
    with parallel.one_blas_thread():
        assert get_threads() == (1 if parallel.worker_count() > 1 else before)
        with parallel.one_blas_thread():                 # nested: still pinned
            assert get_threads() == (1 if parallel.worker_count() > 1 else before)
        assert get_threads() == (1 if parallel.worker_count() > 1 else before)
    assert get_threads() == before


def test_fit_pins_blas_while_a_convnet_trains_and_only_then(monkeypatch):
    import minikeras
    from minikeras import layers

    seen = []

    class Spy(minikeras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen.append(parallel._blas_pinned.depth)

    monkeypatch.setattr(parallel, "_openblas_thread_functions",
                        lambda: (lambda: 4, lambda count: seen.append(("set", count))))
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    convnet = minikeras.Sequential([minikeras.Input((4, 4, 1)), layers.Conv2D(2, 3),
                                    layers.Flatten(), layers.Dense(1)])
    dense_stack = minikeras.Sequential([minikeras.Input((2,)), layers.Dense(1)])
    assert convnet.splits_batches and not dense_stack.splits_batches
    for model, x in ((convnet, np.zeros((4, 4, 4, 1))), (dense_stack, np.zeros((4, 2)))):
        model.compile(loss="mse", optimizer="sgd")
        model.fit(x, np.zeros((4, 1)), epochs=1, batch_size=2, verbose=0, callbacks=[Spy()])
        seen.append("evaluate")
        model.evaluate(x, np.zeros((4, 1)), verbose=0)
    # the convnet: pinned to 1 thread for fit's steps and for evaluate, then restored to 4;
    # the Dense stack leaves BLAS alone
    assert seen == [("set", 1), 1, 1, ("set", 4), "evaluate", ("set", 1), ("set", 4),
                    0, 0, "evaluate"]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="no fork() on this system")
def test_a_forked_child_splits_batches_with_threads_of_its_own(monkeypatch):
    import multiprocessing

    monkeypatch.setattr(parallel, "worker_count", lambda: 2)
    assert parallel.over_batch_parts(lambda part: part.start, 4, 2**30) == [0, 2]  # pool made
    context = multiprocessing.get_context("fork")
    with context.Pool(1) as children:
        # the child's inherited pool has no threads: without a pool of its own this hangs
        result = children.apply_async(parallel.over_batch_parts,
                                      (_part_start, 4, 2**30)).get(timeout=60)
    assert result == [0, 2]


def _part_start(part):
    return part.start


def test_parts_split_again_inside_a_part_run_without_deadlock(monkeypatch):
    monkeypatch.setattr(parallel, "worker_count", lambda: 2)

    def outer(part):
        return parallel.over_batch_parts(lambda inner: (part.start, inner.start), 4, 2**30)

    results = []
    # in a daemon thread, so that a deadlock fails the test instead of hanging the suite
    runner = threading.Thread(target=lambda: results.append(
        parallel.over_batch_parts(outer, 8, 2**30)), daemon=True)
    runner.start()
    runner.join(timeout=30)
    assert results == [[[(0, 0), (0, 2)], [(4, 0), (4, 2)]]]


def test_split_products_match_numpy(monkeypatch):
    monkeypatch.setattr(parallel._blas_pinned, "depth", 1)     # as inside one_blas_thread()
    monkeypatch.setattr(parallel, "GEMM_MIN_ELEMENTS", 0)     # split even these
    monkeypatch.setattr(parallel, "worker_count", lambda: 3)
    rng = np.random.default_rng(4)
    a = rng.standard_normal((5, 2, 3))                         # (batch, inner, k), as Dense
    b = rng.standard_normal((3, 4))
    np.testing.assert_allclose(parallel.matmul(a, b), a @ b, rtol=1e-12)
    x2 = a.reshape(10, 3)
    dz = rng.standard_normal((10, 4))
    np.testing.assert_allclose(parallel.matmul_transposed_a(x2, dz), x2.T @ dz, rtol=1e-12)


def test_numpys_openblas_comes_first_when_scipy_maps_its_own():
    """TensorFlow and scikit-learn load SciPy, which maps a second OpenBLAS: pinning that one
    left NumPy's products on all threads (an RNN's steps ran ~15x slower)."""
    import scipy.linalg  # noqa: F401  (maps SciPy's OpenBLAS into the process)

    paths = parallel._loaded_openblas_paths()
    numpy_paths = [p for p in paths if os.path.basename(os.path.dirname(p)) == "numpy.libs"]
    assert numpy_paths, paths
    assert paths[0] == numpy_paths[0]
