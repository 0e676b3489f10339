"""Objects to and from Keras 3's config dicts, the JSON inside every `.keras` file.

Keras describes every object the same way:

    {"module": "keras.initializers",          where the class lives
     "class_name": "GlorotUniform",           its name there
     "config": {"seed": null, ...},           its constructor arguments
     "registered_name": null}                 "package>Name" for custom objects, else null

minikeras's `get_config()` methods return plain constructor arguments, with nested objects as
{"class_name", "config"}. This module is the mapping layer between the two:

- `serialize_keras_object(obj)` writes what Keras writes (module, registered_name, a DTypePolicy
  dict for `dtype`, `build_config` for layers of a built Sequential, `compile_config` for a
  compiled model).
- `deserialize_keras_object(config)` reads what Keras writes. Class names are looked up among
  minikeras's own classes of the right kind (layers, initializers, ...) and among the objects
  the caller registered (see object_registration.py), never imported from the module the file
  names, so loading a file cannot run code from it. Keras-only arguments that minikeras does
  not implement are dropped when they hold their "off" value (None or False, e.g.
  `quantization_config: null`) and refused otherwise, so a model is never silently changed.
"""

import inspect
import re
import threading

import numpy as np

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.saving import object_registration
from minikeras.utils.naming import to_snake_case

# Keras's public module of each kind of object, as written in the "module" field.
_KERAS_MODULES = {
    "layers": "keras.layers",
    "models": "keras",
    "initializers": "keras.initializers",
    "regularizers": "keras.regularizers",
    "constraints": "keras.constraints",
    "optimizers": "keras.optimizers",
    "schedules": "keras.optimizers.schedules",
    "losses": "keras.losses",
    "metrics": "keras.metrics",
    "activations": "keras.activations",
}
# Config keys whose value is an object of a known kind, by suffix.
_KEY_SUFFIX_KINDS = (
    ("_initializer", "initializers"),
    ("_regularizer", "regularizers"),
    ("_constraint", "constraints"),
)


class SerializationError(ValueError):
    """A config that cannot be turned into a minikeras object (unknown class, bad value)."""


# --------------------------------------------------------------------------- class lookup


def _namespaces():
    """kind -> (module holding the built-ins, base class they derive from)."""
    from minikeras import (
        constraints,
        initializers,
        layers,
        losses,
        metrics,
        models,
        optimizers,
        regularizers,
    )
    from minikeras.optimizers import schedules

    return {
        "layers": (layers, layers.Layer),
        "models": (models, models.Model),
        "initializers": (initializers, initializers.Initializer),
        "regularizers": (regularizers, regularizers.Regularizer),
        "constraints": (constraints, constraints.Constraint),
        "optimizers": (optimizers, optimizers.Optimizer),
        "schedules": (schedules, schedules.LearningRateSchedule),
        "losses": (losses, losses.Loss),
        "metrics": (metrics, metrics.Metric),
    }


def _builtin_class(kind, class_name):
    """minikeras's own class `class_name` of this kind, or None."""
    namespaces = _namespaces()
    kinds = [kind] if kind in namespaces else list(namespaces)
    if kind == "layers":
        kinds.append("models")          # a Sequential nested in a Sequential
    for candidate in kinds:
        module, base = namespaces[candidate]
        cls = getattr(module, class_name, None)
        if cls is None and candidate == "schedules":
            cls = getattr(module, "_SCHEDULES", {}).get(class_name)
        if cls is None and candidate == "layers":
            cls = _layer_from_own_file(class_name)
        if isinstance(cls, type) and issubclass(cls, base):
            return cls
    return None


def _layer_from_own_file(class_name):
    """A layer that minikeras/layers/<snake_name>.py defines but the package does not export
    (yet). Only files that exist in minikeras's own layers folder are considered."""
    import importlib
    import pkgutil

    from minikeras import layers

    module_name = keras_snake_case(class_name)
    own_modules = {info.name for info in pkgutil.iter_modules(layers.__path__)}
    if module_name not in own_modules:
        return None
    module = importlib.import_module(f"minikeras.layers.{module_name}")
    return getattr(module, class_name, None)


def _kind_of_instance(obj):
    return _kind_of_class(type(obj))


def _kind_from_module(module):
    """"keras.layers" or "keras.src.layers.core.dense" -> "layers"; "keras" -> "models"."""
    if not isinstance(module, str):
        return None
    parts = module.split(".")
    if parts[0] != "keras":
        return None
    if len(parts) > 2 and parts[1] == "src":
        parts = ["keras"] + parts[2:]
    if len(parts) == 1:
        return "models"
    if parts[1:3] == ["optimizers", "schedules"]:
        return "schedules"
    return parts[1] if parts[1] in _KERAS_MODULES else None


def _is_builtin(cls):
    """True for minikeras's own classes (saved with Keras's module and no registered name)."""
    if cls in object_registration._GLOBAL_CUSTOM_NAMES:
        return False
    kind = _kind_of_class(cls)
    return kind is not None and _builtin_class(kind, cls.__name__) is cls


def _kind_of_class(cls):
    """The kind of a class ("layers", "optimizers", ...); a model is a "models", not a
    "layers", although Model derives from Layer."""
    if not isinstance(cls, type):
        return None
    namespaces = _namespaces()
    for kind, (_, base) in namespaces.items():
        if kind != "layers" and issubclass(cls, base):
            return kind
    return "layers" if issubclass(cls, namespaces["layers"][1]) else None


def _resolve_class(entry, kind, where):
    """The class an entry {"module", "class_name", "registered_name"} names, or an error."""
    class_name = entry.get("class_name")
    registered_name = entry.get("registered_name")
    module = entry.get("module")
    if not isinstance(class_name, str):
        raise SerializationError(
            f"{where}: expected a string `class_name`. Received: class_name={class_name!r}"
        )
    if class_name == "__lambda__":
        raise SerializationError(
            f"{where}: the file contains Python code (a lambda). minikeras never runs code "
            "from a file, whatever `safe_mode` says."
        )
    for name in (registered_name, class_name):
        if isinstance(name, str):
            obj = object_registration.get_registered_object(name)
            if obj is not None:
                return obj
    is_keras_module = module is None or (isinstance(module, str) and (
        module == "keras" or module.startswith("keras.")))
    if is_keras_module and registered_name in (None, class_name):
        cls = _builtin_class(kind or _kind_from_module(module), class_name)
        if cls is not None:
            return cls
        if class_name in ("Functional", "Model"):
            from minikeras.models.functional import Functional

            return Functional
        raise SerializationError(
            f"{where}: minikeras has no {_kind_label(kind, module)} named {class_name!r} "
            "(it is not one of the Keras classes minikeras implements)."
        )
    raise SerializationError(
        f"{where}: unknown class {registered_name or class_name!r} (module {module!r}). "
        "If it is a custom object, pass it in `custom_objects={"
        f"{(registered_name or class_name)!r}: {class_name}}}` or decorate it with "
        "`@minikeras.saving.register_keras_serializable()`; minikeras never imports "
        "code named by a file."
    )


def _kind_label(kind, module):
    kind = kind or _kind_from_module(module)
    return {"layers": "layer", "models": "model", "initializers": "initializer",
            "regularizers": "regularizer", "constraints": "constraint",
            "optimizers": "optimizer", "schedules": "learning rate schedule",
            "losses": "loss", "metrics": "metric"}.get(kind, "class")


# ----------------------------------------------------------------------------- to Keras


def serialize_keras_object(obj):
    """`obj` as Keras 3 writes it: a dict {"module", "class_name", "config",
    "registered_name"} for objects, plain JSON values for the rest."""
    if obj is None or isinstance(obj, (bool, str)):
        return obj
    if isinstance(obj, (int, float)):
        return obj
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, (list, tuple)):
        return [serialize_keras_object(item) for item in obj]
    if isinstance(obj, dict):
        return {key: serialize_keras_object(value) for key, value in obj.items()}
    from minikeras.activations import ActivationFunction

    if isinstance(obj, ActivationFunction):
        return obj.__name__
    kind = _kind_of_instance(obj)
    if kind is None and hasattr(obj, "get_config"):
        kind = "custom"
    if kind is None:
        if callable(obj):
            return _serialize_function(obj)
        raise SerializationError(
            f"Cannot serialize {obj!r} (of type {type(obj).__name__}): it has no get_config()."
        )
    if kind == "models":
        return _serialize_model(obj)
    if kind == "layers":
        return _serialize_layer_entry(obj)
    return _entry(type(obj), _to_keras_config(obj.get_config(), kind), kind)


def _entry(cls, config, kind):
    if _is_builtin(cls):
        module, registered_name = _KERAS_MODULES.get(kind, "keras"), None
    else:
        module = cls.__module__
        registered_name = object_registration.get_registered_name(cls)
    return {"module": module, "class_name": cls.__name__, "config": config,
            "registered_name": registered_name}


def _serialize_function(fn):
    """Keras's form for a plain function (a loss or metric given as a function)."""
    name = object_registration.get_registered_name(fn)
    return {"module": "builtins", "class_name": "function", "config": name,
            "registered_name": "function"}


def _dtype_policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _to_keras_config(config, kind=None):
    """A minikeras get_config() dict in Keras's form (nested objects get module and
    registered_name, tuples become lists)."""
    result = {}
    for key, value in config.items():
        if kind == "layers" and key == "batch_input_shape":
            continue            # Keras 3 keeps input shapes in the InputLayer only
        if kind == "layers" and key == "dtype" and isinstance(value, str):
            result[key] = _dtype_policy(value)
        elif _is_serialized_object(value):
            result[key] = _nested_to_keras(key, value)
        elif isinstance(value, (list, tuple, dict)) or not _is_plain(value):
            result[key] = _plain_to_keras(value)
        else:
            result[key] = value
    return result


def _is_plain(value):
    return value is None or isinstance(value, (bool, int, float, str))


def _plain_to_keras(value):
    if isinstance(value, (list, tuple)):
        return [_plain_to_keras(v) for v in value]
    if isinstance(value, dict):
        if _is_serialized_object(value):
            return _nested_to_keras(None, value)
        return {k: _plain_to_keras(v) for k, v in value.items()}
    if _is_plain(value):
        return value
    return serialize_keras_object(value)


def _is_serialized_object(value):
    return isinstance(value, dict) and "class_name" in value and "config" in value


def _nested_to_keras(key, value):
    """A minikeras {"class_name", "config"} (or an already Keras-form dict) in Keras's form."""
    if "module" in value and "registered_name" in value:
        return value
    kind = "schedules" if key == "learning_rate" else None
    for suffix, suffix_kind in _KEY_SUFFIX_KINDS:
        if key is not None and key.endswith(suffix):
            kind = suffix_kind
    class_name = value["class_name"]
    cls = _builtin_class(kind, class_name) if kind else None
    if cls is None:
        for candidate in _namespaces():
            cls = _builtin_class(candidate, class_name)
            if cls is not None:
                kind = candidate
                break
    if cls is None:
        for obj, registered in object_registration._GLOBAL_CUSTOM_NAMES.items():
            if getattr(obj, "__name__", None) == class_name:
                return {"module": obj.__module__, "class_name": class_name,
                        "config": _plain_to_keras(value["config"]),
                        "registered_name": registered}
        return {"module": None, "class_name": class_name,
                "config": _plain_to_keras(value["config"]), "registered_name": class_name}
    return {"module": _KERAS_MODULES[kind], "class_name": class_name,
            "config": _to_keras_config(value["config"], kind), "registered_name": None}


def _serialize_layer_entry(layer, input_shape=None):
    from minikeras.layers import InputLayer

    config = layer.get_config()
    if isinstance(layer, InputLayer):
        keras_config = _plain_to_keras(config)
    else:
        keras_config = _to_keras_config(config, "layers")
    entry = _entry(type(layer), keras_config, "layers")
    if input_shape is not None and layer.built and not isinstance(layer, InputLayer):
        entry["build_config"] = {"input_shape": list(input_shape)}
    return entry


def _serialize_model(model):
    entry = _serialize_model_entry(model)
    if not model.trainable:
        _freeze(entry["config"]["layers"])
    return entry


def _freeze(layer_entries):
    """Keras writes every layer of a frozen model as `trainable: false` (setting a model's
    trainable sets its layers'), and reads them so: a frozen model's layers say it too."""
    for entry in layer_entries:
        config = entry.get("config")
        if entry.get("class_name") == "InputLayer" or not isinstance(config, dict):
            continue
        config["trainable"] = False
        if isinstance(config.get("layers"), list):
            _freeze(config["layers"])


def _serialize_model_entry(model):
    from minikeras.models import Sequential
    from minikeras.models.functional import Functional

    if isinstance(model, Functional):
        return _serialize_functional(model)
    if not isinstance(model, Sequential):
        return _serialize_subclassed(model)
    config = {"name": model.name, "trainable": model.trainable,
              "dtype": _dtype_policy(model.dtype)}
    layers = []
    shape = None
    if model._input_layer is not None:
        layers.append(_serialize_layer_entry(model._input_layer))
        shape = model._input_layer.batch_shape
    for layer in model.layers:
        layers.append(_serialize_layer_entry(layer, shape if model.built else None))
        if shape is not None and model.built:
            shape = tuple(layer.compute_output_shape(shape))
    config["layers"] = layers
    if model.built and model._input_layer is not None:
        config["build_input_shape"] = list(model._input_layer.batch_shape)
    entry = _entry(type(model), config, "models")
    if model.built and model._input_layer is not None:
        entry["build_config"] = {"input_shape": list(model._input_layer.batch_shape)}
    if getattr(model, "compiled", False):
        entry["compile_config"] = compile_config(model)
    return entry


def _serialize_subclassed(model):
    """A subclassed model, as Keras writes one: its class (found again by its registered
    name, never from the file), its get_config(), the shape it was built on, and how it was
    compiled. Its layers are not described: the class's __init__ makes them again."""
    entry = _serialize_layer_entry(model)
    shape = getattr(model, "_built_on_shape", None)
    if model.built and shape is not None:
        entry["build_config"] = {"input_shape": _plain_to_keras(shape)}
    entry["compile_config"] = compile_config(model) if getattr(model, "compiled", False) else {}
    return entry


def compile_config(model):
    """What Keras stores about `compile()`: optimizer, loss, metrics and their weights."""
    weighted = model._weighted_metric_identifiers
    # One weight per output; None when they are all 1 (Keras's default).
    loss_weights = list(getattr(model, "_output_loss_weights", None) or [model.loss_weight])
    return {
        "optimizer": serialize_keras_object(model.optimizer),
        "loss": _serialize_loss(model.loss),
        "loss_weights": None if all(w == 1.0 for w in loss_weights) else loss_weights,
        "metrics": _serialize_metric_list(model._metric_identifiers),
        "weighted_metrics": _serialize_metric_list(weighted) if weighted else None,
        "run_eagerly": False,
        "steps_per_execution": 1,
        "jit_compile": False,
    }


def _serialize_loss(loss):
    """A built-in loss with default arguments is written by name ("mse"), as users write it;
    a list or dict of losses (one per output) keeps its shape."""
    if isinstance(loss, (list, tuple)):
        return [_serialize_loss(item) for item in loss]
    if isinstance(loss, dict):
        return {key: _serialize_loss(item) for key, item in loss.items()}
    if loss is None or isinstance(loss, str):
        return loss
    from minikeras.losses import LOSS_CLASSES

    for name, cls in LOSS_CLASSES.items():
        if type(loss) is cls and cls().get_config() == loss.get_config():
            return name
    return serialize_keras_object(loss)


def _serialize_metric_list(identifiers):
    """Metrics as compile() got them: a list, a list of lists or a dict by output name."""
    if not identifiers:
        return None
    if isinstance(identifiers, dict):
        return {key: _serialize_metric_list(value) for key, value in identifiers.items()}
    if not isinstance(identifiers, (list, tuple)):
        return _serialize_metric_list([identifiers])
    result = []
    for identifier in identifiers:
        if isinstance(identifier, str) or identifier is None:
            result.append(identifier)
        elif isinstance(identifier, (list, tuple, dict)):
            result.append(_serialize_metric_list(identifier))
        else:
            result.append(serialize_keras_object(identifier))
    return result


# --------------------------------------------------------------------------- from Keras


def deserialize_keras_object(config, custom_objects=None, safe_mode=True, kind=None,
                             where="config"):
    """The minikeras object a Keras config describes.

    Args:
        config: a dict {"class_name", "config", ...} (or a plain JSON value, returned as is).
        custom_objects: dict {name: class or function} for custom objects.
        safe_mode: accepted for Keras compatibility; minikeras is always safe: it never
            runs code stored in a file (lambdas are refused either way).
        kind: the kind of object expected ("layers", "initializers", ...), if known.
        where: a description of the origin (a file name), quoted in error messages.
    """
    with object_registration.CustomObjectScope(custom_objects or {}):
        return _deserialize(config, kind, where)


# How deep config objects may nest (a model in a model in a model ..., an initializer inside
# a layer): far beyond any real model, and far below Python's recursion limit, so that a file
# nesting objects without end gets a clear error instead of exhausting the stack.
MAX_CONFIG_DEPTH = 64
_DEPTH = threading.local()


def _deserialize(config, kind, where):
    if not isinstance(config, dict):
        return config
    depth = getattr(_DEPTH, "value", 0)
    if depth >= MAX_CONFIG_DEPTH:
        raise SerializationError(
            f"{where}: objects are nested more than {MAX_CONFIG_DEPTH} levels deep (models "
            "inside models, or objects inside objects); minikeras refuses such a config."
        )
    _DEPTH.value = depth + 1
    try:
        return _deserialize_entry(config, kind, where)
    finally:
        _DEPTH.value = depth


def _deserialize_entry(config, kind, where):
    if "class_name" not in config:
        raise SerializationError(
            f"{where}: expected a dict with a 'class_name' key. Received keys: "
            f"{sorted(config)}"
        )
    class_name = config["class_name"]
    if class_name == "function" or config.get("registered_name") == "function":
        return _deserialize_function(config, kind, where)
    if class_name == "DTypePolicy" or class_name == "FloatDTypePolicy":
        return _dtype_name(config, where)
    cls = _resolve_class(config, kind, where)
    inner = config.get("config", {})
    if inner is None:
        inner = {}
    if not isinstance(inner, dict):
        raise SerializationError(
            f"{where}: the config of {class_name!r} must be a dict. Received: {inner!r}"
        )
    from minikeras.models import Sequential

    if isinstance(cls, type) and issubclass(cls, Sequential):
        return _deserialize_sequential(cls, config, where)
    from minikeras.models.functional import Functional

    if isinstance(cls, type) and issubclass(cls, Functional):
        return _deserialize_functional(cls, config, where)
    obj_kind = _kind_of_class(cls) if isinstance(cls, type) else kind
    arguments = _from_keras_config(inner, cls, obj_kind, where)
    try:
        if isinstance(cls, type) and hasattr(cls, "from_config"):
            obj = cls.from_config(arguments)
        else:
            obj = cls(**arguments)
    except (TypeError, ValueError) as error:
        raise SerializationError(
            f"{where}: cannot create {class_name} from its config: {error}"
        ) from error
    _maybe_build(obj, config, where)
    from minikeras.models import Model

    if isinstance(obj, Model) and config.get("compile_config"):     # a subclassed model
        compile_from_config(obj, config["compile_config"], where)
    return obj


def _dtype_name(config, where):
    name = (config.get("config") or {}).get("name")
    if not isinstance(name, str):
        raise SerializationError(f"{where}: a DTypePolicy needs a name. Received: {config!r}")
    return name


def _deserialize_function(config, kind, where):
    """A function named in the file: a built-in loss/metric/activation or a registered one."""
    name = config.get("config")
    if not isinstance(name, str):
        raise SerializationError(f"{where}: a function entry needs a name. Received: {config!r}")
    obj = object_registration.get_registered_object(name)
    if obj is not None:
        return obj
    from minikeras import activations, losses, metrics

    modules = {"losses": [losses], "metrics": [metrics], "activations": [activations]}.get(
        kind, [losses, metrics, activations])
    for module in modules:
        fn = getattr(module, name, None)
        if callable(fn) and not isinstance(fn, type):
            return fn
    raise SerializationError(
        f"{where}: unknown function {name!r}. If it is a custom function, pass it in "
        "`custom_objects` or register it with `register_keras_serializable()`."
    )


def _accepted_arguments(cls):
    """Names the constructor of `cls` accepts, or None if it takes any keyword."""
    names = set()
    for klass in inspect.getmro(cls):
        init = klass.__dict__.get("__init__")
        if init is None:
            continue
        try:
            parameters = inspect.signature(init).parameters.values()
        except (TypeError, ValueError):
            return None
        has_var_keyword = False
        for parameter in parameters:
            if parameter.kind is inspect.Parameter.VAR_KEYWORD:
                has_var_keyword = True
            elif parameter.name != "self":
                names.add(parameter.name)
        if not has_var_keyword:
            return names
    from minikeras.layers.layer import _LEGACY_INPUT_ARGS, Layer

    if issubclass(cls, Layer):
        return names | set(_LEGACY_INPUT_ARGS)
    return None


def _from_keras_config(config, cls, kind, where):
    """Keras's constructor arguments -> minikeras's: nested objects are deserialized and
    Keras-only arguments are dropped when they are off, refused when they are on."""
    accepted = _accepted_arguments(cls) if isinstance(cls, type) else None
    builtin = isinstance(cls, type) and _is_builtin(cls)
    arguments = {}
    for key, value in config.items():
        if builtin and accepted is not None and key not in accepted:
            if value is None or value is False:
                continue
            raise SerializationError(
                f"{where}: {cls.__name__} has argument {key}={value!r}, which minikeras "
                "does not support."
            )
        arguments[key] = _argument_from_keras(key, value, where)
    return arguments


def _argument_from_keras(key, value, where):
    if isinstance(value, dict) and "class_name" in value:
        kind = None
        for suffix, suffix_kind in _KEY_SUFFIX_KINDS:
            if key.endswith(suffix):
                kind = suffix_kind
        if key == "learning_rate":
            kind = "schedules"
        if key == "activation":
            return value
        return _deserialize(value, kind or _kind_from_module(value.get("module")),
                            f"{where} ({key})")
    if isinstance(value, list) and key in _TUPLE_ARGUMENTS:
        return _to_tuple(value)
    return value


# Keras writes tuples as JSON lists; these arguments are tuples in minikeras's configs.
_TUPLE_ARGUMENTS = {"batch_shape", "kernel_size", "strides", "pool_size", "dilation_rate",
                    "padding", "target_shape", "noise_shape", "cropping", "size", "dims"}


def _to_tuple(value):
    return tuple(_to_tuple(v) if isinstance(v, list) else v for v in value)


def _maybe_build(obj, config, where):
    from minikeras.layers import Layer

    build_config = config.get("build_config")
    if not isinstance(obj, Layer) or obj.built or not isinstance(build_config, dict):
        return
    input_shape = build_config.get("input_shape")
    if isinstance(input_shape, list) and all(d is None or isinstance(d, int)
                                             for d in input_shape):
        try:
            obj._maybe_build(tuple(input_shape))
        except (TypeError, ValueError) as error:
            raise SerializationError(
                f"{where}: cannot build layer {obj.name!r} for input shape "
                f"{tuple(input_shape)}: {error}"
            ) from error


def _deserialize_sequential(cls, entry, where):
    config = dict(entry.get("config") or {})
    layer_entries = config.get("layers", [])
    if not isinstance(layer_entries, list):
        raise SerializationError(
            f"{where}: a Sequential config needs a list of layers. "
            f"Received: layers={layer_entries!r}"
        )
    name = config.get("name")
    model = cls(name=name, trainable=config.get("trainable", True))
    for i, layer_entry in enumerate(layer_entries):
        layer = _deserialize(layer_entry, "layers", f"{where}, layer {i}")
        try:
            model.add(layer)
        except (TypeError, ValueError) as error:
            raise SerializationError(
                f"{where}: cannot add layer {i} ({getattr(layer, 'name', layer)!r}) to the "
                f"model: {error}"
            ) from error
    if not model.built:
        shape = config.get("build_input_shape")
        build_config = entry.get("build_config")
        if shape is None and isinstance(build_config, dict):
            shape = build_config.get("input_shape")
        if isinstance(shape, list) and model.layers:
            try:
                model.build(tuple(shape))
            except (TypeError, ValueError) as error:
                raise SerializationError(
                    f"{where}: cannot build the model for input shape {tuple(shape)}: {error}"
                ) from error
    if entry.get("compile_config"):
        compile_from_config(model, entry["compile_config"], where)
    return model


def compile_from_config(model, config, where="config"):
    """Calls model.compile() with what `compile_config` stored."""
    if not isinstance(config, dict):
        raise SerializationError(f"{where}: compile_config must be a dict. Received: {config!r}")
    optimizer = config.get("optimizer", "rmsprop")
    if isinstance(optimizer, dict):
        optimizer = _deserialize(optimizer, "optimizers", f"{where} (optimizer)")
    loss = _deserialize_per_output(config.get("loss"), "losses", f"{where} (loss)")
    metrics = _deserialize_metric_list(config.get("metrics"), where)
    weighted = _deserialize_metric_list(config.get("weighted_metrics"), where)
    try:
        model.compile(optimizer=optimizer, loss=loss, loss_weights=config.get("loss_weights"),
                      metrics=metrics, weighted_metrics=weighted)
    except (TypeError, ValueError, NotImplementedError) as error:
        raise SerializationError(
            f"{where}: cannot restore the compiled state ({error}). Load with compile=False "
            "and call compile() yourself."
        ) from error


def _deserialize_metric_list(identifiers, where):
    if identifiers is None:
        return None
    if isinstance(identifiers, dict) and "class_name" not in identifiers:
        return {key: _deserialize_metric_list(value, where)
                for key, value in identifiers.items()}
    if not isinstance(identifiers, list):
        raise SerializationError(f"{where}: metrics must be a list. Received: "
                                 f"{_short(identifiers)}")
    return [_deserialize_per_output(m, "metrics", f"{where} (metrics)") for m in identifiers]


def _deserialize_per_output(value, kind, where):
    """A loss or metric, or a list / dict of them (one per output, one level deep)."""
    if isinstance(value, dict) and "class_name" in value:
        return _deserialize(value, kind, where)
    if isinstance(value, dict):
        return {key: _deserialize(item, kind, where) if isinstance(item, dict) else item
                for key, item in value.items()}
    if isinstance(value, list):
        return [_deserialize(item, kind, where) if isinstance(item, dict) else item
                for item in value]
    return value


# ------------------------------------------------------------------ functional models
#
# Keras 3 writes a functional model as its list of layers, each with the calls ("inbound
# nodes") that connect it:
#
#   {"class_name": "Functional", "config": {
#       "name": "m", "trainable": true,
#       "layers": [{...layer entry..., "name": "dense",
#                   "inbound_nodes": [{"args": [<tensor>], "kwargs": {}}]}, ...],
#       "input_layers": [["input_layer", 0, 0]], "output_layers": [["dense", 0, 0]]}}
#
#   <tensor> = {"class_name": "__keras_tensor__",
#               "config": {"shape": [null, 4], "dtype": "float32",
#                          "keras_history": [layer name, node index, tensor index]}}
#
# A layer called on a list (a merge layer) has the list as its one argument. Node indices
# count only the calls that belong to this model. In input_layers / output_layers Keras counts
# a nested functional model's calls from 1, not 0 (it subtracts the 1 again when loading).


def _serialize_functional(model):
    from minikeras.models.functional import Functional
    from minikeras.models.graph import order_nodes

    nodes, layers = order_nodes(model.inputs, model.outputs)
    own = {id(node) for node in nodes}

    def new_index(layer, node_index):
        """The index of a call among this model's calls of the layer."""
        return sum(1 for node in layer._inbound_nodes[:node_index] if id(node) in own)

    def tensor_config(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        return {"class_name": "__keras_tensor__",
                "config": {"shape": list(tensor.shape), "dtype": tensor.dtype,
                           "keras_history": [layer.name, new_index(layer, node_index),
                                             tensor_index]}}

    def endpoint(tensor):
        layer, node_index, tensor_index = tensor._keras_history
        offset = 1 if isinstance(layer, Functional) else 0
        return [layer.name, new_index(layer, node_index) + offset, tensor_index]

    entries = []
    for layer in layers:
        calls = [node for node in layer._inbound_nodes if id(node) in own and not node.is_input]
        if _kind_of_instance(layer) == "models":
            entry = _serialize_model(layer)
        else:
            input_shape = None
            if calls:
                shapes = [list(t.shape) for t in calls[0].input_tensors]
                input_shape = shapes if calls[0].list_input else shapes[0]
            entry = _serialize_layer_entry(layer, input_shape)
            if calls and calls[0].tensor_names is not None and "build_config" in entry:
                entry["build_config"] = _shapes_dict(layer, calls[0])
        entry["name"] = layer.name
        entry["inbound_nodes"] = [_node_config(node, tensor_config, layer) for node in calls]
        entries.append(entry)

    config = {"name": model.name, "trainable": model.trainable, "layers": entries,
              "input_layers": _structure(model, "input", [endpoint(t) for t in model.inputs]),
              "output_layers": _structure(model, "output",
                                          [endpoint(t) for t in model.outputs])}
    entry = {"module": "keras.src.models.functional", "class_name": "Functional",
             "config": config, "registered_name": "Functional",
             "build_config": {"input_shape": None}}
    if getattr(model, "compiled", False):
        entry["compile_config"] = compile_config(model)
    return entry


def _shapes_dict(layer, node):
    """Keras's build_config for a layer built from several named tensors: their shapes, as
    `{"query_shape": ..., "value_shape": ...}`, for the ones its build takes."""
    parameters = inspect.signature(layer.build).parameters
    return {"shapes_dict": {f"{name}_shape": list(tensor.shape)
                            for name, tensor in zip(node.tensor_names, node.input_tensors)
                            if f"{name}_shape" in parameters}}


def _node_config(node, tensor_config, layer):
    """One call as Keras writes it: {"args": [...], "kwargs": {...}}, tensors as configs."""
    args, kwargs = node.call_arguments()

    def encode(value):
        if isinstance(value, list):
            return [encode(item) for item in value]
        return tensor_config(value) if isinstance(value, KerasTensor) else value

    kwargs = {key: encode(value) for key, value in kwargs.items()}
    if _kind_of_instance(layer) == "models":
        kwargs["mask"] = None
    return {"args": [encode(arg) for arg in args], "kwargs": kwargs}


def _structure(model, which, items):
    """The items arranged as the model's inputs (or outputs) were given: a dict by key, a list,
    or the single item."""
    keys = getattr(model, f"_{which}_keys")
    if keys is not None:
        return dict(zip(keys, items, strict=True))
    if getattr(model, f"_{which}s_as_list"):
        return items
    return items[0]


def _deserialize_functional(cls, entry, where):
    """Rebuilds a functional model by calling each layer on the tensors its inbound nodes
    name. Only the file's lists are walked, each once per pass, and a pass that connects
    nothing ends the loading with an error, so a file cannot make this loop for long."""
    config = entry.get("config")
    if not isinstance(config, dict):
        raise SerializationError(f"{where}: a Functional config must be a dict.")
    layer_entries = config.get("layers")
    if not isinstance(layer_entries, list) or not layer_entries:
        raise SerializationError(
            f"{where}: a Functional config needs a list of layers. "
            f"Received: layers={_short(layer_entries)}"
        )
    from minikeras.layers import Layer

    created = {}
    pending = []                # [layer, list of node entries still to connect]
    for i, layer_entry in enumerate(layer_entries):
        if not isinstance(layer_entry, dict):
            raise SerializationError(f"{where}, layer {i}: expected a dict. "
                                     f"Received: {_short(layer_entry)}")
        name = layer_entry.get("name")
        nodes = layer_entry.get("inbound_nodes", [])
        if not isinstance(name, str) or not isinstance(nodes, list):
            raise SerializationError(
                f"{where}, layer {i}: each layer needs a string `name` and a list "
                f"`inbound_nodes`. Received: name={_short(name)}, inbound_nodes={_short(nodes)}"
            )
        if name in created:
            raise SerializationError(
                f"{where}: the name {name!r} is used by two layers. All layer names should "
                "be unique."
            )
        layer = _deserialize(layer_entry, "layers", f"{where}, layer {name!r}")
        if not isinstance(layer, Layer):
            raise SerializationError(f"{where}, layer {name!r}: not a layer "
                                     f"({type(layer).__name__}).")
        created[name] = layer
        pending.append([layer, list(nodes)])

    while any(nodes for _, nodes in pending):
        connected = False
        for item in pending:
            layer, nodes = item
            while nodes:
                arguments = _node_arguments(nodes[0], created, f"{where}, layer {layer.name!r}")
                if arguments is None:
                    break           # an input is made by a call not connected yet
                args, kwargs = arguments
                try:
                    layer(*args, **kwargs)
                except (TypeError, ValueError) as error:
                    raise SerializationError(
                        f"{where}: cannot call layer {layer.name!r} on its inputs: {error}"
                    ) from error
                nodes.pop(0)
                connected = True
        if not connected:
            stuck = [layer.name for layer, nodes in pending if nodes]
            raise SerializationError(
                f"{where}: invalid Functional model configuration. The graph has loops or "
                f"disconnected nodes; these layers' calls cannot be connected: {stuck}"
            )

    inputs = _endpoints(config.get("input_layers"), created, f"{where} (input_layers)")
    outputs = _endpoints(config.get("output_layers"), created, f"{where} (output_layers)")
    try:
        model = cls(inputs, outputs, name=config.get("name"),
                    trainable=config.get("trainable", True))
    except (TypeError, ValueError) as error:
        raise SerializationError(f"{where}: cannot build the functional model: {error}") \
            from error
    if entry.get("compile_config"):
        compile_from_config(model, entry["compile_config"], where)
    return model


def _node_arguments(node, created, where):
    """What a node entry says to call its layer with: (args, kwargs), where args holds a
    KerasTensor or a list of them (a layer called on a list), then any further tensors
    (MultiHeadAttention's value), and kwargs the call's keywords, tensors among them. None
    while one of the tensors is not made yet."""
    if isinstance(node, list):
        # Keras 2's form: [[layer name, node index, tensor index, kwargs], ...]
        histories = []
        for item in node:
            if not isinstance(item, list) or len(item) not in (3, 4):
                raise SerializationError(f"{where}: invalid inbound node {_short(node)}")
            histories.append(item[:3])
        tensors = [_tensor_from_history(h, created, where) for h in histories]
        if any(t is None for t in tensors):
            return None
        return [tensors if len(tensors) > 1 else tensors[0]], {}
    if not isinstance(node, dict):
        raise SerializationError(f"{where}: invalid inbound node {_short(node)}")
    args, kwargs = node.get("args"), node.get("kwargs", {})
    if not isinstance(args, list) or not args or len(args) > _MAX_CALL_ARGUMENTS:
        raise SerializationError(
            f"{where}: a call needs 1 to {_MAX_CALL_ARGUMENTS} arguments. "
            f"Received: args={_short(args)}"
        )
    if not isinstance(kwargs, dict) or len(kwargs) > _MAX_CALL_ARGUMENTS:
        raise SerializationError(
            f"{where}: unsupported call arguments. Received: kwargs={_short(kwargs)}"
        )
    decoded_args = []
    for arg in args:
        value = _call_value(arg, created, where, allow_list=True)
        if value is _NOT_YET:
            return None
        decoded_args.append(value)
    decoded_kwargs = {}
    for key, item in kwargs.items():
        if item is None or key == "training":
            continue            # Keras writes mask=None, training=None: the defaults
        value = _call_value(item, created, where, allow_list=False)
        if value is _NOT_YET:
            return None
        decoded_kwargs[key] = value
    return decoded_args, decoded_kwargs


# A call in a file names at most this many arguments (MultiHeadAttention takes ten).
_MAX_CALL_ARGUMENTS = 16
_NOT_YET = object()


def _call_value(item, created, where, allow_list):
    """A call argument from a file: a tensor config, a list of them (allow_list), or a plain
    bool / int / float / string keyword value. _NOT_YET while a tensor is not made yet."""
    if isinstance(item, (bool, int, float, str)):
        return item
    if isinstance(item, list) and allow_list and len(item) <= _MAX_CALL_ARGUMENTS:
        tensors = [_tensor_from_config(t, created, where) for t in item]
        return _NOT_YET if any(t is None for t in tensors) else tensors
    tensor = _tensor_from_config(item, created, where)
    return _NOT_YET if tensor is None else tensor


def _tensor_from_config(item, created, where):
    if not (isinstance(item, dict) and item.get("class_name") == "__keras_tensor__"
            and isinstance(item.get("config"), dict)):
        raise SerializationError(
            f"{where}: expected a tensor (class_name '__keras_tensor__'). "
            f"Received: {_short(item)}"
        )
    return _tensor_from_history(item["config"].get("keras_history"), created, where)


def _tensor_from_history(history, created, where, offset=0):
    """[layer name, node index, tensor index] -> that call's output tensor; None if the call
    is not made yet (a later pass will find it)."""
    if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
            and all(isinstance(i, int) and not isinstance(i, bool) and i >= 0
                    for i in history[1:])):
        raise SerializationError(
            f"{where}: a tensor's history must be [layer name, node index, tensor index]. "
            f"Received: {_short(history)}"
        )
    name, node_index, tensor_index = history
    layer = created.get(name)
    if layer is None:
        raise SerializationError(f"{where}: no layer named {name!r} in the model.")
    node_index -= offset
    if node_index < 0:
        raise SerializationError(f"{where}: invalid node index in {_short(history)}")
    if node_index >= len(layer._inbound_nodes):
        return None
    outputs = layer._inbound_nodes[node_index].output_tensors
    if tensor_index >= len(outputs):
        raise SerializationError(
            f"{where}: layer {name!r} has {len(outputs)} output(s). Received: {history}"
        )
    return outputs[tensor_index]


def _endpoints(value, created, where):
    """input_layers / output_layers: one [name, node, tensor], a list of them or a dict."""
    from minikeras.models.functional import Functional

    def one(history):
        layer = created.get(history[0]) if isinstance(history, list) and history else None
        offset = 1 if isinstance(layer, Functional) else 0
        tensor = _tensor_from_history(history, created, where, offset)
        if tensor is None:
            raise SerializationError(f"{where}: no such tensor {_short(history)}")
        return tensor

    if isinstance(value, list) and len(value) == 3 and isinstance(value[0], str):
        return one(value)
    if isinstance(value, list) and value:
        return [one(item) for item in value]
    if isinstance(value, dict) and value:
        return {key: one(item) for key, item in value.items()}
    raise SerializationError(f"{where}: expected tensors [name, node, tensor]. "
                             f"Received: {_short(value)}")


def _short(value, limit=200):
    """A value quoted in an error, cut to a readable length (a file may hold anything)."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


# ------------------------------------------------------------------ layer shortcuts


def serialize_layer(layer):
    """A layer (or nested model) as Keras writes it inside a model config."""
    if _kind_of_instance(layer) == "models":
        return _serialize_model(layer)
    return _serialize_layer_entry(layer)


def deserialize_layer(config, custom_objects=None):
    """The layer a config from `serialize_layer` (or from Keras) describes."""
    return deserialize_keras_object(config, custom_objects=custom_objects, kind="layers",
                                    where="layer config")


def keras_snake_case(name):
    """Keras's to_snake_case: drops non-word characters first ("Conv2D" -> "conv2d")."""
    return to_snake_case(re.sub(r"\W+", "", name))
