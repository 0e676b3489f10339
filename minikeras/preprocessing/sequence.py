"""`keras.preprocessing.sequence`: the Keras 2 path of `keras.utils.pad_sequences`."""

from minikeras.utils.sequence_utils import pad_sequences

__all__ = ["pad_sequences"]
