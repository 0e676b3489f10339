"""The fast convolution and pooling kernels against the reference ones they must equal.

minikeras.config.set_kernels chooses between conv_reference/pooling_reference (what the
guide teaches) and conv_fast/pooling_fast (the default). Every argument combination is run
through both: float64 results agree to 1e-12, float32 to float32 rounding.
"""

import itertools

import numpy as np
import pytest

import minikeras
from minikeras.kernels import conv, conv_fast, depthwise, depthwise_fast, parallel, pooling
from minikeras.kernels.workspace import Workspace

TOLERANCE = {np.float64: dict(rtol=1e-12, atol=1e-12), np.float32: dict(rtol=2e-5, atol=2e-5)}


@pytest.fixture
def kernels_choice():
    """Restores the default ("fast") after a test that switches."""
    yield minikeras.config.set_kernels
    minikeras.config.set_kernels("fast")


def run_both(kernels_choice, forward, backward, dout_shape_from):
    """(reference results, fast results): the forward output and the backward's outputs."""
    results = []
    for name in ("reference", "fast"):
        kernels_choice(name)
        out, cache = forward()
        results.append((out.copy(), *[None if g is None else g.copy()
                                      for g in backward(dout_shape_from(out), cache)]))
    return results


def assert_agree(reference, fast, dtype):
    for ref, got in zip(reference, fast, strict=True):
        if ref is None:
            assert got is None
            continue
        assert got.dtype == ref.dtype == np.dtype(dtype)
        assert got.shape == ref.shape
        np.testing.assert_allclose(got, ref, **TOLERANCE[dtype])


CONV_CASES = list(itertools.product(
    [(1, 1), (3, 3), (2, 3)],                 # kernel size
    [(1, 1), (2, 2), (1, 2)],                 # strides
    ["valid", "same"],
    [(1, 1), (2, 2)],                         # dilation
    [(1, 1), (1, 3), (2, 6), (4, 4)],         # (groups, in_channels): 1-channel path too
))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel_size,strides,padding,dilation,groups_channels", CONV_CASES)
def test_conv_fast_equals_reference(kernels_choice, monkeypatch, dtype, kernel_size, strides,
                                    padding, dilation, groups_channels):
    # im2col and the input gradient in blocks of one image (conv_fast._image_blocks,
    # conv_fast._scatter_by_blocks)
    monkeypatch.setattr(conv_fast, "COLS_BLOCK_BYTES", 1)
    monkeypatch.setattr(conv_fast, "SCATTER_BLOCK_BYTES", 1)
    groups, channels = groups_channels
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 9, 8, channels)).astype(dtype)
    kernel = rng.standard_normal((*kernel_size, channels // groups, 4)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)

    def backward(dout, cache):
        dx, dkernel, dbias = conv.conv2d_backward(dout, cache)
        _, dkernel_first_layer, dbias_first_layer = conv.conv2d_backward(dout, cache,
                                                                          need_dx=False)
        return (dx, dkernel, dkernel_first_layer, dbias, dbias_first_layer,
                conv.conv2d_bias_gradient(dout))

    reference, fast = run_both(
        kernels_choice,
        lambda: conv.conv2d_forward(x, kernel, strides, padding, dilation, groups, bias,
                                    workspace=Workspace()),
        backward, lambda out: np.random.default_rng(1).standard_normal(out.shape).astype(dtype))
    assert_agree(reference, fast, dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("strides,padding,groups", [((1, 1), "same", 1), ((2, 2), "valid", 1),
                                                    ((1, 1), "valid", 2)])
def test_conv_in_blocks_of_images_split_over_threads_equals_reference(
        kernels_choice, monkeypatch, dtype, strides, padding, groups):
    """Several input channels: the fast kernel fills and multiplies the im2col matrix a
    block of images at a time (conv_fast._image_blocks), in each thread's part of the
    batch. Blocks of two images over 7 images in parts: every part ends with a short
    block, and every block's buffer is refilled in the backward pass."""
    rng = np.random.default_rng(3)
    x = rng.standard_normal((7, 9, 8, 6)).astype(dtype)
    kernel = rng.standard_normal((3, 3, 6 // groups, 4)).astype(dtype)
    bias = rng.standard_normal(4).astype(dtype)
    reference_out, _ = conv.conv2d_forward(x, kernel, strides, padding, groups=groups)
    out_pixels = reference_out.shape[1] * reference_out.shape[2]
    image_bytes = out_pixels * (3 * 3 * (6 // groups) + 4) * x.itemsize
    monkeypatch.setattr(conv_fast, "COLS_BLOCK_BYTES", 2 * image_bytes)
    monkeypatch.setattr(parallel, "GEMM_MIN_ELEMENTS", 0)
    calls = []
    blocks = conv_fast._image_blocks
    monkeypatch.setattr(conv_fast, "_image_blocks", lambda *args: calls.append(
        blocks(*args)) or calls[-1])

    def forward():
        with parallel.one_blas_thread():
            return conv.conv2d_forward(x, kernel, strides, padding, (1, 1), groups, bias,
                                       workspace=Workspace())

    def backward(dout, cache):
        with parallel.one_blas_thread():
            return conv.conv2d_backward(dout, cache)

    reference, fast = run_both(
        kernels_choice, forward, backward,
        lambda out: np.random.default_rng(1).standard_normal(out.shape).astype(dtype))
    assert_agree(reference, fast, dtype)
    sizes = [block.stop - block.start for part in calls for block in part]
    assert max(sizes) == 2 and 1 in sizes      # blocks of two, a short one among them


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("use_bias", [True, False])
def test_first_layer_blocked_kernel_gradient_equals_reference(kernels_choice, monkeypatch,
                                                             dtype, use_bias):
    """A first layer's shape: one input channel and more rows than the kernel gradient's
    blocks (conv_fast._kernel_gradient sums blocks of rows, the last one short; the bias
    rides in the GEMM as a row of ones). Both kernels must agree, the bias gradient too."""
    monkeypatch.setattr(conv_fast, "KERNEL_GRADIENT_BLOCK", 500)
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 31, 29, 1)).astype(dtype)          # 6*29*27 = 4,698 rows
    kernel = rng.standard_normal((3, 3, 1, 8)).astype(dtype)
    bias = rng.standard_normal(8).astype(dtype) if use_bias else None

    def backward(dout, cache):
        return (*conv.conv2d_backward(dout, cache, need_dx=False),)[1:]

    reference, fast = run_both(
        kernels_choice,
        lambda: conv.conv2d_forward(x, kernel, bias=bias, workspace=Workspace()),
        backward, lambda out: np.random.default_rng(1).standard_normal(out.shape).astype(dtype))
    if dtype is np.float64:
        assert_agree(reference, fast, dtype)
    else:
        # float32 sums of ~4,700 products in another order: rounding relative to their size
        for ref, got in zip(reference, fast, strict=True):
            if ref is not None:
                assert got.dtype == ref.dtype
                np.testing.assert_allclose(got, ref, rtol=1e-5, atol=2e-6 * np.abs(ref).max())
    assert (fast[2] is None) == (not use_bias)


DEPTHWISE_CASES = list(itertools.product(
    [(3, 3), (2, 3)],                         # kernel size
    [(1, 1), (2, 1), (1, 2)],                 # strides
    ["valid", "same"],
    [(1, 1), (2, 2)],                         # dilation (not with strides > 1, as Keras)
    [1, 2],                                   # depth multiplier
))
DEPTHWISE_CASES = [case for case in DEPTHWISE_CASES if max(case[1]) == 1 or max(case[3]) == 1]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("kernel_size,strides,padding,dilation,multiplier", DEPTHWISE_CASES)
def test_depthwise_fast_equals_reference(kernels_choice, monkeypatch, dtype, kernel_size,
                                         strides, padding, dilation, multiplier):
    # blocks of one or two images, so a batch part runs several blocks (one short), and the
    # batch split into parts (on a machine with several cores) whatever its size
    monkeypatch.setattr(depthwise_fast, "BLOCK_BYTES", 9 * 8 * 3 * multiplier * 8)
    monkeypatch.setattr(parallel, "PARALLEL_MIN_ELEMENTS", 0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, 9, 8, 3)).astype(dtype)
    kernel = rng.standard_normal((*kernel_size, 3, multiplier)).astype(dtype)
    bias = rng.standard_normal(3 * multiplier).astype(dtype)

    def backward(dout, cache):
        dx, dkernel = depthwise.depthwise_backward(dout, cache, kernel.shape)
        no_dx, dkernel_alone = depthwise.depthwise_backward(dout, cache, kernel.shape,
                                                            need_dx=False)
        assert no_dx is None
        return dx, dkernel, dkernel_alone

    reference, fast = run_both(
        kernels_choice,
        lambda: depthwise.depthwise_forward(x, kernel, strides, padding, dilation, bias,
                                            workspace=Workspace()),
        backward, lambda out: np.random.default_rng(1).standard_normal(out.shape).astype(dtype))
    assert_agree(reference, fast, dtype)


POOL_CASES = list(itertools.product(
    [(2, 2), (3, 3), (1, 2)],                 # pool size
    [None, (1, 1), (2, 1)],                   # strides (None: the pool size)
    ["valid", "same"],
    ["max", "average"],
))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("pool_size,strides,padding,mode", POOL_CASES)
@pytest.mark.parametrize("hw", [(8, 8), (7, 9)])
def test_pooling_fast_equals_reference(kernels_choice, dtype, pool_size, strides, padding,
                                       mode, hw):
    rng = np.random.default_rng(0)
    # rounded values: tied maxima test that both send the gradient to the same pixel
    x = np.round(rng.standard_normal((3, *hw, 5)), 1).astype(dtype)
    reference, fast = run_both(
        kernels_choice,
        lambda: pooling.pool2d_forward(x, pool_size, strides, padding, mode,
                                       workspace=Workspace()),
        lambda dout, cache: [pooling.pool2d_backward(dout, cache)],
        lambda out: np.random.default_rng(1).standard_normal(out.shape).astype(dtype))
    assert_agree(reference, fast, dtype)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_layers_agree_under_both_kernels_in_both_data_formats(kernels_choice, data_format):
    model = minikeras.Sequential([
        minikeras.Input((8, 10, 3) if data_format == "channels_last" else (3, 8, 10)),
        minikeras.layers.Conv2D(4, 3, padding="same", activation="relu",
                                data_format=data_format),
        minikeras.layers.MaxPooling2D(2, data_format=data_format),
        minikeras.layers.Conv2D(6, (2, 3), strides=(1, 2), data_format=data_format),
        minikeras.layers.AveragePooling2D(2, padding="same", data_format=data_format),
        minikeras.layers.Flatten(),
        minikeras.layers.Dense(2),
    ])
    model.compile(loss="mse", optimizer="sgd")
    rng = np.random.default_rng(0)
    x = rng.standard_normal((6, *model.input_shape[1:]))
    y = rng.standard_normal((6, 2))
    start = model.get_weights()
    results = []
    for name in ("reference", "fast"):
        kernels_choice(name)
        model.set_weights(start)
        history = model.fit(x, y, batch_size=3, epochs=2, verbose=0, shuffle=False)
        results.append((history.history["loss"], model.get_weights()))
    (ref_loss, ref_weights), (fast_loss, fast_weights) = results
    np.testing.assert_allclose(fast_loss, ref_loss, rtol=1e-5)
    for ref, got in zip(ref_weights, fast_weights, strict=True):
        np.testing.assert_allclose(got, ref, rtol=1e-5, atol=1e-6)


def test_switch_checks_its_value_and_a_cache_remembers_its_kernels(kernels_choice):
    assert minikeras.config.kernels() == "fast"
    with pytest.raises(ValueError, match="Received: kernels='slow'"):
        minikeras.config.set_kernels("slow")
    assert minikeras.config.kernels() == "fast"
    x = np.random.default_rng(0).standard_normal((2, 5, 5, 2))
    kernel = np.ones((3, 3, 2, 3))
    out, cache = conv.conv2d_forward(x, kernel)
    kernels_choice("reference")              # switched between forward and backward
    dx, _, _ = conv.conv2d_backward(np.ones_like(out), cache)
    assert dx.shape == x.shape


def test_workspace_reuses_a_buffer_only_when_nothing_holds_it():
    ws = Workspace()
    first = ws.empty("out", (4, 3), np.float32)
    held = ws.empty("out", (4, 3), np.float32)       # `first` is still held: a new buffer
    assert held is not first
    first_id = id(first)
    del first
    again = ws.empty("out", (4, 3), np.float32)      # now free: reused
    assert id(again) == first_id
    view = again[1:]                                 # a view keeps its buffer busy
    del again
    assert ws.empty("out", (4, 3), np.float32).base is None
    assert id(ws.empty("out", (4, 3), np.float32)) != id(view.base)
    assert ws.empty("out", (2, 3), np.float32).shape == (2, 3)   # other shape, other buffer
    padded = ws.zeros("pad", (3,), np.float64)
    padded[1] = 5.0
    del padded
    assert ws.zeros("pad", (3,), np.float64).tolist() == [0.0, 5.0, 0.0]  # not zeroed again


def test_a_conv_layer_reuses_its_output_buffer_but_never_one_still_in_use():
    layer = minikeras.layers.Conv2D(3, 3)
    x = np.random.default_rng(0).standard_normal((2, 6, 6, 2)).astype("float32")
    layer.build(x.shape)
    out, cache = layer.forward(x, training=True)
    kept = out.copy()
    second, second_cache = layer.forward(x * 2, training=True)
    np.testing.assert_array_equal(out, kept)         # the first output was not overwritten
    assert second is not out
    out_id = id(out)
    del out, cache
    third, _ = layer.forward(x, training=True)
    assert id(third) == out_id                       # freed, so its memory is reused
    np.testing.assert_array_equal(third, kept)
