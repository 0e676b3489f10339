"""BatchNormalization's fast kernel (kernels/batch_norm_fast.py) against the plain version it
must equal (the layer's general forward/backward, run by set_kernels("reference")): outputs,
input gradients, weight gradients and moving statistics, in training, inference and frozen
modes, over many blocks and several threads. float64 agrees to 1e-12; float32 to rounding."""

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.kernels import batch_norm_fast, parallel


@pytest.fixture(autouse=True)
def fast_path_for_small_inputs(monkeypatch):
    """These tests' inputs are small: the fast kernel must run on them all the same."""
    monkeypatch.setattr(batch_norm_fast, "FAST_MIN_ELEMENTS", 1)


@pytest.fixture
def small_blocks(monkeypatch):
    """Blocks of 5 rows (6 features of float64: 240 bytes), shared among 3 threads even for
    these small inputs, so every case runs through many blocks, a short last block and the
    pool's threads."""
    monkeypatch.setattr(batch_norm_fast, "BLOCK_BYTES", 240)
    monkeypatch.setattr(batch_norm_fast, "PARALLEL_MIN_ELEMENTS", 0)
    monkeypatch.setattr(parallel, "worker_count", lambda: 3)


@pytest.fixture
def kernels_choice():
    yield minikeras.config.set_kernels
    minikeras.config.set_kernels("fast")


def _layer(dtype, shape, seed=0, **kwargs):
    """A BatchNormalization built for inputs of `shape` (6 features last), random weights."""
    layer = layers.BatchNormalization(momentum=0.7, dtype=dtype, **kwargs)
    layer._maybe_build(shape)
    rng = np.random.default_rng(seed)
    weights = {"gamma": rng.uniform(0.5, 1.5, 6), "beta": rng.normal(size=6),
               "moving_mean": rng.normal(size=6), "moving_variance": rng.uniform(0.5, 2, 6)}
    layer.set_weights([weights[w.name] for w in layer.weights])
    return layer


def _run(kernels_choice, which, dtype, x, dout, training, trainable=True,
         need_input_gradient=True, **kwargs):
    """(out, dx, grads, weights after the step) with the `which` kernels."""
    kernels_choice(which)
    layer = _layer(dtype, x.shape, **kwargs)
    layer.trainable = trainable
    out, cache = layer.forward(x, training=training)
    assert isinstance(cache[0], str) == (which == "fast")
    dx, grads = layer.backward(dout, cache, need_input_gradient=need_input_gradient)
    return out, dx, grads, layer.get_weights()


def _inputs(shape, dtype, seed=1):
    rng = np.random.default_rng(seed)
    # features with different means and spreads, some mean several spreads from 0
    x = rng.normal(size=shape) * [0.5, 1, 2, 3, 0.2, 1] + [0, 3, -1, 10, 0.5, -4]
    return x.astype(dtype), rng.normal(size=shape).astype(dtype)


MODES = [  # (training, trainable): batch statistics, inference, frozen in training
    (True, True), (False, True), (True, False)]


@pytest.mark.parametrize("shape", [(4, 3, 5, 6), (23, 6), (1, 6)], ids=["images", "dense",
                                                                        "one_row"])
@pytest.mark.parametrize("training,trainable", MODES, ids=["batch", "inference", "frozen"])
@pytest.mark.parametrize("options", [{}, {"scale": False}, {"center": False},
                                     {"scale": False, "center": False}],
                         ids=["gamma_beta", "no_gamma", "no_beta", "neither"])
def test_fast_equals_plain_in_float64(kernels_choice, small_blocks, shape, training,
                                      trainable, options):
    x, dout = _inputs(shape, np.float64)
    plain = _run(kernels_choice, "reference", "float64", x, dout, training, trainable,
                 **options)
    fast = _run(kernels_choice, "fast", "float64", x, dout, training, trainable, **options)
    for name, ref, got in zip(["out", "dx"], plain[:2], fast[:2]):
        assert got.dtype == np.float64 and got.shape == shape, name
        # dx sums terms of size |dout| * gamma * rstd that cancel in part: relative to that
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12 * np.abs(ref).max(),
                                   err_msg=name)
    assert len(fast[2]) == len(plain[2]) == (2 - len(options) if trainable else 0)
    for ref, got in zip(plain[2] + plain[3], fast[2] + fast[3]):
        np.testing.assert_allclose(got, ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("training,trainable", MODES, ids=["batch", "inference", "frozen"])
def test_fast_float32_agrees_with_float64_to_rounding(kernels_choice, small_blocks, training,
                                                      trainable):
    """The fast float32 step against the plain one in float64 on the same numbers: no worse
    than float32 rounding of the results' size (a few 1e-7 of it)."""
    x, dout = _inputs((8, 5, 5, 6), np.float32)
    exact = _run(kernels_choice, "reference", "float64", x.astype(np.float64),
                 dout.astype(np.float64), training, trainable)
    fast = _run(kernels_choice, "fast", "float32", x, dout, training, trainable)
    for ref, got in zip(exact[0:2] + tuple(exact[2]) + tuple(exact[3]),
                        fast[0:2] + tuple(fast[2]) + tuple(fast[3])):
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, ref, rtol=2e-6, atol=2e-6 * np.abs(ref).max())


def test_no_input_gradient_gives_the_same_weight_gradients(kernels_choice, small_blocks):
    x, dout = _inputs((30, 6), np.float64)
    plain = _run(kernels_choice, "reference", "float64", x, dout, True)
    fast = _run(kernels_choice, "fast", "float64", x, dout, True, need_input_gradient=False)
    assert fast[1] is None
    for ref, got in zip(plain[2], fast[2]):
        np.testing.assert_allclose(got, ref, rtol=1e-12)


def test_variance_is_exact_for_a_mean_far_from_zero():
    """float32 values 1000 spreads away from 0: sum(x^2)/M - mean^2 would lose every digit
    (float32 has about 7); the two-pass variance keeps float32 accuracy."""
    rng = np.random.default_rng(3)
    rows = (1e4 + rng.normal(size=(50_000, 4)) * [10, 1, 0.5, 2]).astype(np.float32)
    mean, var = batch_norm_fast.moments(rows)
    exact = rows.astype(np.float64)
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=1e-7)
    np.testing.assert_allclose(var, exact.var(axis=0), rtol=1e-5)
    naive = (rows.astype(np.float64) ** 2).astype(np.float32).mean(axis=0) - mean ** 2
    assert np.abs(naive / exact.var(axis=0) - 1).max() > 1e-2   # what the first pass avoids


def test_threads_give_the_same_bits_as_one_thread(monkeypatch):
    """Block sums are added in block order whichever thread made them."""
    x, dout = _inputs((64, 7, 7, 6), np.float32)
    monkeypatch.setattr(batch_norm_fast, "BLOCK_BYTES", 24 * 100)
    results = []
    for minimum, workers in ((2**62, 1), (0, 3)):
        monkeypatch.setattr(batch_norm_fast, "PARALLEL_MIN_ELEMENTS", minimum)
        monkeypatch.setattr(parallel, "worker_count", lambda workers=workers: workers)
        layer = _layer("float32", x.shape)
        out, cache = layer.forward(x, training=True)
        dx, grads = layer.backward(dout, cache)
        results.append([out.copy(), dx.copy(), *grads, *layer.get_weights()])
    for one, several in zip(*results):
        np.testing.assert_array_equal(one, several)


def test_reused_buffers_do_not_overwrite_a_kept_output():
    """Two training steps while the first step's output and gradient are still held: the
    workspace hands out fresh buffers, so the first results stay as they were."""
    x, dout = _inputs((4, 3, 5, 6), np.float32)
    layer = _layer("float32", x.shape)
    out, cache = layer.forward(x, training=True)
    dx, _ = layer.backward(dout, cache)
    kept = out.copy(), dx.copy()
    out2, cache2 = layer.forward(x[::-1] * 2, training=True)
    dx2, _ = layer.backward(dout * 3, cache2)
    assert not np.shares_memory(out, out2) and not np.shares_memory(dx, dx2)
    np.testing.assert_array_equal(out, kept[0])
    np.testing.assert_array_equal(dx, kept[1])


@pytest.mark.parametrize("first_block_offset, passes", [(0.0, 1), (1e3, 2)],
                         ids=["first_block_typical", "first_block_far_off"])
def test_moments_take_the_deviations_again_when_the_first_guess_is_far(
        monkeypatch, first_block_offset, passes):
    """The deviations are taken from the first block's mean; when that is more than a
    standard deviation from the mean (sorted data), a second pass takes them from the mean
    the first found. Both give float32-accurate statistics."""
    rng = np.random.default_rng(4)
    rows = (5 + rng.normal(size=(4000, 2))).astype(np.float32)
    rows[:100] += np.float32(first_block_offset)
    monkeypatch.setattr(batch_norm_fast, "BLOCK_BYTES", 100 * 8)      # first block: 100 rows
    calls = []
    deviation_moments = batch_norm_fast._deviation_moments
    monkeypatch.setattr(batch_norm_fast, "_deviation_moments",
                        lambda *args: calls.append(1) or deviation_moments(*args))
    mean, var = batch_norm_fast.moments(rows)
    assert len(calls) == passes
    exact = rows.astype(np.float64)
    # the mean within a millionth of a standard deviation: what normalizing needs
    np.testing.assert_allclose(mean, exact.mean(axis=0), rtol=0, atol=1e-6 * exact.std())
    np.testing.assert_allclose(var, exact.var(axis=0), rtol=1e-6)


def test_tiny_inputs_take_the_plain_version(monkeypatch):
    monkeypatch.setattr(batch_norm_fast, "FAST_MIN_ELEMENTS", 2**14)
    layer = _layer("float32", (32, 6))
    x, _ = _inputs((32, 6), np.float32)
    _, cache = layer.forward(x, training=True)
    assert not isinstance(cache[0], str)                 # the plain version's cache
    big = np.tile(x, (2**14 // 32 // 6 + 1, 1))
    _, cache = layer.forward(big, training=True)
    assert cache[0] == "fast"
