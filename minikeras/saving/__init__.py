"""`keras.saving`: model and layer serialization."""

from minikeras.saving.serialization import deserialize_layer, serialize_layer

__all__ = ["deserialize_layer", "serialize_layer"]
