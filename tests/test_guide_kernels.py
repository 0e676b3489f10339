"""Figures that docs/guide.md's Conv2D section states (its excerpts are checked against the
source by tests/test_guide.py, like every excerpt of the guide)."""

from pathlib import Path

import numpy as np

import minikeras
from minikeras.kernels import conv_reference

GUIDE = (Path(minikeras.__file__).resolve().parents[1] / "docs" / "guide.md").read_text()


def test_second_layer_cols_is_18_mb():
    # "`cols` for the MNIST convnet's second layer is 18 MB": (128, 13, 13, 32) input, 3x3
    x = np.zeros((128, 13, 13, 32), np.float32)
    _, (cols, *_) = conv_reference.conv2d_forward(x, np.zeros((3, 3, 32, 64), np.float32))
    assert cols.shape == (128, 11, 11, 3, 3, 32)
    assert round(cols.size * cols.itemsize / 1e6) == 18
    assert "second layer is 18 MB" in GUIDE
