"""`keras.saving`: saving and loading models, and making custom objects loadable."""

from minikeras.saving.object_registration import (
    CustomObjectScope,
    custom_object_scope,
    get_custom_objects,
    get_registered_name,
    get_registered_object,
    register_keras_serializable,
)
from minikeras.saving.saving_api import load_model, load_weights, save_model, save_weights
from minikeras.saving.serialization import (
    deserialize_keras_object,
    deserialize_layer,
    serialize_keras_object,
    serialize_layer,
)

__all__ = [
    "CustomObjectScope",
    "custom_object_scope",
    "deserialize_keras_object",
    "deserialize_layer",
    "get_custom_objects",
    "get_registered_name",
    "get_registered_object",
    "load_model",
    "load_weights",
    "register_keras_serializable",
    "save_model",
    "save_weights",
    "serialize_keras_object",
    "serialize_layer",
]
