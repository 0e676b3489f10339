"""Layers to and from plain dicts ({"class_name": ..., "config": ...}); no code is ever run
from a config: class names are looked up among minikeras's layers and the caller's
custom_objects only."""


def serialize_layer(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize_layer(config, custom_objects=None):
    from minikeras import layers

    class_name = config["class_name"]
    cls = (custom_objects or {}).get(class_name) or getattr(layers, class_name, None)
    if cls is None or not isinstance(cls, type):
        raise ValueError(
            f"Unknown layer class {class_name!r}. If it is a custom layer, pass it in "
            "`custom_objects`."
        )
    return cls.from_config(dict(config["config"]))
