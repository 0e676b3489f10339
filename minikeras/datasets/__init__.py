"""`keras.datasets`: loaders for small standard data sets, read from Keras's local cache."""

from minikeras.datasets import mnist

__all__ = ["mnist"]
