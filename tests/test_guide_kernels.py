"""Figures and facts that docs/guide.md's Conv2D section states (its excerpts are checked
against the source by tests/test_guide.py, like every excerpt of the guide)."""

from pathlib import Path

import numpy as np

import minikeras
from minikeras.kernels import conv, conv_fast
from minikeras.kernels.workspace import Workspace

GUIDE = " ".join((Path(minikeras.__file__).resolve().parents[1] / "docs" / "guide.md")
                 .read_text().split())


def test_the_guide_gives_the_block_size_the_fast_kernel_uses():
    megabytes = conv_fast.COLS_BLOCK_BYTES / 2**20
    assert f"`COLS_BLOCK_BYTES`, {megabytes:g} MB" in GUIDE


def test_the_second_layers_cols_is_never_made_whole():
    # "each thread fills `cols` for a few images at a time ... The whole `cols` matrix is
    # never made": the MNIST convnet's second layer, (128, 13, 13, 32) input, 3x3, 64 filters,
    # whose whole cols would be (128, 11, 11, 3, 3, 32) float32: 18 MB.
    assert "The whole `cols` matrix is never made" in GUIDE
    x = np.ones((128, 13, 13, 32), np.float32)
    workspace = Workspace()
    out, (_, cache) = conv.conv2d_forward(x, np.ones((3, 3, 32, 64), np.float32),
                                          workspace=workspace)
    conv.conv2d_backward(np.ones_like(out), ("fast", cache))
    assert cache["cols"] is None
    blocks = {key: buffers for key, buffers in workspace._buffers.items()
              if key[0].startswith("cols_block")}
    assert blocks                                   # filled block by block...
    for (_, shape, dtype), buffers in blocks.items():
        assert shape[1:] == (11, 11, 3, 3, 32)
        assert np.prod(shape) * dtype.itemsize <= conv_fast.COLS_BLOCK_BYTES   # ...small
        assert len(buffers) == 1                    # and the same buffer for every block
    np.testing.assert_allclose(out, 3 * 3 * 32)     # every window of ones sums to 288
