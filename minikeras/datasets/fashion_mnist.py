"""`keras.datasets.fashion_mnist`: 70,000 28x28 grey images of clothes in 10 classes.

Reads Keras's four gzipped IDX files from `<keras home>/datasets/fashion-mnist/`; nothing is
downloaded.
"""

import gzip
import os

import numpy as np

from minikeras.datasets import _files

FILES = ("train-labels-idx1-ubyte.gz", "train-images-idx3-ubyte.gz",
         "t10k-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz")
_IMAGE_BYTES = 28 * 28
_MAX_BYTES = 100 * 1024 * 1024    # the real training images are 47 MB uncompressed


def _read(location, header):
    """The uint8 payload of an IDX file after its `header` bytes (magic and sizes)."""
    _files.require_file(location, "Fashion-MNIST file", "keras.datasets.fashion_mnist.load_data()")
    with gzip.open(location, "rb") as f:
        data = f.read(_MAX_BYTES + 1)
    if len(data) > _MAX_BYTES or len(data) < header:
        raise ValueError(f"{location!r} is not a Fashion-MNIST IDX file "
                         f"({len(data)} bytes uncompressed)")
    return np.frombuffer(data, np.uint8, offset=header)


def load_data():
    """Loads Fashion-MNIST.

    Returns:
        ((x_train, y_train), (x_test, y_test)): x uint8 (n, 28, 28), y uint8 (n,) labels.
    """
    folder = os.path.join(_files.datasets_dir(), "fashion-mnist")
    paths = [os.path.join(folder, name) for name in FILES]
    for location in paths:                       # report a missing file before reading any
        _files.require_file(location, "Fashion-MNIST file",
                            "keras.datasets.fashion_mnist.load_data()")
    y_train = _read(paths[0], 8)
    x_train = _images(_read(paths[1], 16), len(y_train), paths[1])
    y_test = _read(paths[2], 8)
    x_test = _images(_read(paths[3], 16), len(y_test), paths[3])
    return (x_train, y_train), (x_test, y_test)


def _images(pixels, count, location):
    if pixels.size != count * _IMAGE_BYTES:
        raise ValueError(f"{location!r} holds {pixels.size} pixels; {count} labels need "
                         f"{count} images of 28x28 = {count * _IMAGE_BYTES}")
    return pixels.reshape(count, 28, 28)


__all__ = ["load_data"]
