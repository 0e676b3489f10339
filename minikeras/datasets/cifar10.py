"""`keras.datasets.cifar10`: 60,000 32x32 colour images in 10 classes, from Keras's cache."""

import numpy as np

from minikeras import backend
from minikeras.datasets import _cifar

_KERAS_CALL = "keras.datasets.cifar10.load_data()"


def load_data():
    """Loads CIFAR-10 (see minikeras/datasets/_cifar.py for the files read).

    Returns:
        ((x_train, y_train), (x_test, y_test)): x uint8 (n, 32, 32, 3) (or (n, 3, 32, 32)
        when backend.image_data_format() is "channels_first"), y uint8 (n, 1).
    """
    names = [f"data_batch_{i}" for i in range(1, 6)]
    batches = _cifar.read_batches("cifar-10-batches-py-target", "cifar-10-batches-py",
                                  names + ["test_batch"], _KERAS_CALL)
    parts = [_cifar.images_and_labels(batches[name], "labels", name) for name in names]
    x_train = np.concatenate([x for x, _ in parts]).astype("uint8", copy=False)
    y_train = np.concatenate([np.asarray(y) for _, y in parts]).astype("uint8")
    x_test, y_test = _cifar.images_and_labels(batches["test_batch"], "labels",
                                              "test_batch")
    y_train = y_train.reshape(len(y_train), 1)
    y_test = np.reshape(y_test, (len(y_test), 1)).astype(y_train.dtype)
    if backend.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test.astype(x_train.dtype, copy=False), y_test)


__all__ = ["load_data"]
