"""`keras.datasets`: loaders for Keras's standard data sets, read from Keras's local cache.

Nothing is downloaded: each loader reads the files Keras's own loader downloads, where Keras
keeps them (`~/.keras/datasets/`, or `$KERAS_HOME/datasets/`), and says where to put them
when they are missing.
"""

from minikeras.datasets import (
    boston_housing,
    california_housing,
    cifar10,
    cifar100,
    fashion_mnist,
    imdb,
    mnist,
    reuters,
)

__all__ = ["boston_housing", "california_housing", "cifar10", "cifar100", "fashion_mnist",
           "imdb", "mnist", "reuters"]
