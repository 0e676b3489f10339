"""Benchmark: Winograd F(2x2, 3x3) against minikeras's im2col convolution, per layer shape.

    python benchmarks/bench_winograd.py [--repeats 5]

For stride-1, undilated 3x3 convolutions, Winograd's minimal filtering computes each 2x2
block of outputs from a 4x4 block of inputs with 16 products per channel pair instead of 36:

    Y = A^T [ (G g G^T) * (B^T d B) ] A        (* elementwise over the 4x4 positions)

so the forward becomes 16 batched GEMMs (tiles, in) @ (in, filters) on transformed tiles
instead of one (pixels, 9*in) @ (9*in, filters) GEMM: 2.25x fewer multiply-adds, but the
input and output transforms are extra passes over memory. This script times the forward
pass both ways (float32, as minikeras trains: one BLAS thread, batch split over the cores
for im2col; the Winograd GEMMs split by tile rows) and checks they agree. "GEMMs alone" is
the 16 batched products on one thread, for scale. It decides whether
minikeras should use Winograd for a layer shape: only where the whole forward is faster.
"""

import argparse
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import numpy as np  # noqa: E402
from numpy.lib.stride_tricks import as_strided  # noqa: E402

from minikeras.kernels import conv, parallel  # noqa: E402
from minikeras.kernels.workspace import Workspace  # noqa: E402

G = np.array([[1, 0, 0], [0.5, 0.5, 0.5], [0.5, -0.5, 0.5], [0, 0, 1]], np.float32)


def kernel_transform(kernel):
    """U = G g G^T for every (in, filter) pair: (3, 3, in, f) -> (4, 4, in, f)."""
    return np.einsum("ai,ijcf,bj->abcf", G, kernel, G).astype(kernel.dtype)


def input_transform(tiles):
    """V = B^T d B for (batch, th, tw, 4, 4, c) tiles -> (4, 4, batch, th, tw, c), with
    B^T = [[1, 0, -1, 0], [0, 1, 1, 0], [0, -1, 1, 0], [0, 1, 0, -1]]: one whole-array
    subtraction or addition per row of B^T, along the tile rows, then along its columns."""
    rows = np.empty((4,) + tiles.shape[:3] + (4, tiles.shape[-1]), tiles.dtype)
    _apply_b_transposed([tiles[:, :, :, k] for k in range(4)], rows)
    v = np.empty((4, 4) + tiles.shape[:3] + (tiles.shape[-1],), tiles.dtype)
    for i in range(4):
        _apply_b_transposed([rows[i, :, :, :, k] for k in range(4)], v[i])
    return v


def _apply_b_transposed(d, out):
    np.subtract(d[0], d[2], out=out[0])
    np.add(d[1], d[2], out=out[1])
    np.subtract(d[2], d[1], out=out[2])
    np.subtract(d[1], d[3], out=out[3])


def output_transform(m, y):
    """Y = A^T M A: m (4, 4, batch, th, tw, f) -> y (batch, th, 2, tw, 2, f) (a view of the
    NHWC output), with A^T = [[1, 1, 1, 0], [0, 1, -1, -1]]: rows first, then columns."""
    rows = np.empty((2,) + m.shape[1:], m.dtype)
    _apply_a_transposed(m, rows)
    for i in range(2):
        _apply_a_transposed(rows[i], [y[:, :, i, :, j] for j in range(2)])


def _apply_a_transposed(d, out):
    np.add(d[0], d[1], out=out[0])
    out[0] += d[2]
    np.subtract(d[1], d[2], out=out[1])
    out[1] -= d[3]


def winograd_forward(x, u, padding):
    """3x3 stride-1 convolution of x (batch, h, w, c) with U (4, 4, c, f) -> NHWC output."""
    batch, height, width, channels = x.shape
    filters = u.shape[-1]
    pad = 1 if padding == "same" else 0
    out_h, out_w = height + 2 * pad - 2, width + 2 * pad - 2
    th, tw = -(-out_h // 2), -(-out_w // 2)                 # 2x2 output tiles
    xpad = np.zeros((batch, 2 * th + 2, 2 * tw + 2, channels), x.dtype)
    xpad[:, pad : pad + height, pad : pad + width] = x
    s = xpad.strides
    tiles = as_strided(xpad, (batch, th, tw, 4, 4, channels),
                       (s[0], 2 * s[1], 2 * s[2], s[1], s[2], s[3]), writeable=False)
    v = input_transform(tiles).reshape(16, -1, channels)     # (16, tiles, c)
    m = np.empty((16, v.shape[1], filters), x.dtype)

    def products(part):
        np.matmul(v[:, part], u.reshape(16, channels, filters), out=m[:, part])
    parallel.over_batch_parts(products, v.shape[1], m.size, parallel.gemm_minimum())
    y = np.empty((batch, th, 2, tw, 2, filters), x.dtype)     # = (batch, 2 th, 2 tw, f)
    output_transform(m.reshape(4, 4, batch, th, tw, filters), y)
    return y.reshape(batch, 2 * th, 2 * tw, filters)[:, :out_h, :out_w]


SHAPES = [   # (batch, h, w, in), filters, padding
    ((128, 26, 26, 32), 64, "valid"),      # the prototype shape
    ((128, 13, 13, 32), 64, "valid"),      # MNIST convnet layer 2
    ((64, 32, 32, 64), 64, "same"),
    ((32, 16, 16, 128), 128, "same"),
    ((16, 16, 16, 256), 256, "same"),
]


def best_ms(fn, repeats):
    fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times) * 1e3


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(f"load average {os.getloadavg()}")
    print(f"  {'input':>18} {'filters':>7} {'padding':>7} {'im2col ms':>9} "
          f"{'winograd ms':>11} {'GEMMs alone':>14} {'speed-up':>8}")
    rng = np.random.default_rng(0)
    with parallel.one_blas_thread():
        for x_shape, filters, padding in SHAPES:
            x = rng.standard_normal(x_shape, dtype=np.float32)
            kernel = rng.standard_normal((3, 3, x_shape[-1], filters), dtype=np.float32)
            u = kernel_transform(kernel)
            reference, _ = conv.conv2d_forward(x, kernel, padding=padding)
            result = winograd_forward(x, u, padding)
            np.testing.assert_allclose(result, reference, rtol=1e-3,
                                       atol=1e-3 * np.abs(reference).max())
            workspace = Workspace()
            im2col = best_ms(lambda x=x, k=kernel, p=padding, ws=workspace: conv.conv2d_forward(
                x, k, padding=p, workspace=ws), args.repeats)
            winograd = best_ms(lambda x=x, u=u, p=padding: winograd_forward(x, u, p),
                               args.repeats)
            tiles = x_shape[0] * (-(-(x_shape[1] - (2 if padding == "valid" else 0)) // 2)) ** 2
            v = rng.standard_normal((16, tiles, x_shape[-1]), dtype=np.float32)
            u16 = u.reshape(16, x_shape[-1], filters)
            gemms = best_ms(lambda v=v, u16=u16: np.matmul(v, u16), args.repeats)
            print(f"  {str(x_shape):>18} {filters:>7} {padding:>7} {im2col:9.1f} "
                  f"{winograd:11.1f} {gemms:14.1f} {im2col / winograd:7.2f}x")
    print(f"load average {os.getloadavg()}")


if __name__ == "__main__":
    main()
