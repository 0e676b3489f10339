"""minikeras: the Keras 3 API in NumPy."""

__version__ = "0.1.0"
