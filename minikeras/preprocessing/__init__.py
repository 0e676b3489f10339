"""`keras.preprocessing`: Keras 3 keeps this Keras 2 path for `sequence.pad_sequences` and the
`image` array helpers. minikeras has the ones NumPy suffices for."""

from minikeras.preprocessing import image, sequence

__all__ = ["image", "sequence"]
