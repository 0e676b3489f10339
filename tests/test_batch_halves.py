"""Big batches of 2x2 max pooling and relu run on two halves of the batch in two threads: the
result must be exactly the one-call result (values, tie rule, gradients)."""

import os
import threading

import numpy as np
import pytest

from minikeras.ops import parallel, pooling


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


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: no second thread")
def test_halves_cover_the_batch_once_in_two_threads():
    seen = []

    def work(part):
        seen.append((part.start, part.stop, threading.current_thread().name))

    parallel.over_batch_halves(work, 7, 2**30)
    assert sorted(p[:2] for p in seen) == [(0, 3), (3, None)]
    assert len({p[2] for p in seen}) == 2


def test_an_error_in_the_second_thread_reaches_the_caller():
    def work(part):
        if part.start == 0:
            raise RuntimeError("first half failed")

    with pytest.raises(RuntimeError, match="first half failed"):
        parallel.over_batch_halves(work, 8, 2**30)


def test_relu_halves_match_one_call(monkeypatch):
    from minikeras.activations import activations

    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 7, 6, 3)).astype(np.float32)
    x[0, 0, 0, 0] = 0.0                                  # the kink: no gradient at 0, as TF
    dy = rng.standard_normal(x.shape).astype(np.float32)
    results = []
    for threshold in (0, 2**62):                         # split, then one call
        monkeypatch.setattr(parallel, "PARALLEL_MIN_ELEMENTS", threshold)
        y, cache = activations.relu.forward(x)
        results.append((y, activations.relu.backward(dy, cache)))
    (y_split, dx_split), (y_one, dx_one) = results
    np.testing.assert_array_equal(y_split, y_one)
    np.testing.assert_array_equal(y_one, np.maximum(x, 0))
    np.testing.assert_array_equal(dx_split, dx_one)
    np.testing.assert_array_equal(dx_one, np.where(x > 0, dy, 0))
    assert y_split.dtype == dx_split.dtype == np.float32
