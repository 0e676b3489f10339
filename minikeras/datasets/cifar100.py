"""`keras.datasets.cifar100`: 60,000 32x32 colour images in 100 classes (20 superclasses)."""

import numpy as np

from minikeras import backend
from minikeras.datasets import _cifar

_KERAS_CALL = "keras.datasets.cifar100.load_data()"


def load_data(label_mode="fine"):
    """Loads CIFAR-100 (see minikeras/datasets/_cifar.py for the files read).

    Args:
        label_mode: "fine" (100 classes) or "coarse" (20 superclasses).

    Returns:
        ((x_train, y_train), (x_test, y_test)): x uint8 (n, 32, 32, 3) (channels_last), y
        int64 (n, 1).
    """
    if label_mode not in ("fine", "coarse"):
        raise ValueError(
            f'`label_mode` must be one of `"fine"`, `"coarse"`. Received: '
            f"label_mode={label_mode}."
        )
    batches = _cifar.read_batches("cifar-100-python-target", "cifar-100-python",
                                  ["train", "test"], _KERAS_CALL)
    key = f"{label_mode}_labels"
    x_train, y_train = _cifar.images_and_labels(batches["train"], key, "train")
    x_test, y_test = _cifar.images_and_labels(batches["test"], key, "test")
    y_train = np.reshape(y_train, (len(y_train), 1))
    y_test = np.reshape(y_test, (len(y_test), 1))
    if backend.image_data_format() == "channels_last":
        x_train = x_train.transpose(0, 2, 3, 1)
        x_test = x_test.transpose(0, 2, 3, 1)
    return (x_train, y_train), (x_test, y_test)


__all__ = ["load_data"]
