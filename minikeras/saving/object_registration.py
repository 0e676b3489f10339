"""Custom objects: the only way a name in a saved file can reach user code.

A saved model names its classes; loading looks each name up. Built-in names resolve to
minikeras's own classes. Anything else must have been made known by the caller, either

    @register_keras_serializable(package="my_package")     # global, under "my_package>MyLayer"
    class MyLayer(minikeras.layers.Layer): ...

or per call / per block:

    load_model("m.keras", custom_objects={"MyLayer": MyLayer})
    with custom_object_scope({"MyLayer": MyLayer}):
        load_model("m.keras")

A name that is in none of these is refused: loading never imports a module or runs code that the
file names.
"""

import inspect

# "package>name" -> class or function, filled by register_keras_serializable.
_GLOBAL_CUSTOM_OBJECTS = {}
# object -> "package>name", for serialization.
_GLOBAL_CUSTOM_NAMES = {}
# The dicts of the `custom_object_scope` blocks currently open, innermost last.
_SCOPE_STACK = []


class CustomObjectScope:
    """Makes custom objects visible to deserialization inside a `with` block.

    Args:
        custom_objects: dict {name: class or function}; several dicts may be given.
    """

    def __init__(self, *custom_objects):
        for objects in custom_objects:
            if objects is not None and not isinstance(objects, dict):
                raise TypeError(
                    "`custom_objects` must be a dict {name: class or function}. "
                    f"Received: custom_objects={objects!r}"
                )
        merged = {}
        for objects in custom_objects:
            merged.update(objects or {})
        self.custom_objects = merged

    def __enter__(self):
        _SCOPE_STACK.append(self.custom_objects)
        return self

    def __exit__(self, *exc_info):
        _SCOPE_STACK.remove(self.custom_objects)
        return False


custom_object_scope = CustomObjectScope


def get_custom_objects():
    """The global dict of registered objects ("package>name" -> object); may be edited."""
    return _GLOBAL_CUSTOM_OBJECTS


def register_keras_serializable(package="Custom", name=None):
    """Decorator: registers a class (or function) under "package>name" for loading.

    Args:
        package: namespace of the name (default "Custom").
        name: the name within the package (default: the class or function's `__name__`).
    """
    if not isinstance(package, str) or ">" in package:
        raise ValueError(
            f"`package` must be a string without '>'. Received: package={package!r}"
        )

    def decorator(obj):
        object_name = name if name is not None else getattr(obj, "__name__", None)
        if not isinstance(object_name, str) or not object_name:
            raise ValueError(
                f"Cannot register {obj!r}: pass `name=` (it has no __name__)."
            )
        if inspect.isclass(obj) and not hasattr(obj, "get_config"):
            raise ValueError(
                f"Cannot register class {obj.__name__!r}: it needs a `get_config()` method "
                "so that it can be saved."
            )
        registered_name = f"{package}>{object_name}"
        _GLOBAL_CUSTOM_OBJECTS[registered_name] = obj
        _GLOBAL_CUSTOM_NAMES[obj] = registered_name
        return obj

    return decorator


def get_registered_name(obj):
    """The name `obj` is saved under: "package>name" if registered, else its __name__."""
    if obj in _GLOBAL_CUSTOM_NAMES:
        return _GLOBAL_CUSTOM_NAMES[obj]
    return getattr(obj, "__name__", type(obj).__name__)


def get_registered_object(name, custom_objects=None, module_objects=None):
    """The object registered under `name`, or None.

    Looked up, in order: the open `custom_object_scope` blocks (innermost first), the
    `custom_objects` argument, the global registry, then `module_objects`.
    """
    for scope in reversed(_SCOPE_STACK):
        if name in scope:
            return scope[name]
    if custom_objects and name in custom_objects:
        return custom_objects[name]
    if name in _GLOBAL_CUSTOM_OBJECTS:
        return _GLOBAL_CUSTOM_OBJECTS[name]
    if module_objects and name in module_objects:
        return module_objects[name]
    return None
