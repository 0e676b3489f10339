"""Keras 2's HDF5 model file (`model.save("m.h5")`), which Keras 3 still writes and reads.

The layout, as Keras 3 writes it:

    /                          attributes: keras_version, backend, model_config (the model's
                               config as JSON), training_config (compile's arguments and
                               optimizer_config, JSON; only for a compiled model)
    model_weights/             attributes: layer_names (model.layers' names, in order),
                               backend, keras_version
    model_weights/<layer>/     attribute weight_names: the paths, inside this group, of the
                               layer's arrays (trainable ones first), e.g.
                               "sequential/dense/kernel"; [] for a layer without weights
    model_weights/top_level_model_weights/   the model's own weights (none)
    optimizer_weights/         attribute weight_names ("adam/iteration", ...), the arrays
                               at those paths: optimizer.variables in order

A name list longer than 64512 bytes is split into attributes `layer_names0`,
`layer_names1`, ... (HDF5 keeps attributes in a small object header).

Loading matches arrays to layers by order, as Keras does: the file's layers that have
weights, in `layer_names` order, against the model's layers that have weights. Every path
comes from the file, so each is checked before it is followed: `weight_names` may only name
plain hard-linked groups and arrays below the layer's own group (no links, no "..", no
absolute paths), the arrays must be plain numbers stored in the file (h5_weights._Reader),
every shape is compared with the model before anything is read, and nothing in the model
changes unless every array fits. Attributes are bounded before they are read: a name list
by its length, a fixed-length string by its size; a variable-length string lives in the
file's heap, so reading it costs at most the file's own size, and its length is checked
right after.
"""

import io
import json
import os
import sys
import warnings

import numpy as np

from minikeras.saving import build_limits, h5_weights, keras_archive, serialization
from minikeras.saving.h5_weights import WeightsFileError

# Keras splits a name list into chunks so that each fits HDF5's object header.
HDF5_OBJECT_HEADER_LIMIT = 64512
# The most names a `layer_names` / `weight_names` list may hold (all its chunks together),
# the most chunks it may be split into, and the longest one name may be.
_MAX_NAMES = 100_000
_MAX_CHUNKS = 1000
_MAX_NAME_BYTES = 4096
# The JSON attributes (model_config, training_config): as large as a .keras config.json.
_MAX_JSON_BYTES = keras_archive._MAX_CONFIG_BYTES
# How deep a weight name may nest groups ("sequential/dense/kernel" is 3).
_MAX_NAME_PARTS = 32

SAVE_WARNING = (
    "You are saving your model as an HDF5 file via `model.save()` or "
    "`keras.saving.save_model(model)`. This file format is considered legacy. We recommend "
    "using instead the native Keras format, e.g. `model.save('my_model.keras')` or "
    "`keras.saving.save_model(model, 'my_model.keras')`. "
)
NO_TRAINING_CONFIG_WARNING = (
    "No training configuration found in the save file, so the model was *not* compiled. "
    "Compile it manually."
)


def log_warning(message):
    """Prints a warning as Keras's absl logging does before absl is set up."""
    print(f"WARNING:absl:{message}", file=sys.stderr)


# ------------------------------------------------------------------------------ writing


def write_model(h5file, model, include_optimizer=True):
    """Writes `model` (config, weights, compile arguments, optimizer state) into an open
    h5py File, in Keras 3's legacy layout."""
    from minikeras.saving.keras_archive import KERAS_FORMAT_VERSION

    model_config = _legacy_entry(serialization.serialize_keras_object(model))
    h5file.attrs["keras_version"] = KERAS_FORMAT_VERSION
    h5file.attrs["backend"] = "numpy"
    h5file.attrs["model_config"] = json.dumps(model_config).encode("utf8")
    compiled = getattr(model, "optimizer", None) is not None and getattr(model, "compiled",
                                                                          False)
    if include_optimizer and compiled:
        training_config = serialization.compile_config(model)
        optimizer = training_config.pop("optimizer")
        training_config["optimizer_config"] = {"class_name": optimizer["class_name"],
                                               "config": optimizer["config"]}
        h5file.attrs["training_config"] = json.dumps(training_config).encode("utf8")

    group = h5file.create_group("model_weights")
    _write_names(group, "layer_names", [layer.name for layer in model.layers])
    group.attrs["backend"] = b"numpy"
    group.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
    # Sorted by name, as Keras writes them, so no group name is a prefix written later.
    for layer in sorted(model.layers, key=lambda layer: layer.name):
        weights = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        names = _weight_paths(model, layer, weights)
        _write_arrays(group.create_group(layer.name), names,
                      [np.asarray(w.value) for w in weights])
    _write_arrays(group.create_group("top_level_model_weights"), [], [])

    if include_optimizer and compiled:
        optimizer = model.optimizer
        arrays = h5_weights.optimizer_arrays(optimizer)
        head = h5_weights._optimizer_head_size(optimizer)
        names = [f"{optimizer.name}/iteration", f"{optimizer.name}/learning_rate"][:head]
        # Keras names each slot after its variable and kind ("..._momentum"); minikeras's
        # slots carry no names, and Keras reads them back by position only.
        names += [f"{optimizer.name}/slot_{i}" for i in range(len(arrays) - head)]
        _write_arrays(h5file.create_group("optimizer_weights"), names,
                      [np.array(a) for a in arrays])


def _legacy_entry(entry):
    """A model's config as Keras's legacy writer gives it: the same as in a .keras file, but
    the model and each layer without `module`, `registered_name`, `build_config` and
    `compile_config` (the layers' own arguments keep theirs)."""
    legacy = {key: value for key, value in entry.items()
              if key not in ("module", "registered_name", "build_config", "compile_config")}
    config = legacy.get("config")
    if isinstance(config, dict) and isinstance(config.get("layers"), list):
        legacy["config"] = dict(config, layers=[_legacy_entry(layer)
                                                for layer in config["layers"]])
    return legacy


def _weight_paths(model, layer, weights):
    """Keras's variable paths: a Sequential builds its layers inside its own name scope
    ("sequential/dense/kernel"); a functional model's layers were built outside it."""
    from minikeras.models import Sequential

    prefix = f"{model.name}/" if isinstance(model, Sequential) else ""
    paths = [prefix + (w.path if "/" in w.path else f"{layer.name}/{w.path}")
             for w in weights]
    seen = {}
    for i, path in enumerate(paths):     # a nested model may repeat a path: keep them apart
        if path in seen:
            seen[path] += 1
            paths[i] = f"{path}_{seen[path]}"
        else:
            seen[path] = 0
    return paths


def _write_arrays(group, names, values):
    _write_names(group, "weight_names", names)
    for name, value in zip(names, values):
        group.create_dataset(name, data=value)


def _write_names(group, attribute, names):
    """A list of names as Keras stores it: chunked when longer than the header limit."""
    data = [name.encode("utf8") for name in names]
    too_long = [name for name in data if len(name) > HDF5_OBJECT_HEADER_LIMIT]
    if too_long:
        raise ValueError(
            f"These names are longer than {HDF5_OBJECT_HEADER_LIMIT} bytes and cannot be "
            f"saved in an HDF5 attribute: {too_long[:3]}"
        )
    array = np.asarray(data)
    chunks = 1
    while any(part.nbytes > HDF5_OBJECT_HEADER_LIMIT for part in np.array_split(array, chunks)):
        chunks += 1
    if chunks == 1:
        group.attrs[attribute] = data
        return
    for i, part in enumerate(np.array_split(array, chunks)):
        group.attrs[f"{attribute}{i}"] = part


# ------------------------------------------------------------------------------ reading


def read_model(h5file, source, file_size, custom_objects=None, compile=True):
    """The model in an open legacy HDF5 model file. file_size: its bytes (bounds the
    weights its config may ask for, as for a .keras file)."""
    reader = h5_weights._Reader(h5file, source)
    if not _has_attribute(h5file, "model_config"):
        raise ValueError(f"No model config found in the file at {source}.")
    config = _read_json(reader, h5file, "model_config")
    if not isinstance(config, dict) or "class_name" not in config or "config" not in config:
        raise ValueError(
            f"{source}: model_config does not describe a model (expected an object with "
            f"'class_name' and 'config' keys). Received: {serialization._short(config)}"
        )
    max_weight_bytes = (keras_archive._MAX_H5_EXPANSION * file_size
                        + keras_archive._MIN_WEIGHT_BUDGET)
    why = (f"this {build_limits.readable_size(file_size)} file can hold (at most "
           f"{build_limits.readable_size(max_weight_bytes)}, even compressed)")
    config = {"class_name": config["class_name"], "config": config["config"]}
    model = keras_archive._build_model(config, source, custom_objects, False,
                                       max_weight_bytes, why)
    weights = reader.group("model_weights")
    if weights is None:
        raise WeightsFileError(f"{source}: the file has no 'model_weights' group.")
    read_weights(reader, weights, "model_weights", model)
    if not compile:
        return model
    if not _has_attribute(h5file, "training_config"):
        log_warning(NO_TRAINING_CONFIG_WARNING)
        return model
    training = _read_json(reader, h5file, "training_config")
    if not isinstance(training, dict) or not isinstance(training.get("optimizer_config"),
                                                        dict):
        raise ValueError(
            f"{source}: training_config must be an object with an 'optimizer_config'. "
            f"Received: {serialization._short(training)}"
        )
    compile_config = {key: value for key, value in training.items()
                      if key != "optimizer_config"}
    compile_config["optimizer"] = training["optimizer_config"]
    serialization.compile_from_config(model, compile_config, f"{source}: training_config")
    if reader.link_class(h5file, "optimizer_weights") is not None:
        _read_optimizer(reader, model)
    return model


def read_weights(reader, group, where, model, skip_mismatch=False, by_name=False):
    """Copies the arrays of a `model_weights`-style group into the model's layers, by
    order (or, with by_name, by layer name), after checking every one of them.

    where: the group's path in the file, for messages.
    """
    source = reader.source
    layers = [layer for layer in model.layers
              if list(layer.trainable_weights) + list(layer.non_trainable_weights)]
    names = _read_names(reader, group, "layer_names", where)
    if len(names) > len(model.layers) + h5_weights._MAX_EXTRA_ENTRIES:
        raise WeightsFileError(
            f"{source}: '{where}' lists {len(names)} layers; model {model.name!r} has "
            f"{len(model.layers)}. This is not a weights file for it."
        )
    wanted = {layer.name for layer in layers}
    saved = []                                      # (layer name, [(name, dataset)])
    for name in names:
        if by_name and name not in wanted:
            continue                                # never opened
        layer_group = _child_group(reader, group, name, h5_weights._join(where, name))
        arrays = _layer_arrays(reader, layer_group, h5_weights._join(where, name))
        if arrays:
            saved.append((name, arrays))
    if by_name:
        by_layer = dict(saved)
        pairs = [(layer, (layer.name, by_layer[layer.name])) for layer in layers
                 if layer.name in by_layer]
    else:
        if len(saved) != len(layers):
            raise WeightsFileError(
                f"{source}: Layer count mismatch when loading weights from file. Model "
                f"expected {len(layers)} layers with weights, found {len(saved)} saved "
                f"layers ({[name for name, _ in saved][:20]})."
            )
        pairs = list(zip(layers, saved))
    planned = []
    for k, (layer, (name, arrays)) in enumerate(pairs):
        expected = list(layer.trainable_weights) + list(layer.non_trainable_weights)
        if len(arrays) != len(expected) and by_name and skip_mismatch:
            warnings.warn(
                f"Skipping loading of weights for layer #{k} (named {layer.name}) due to "
                f"mismatch in number of weights. Layer expects {len(expected)} weight(s). "
                f"Received {len(arrays)} saved weight(s)", stacklevel=3)
            continue
        if len(arrays) != len(expected):
            raise WeightsFileError(
                f"{source}: Weight count mismatch for layer #{k} (named {layer.name} in the "
                f"current model, {name} in the save file). Layer expects {len(expected)} "
                f"weight(s). Received {len(arrays)} saved weight(s)."
            )
        for weight, (path, dataset) in zip(expected, arrays):
            if tuple(dataset.shape) != tuple(weight.shape):
                message = (
                    f"{source}: Shape mismatch in layer #{k} (named {layer.name}) for weight "
                    f"{weight.path}. Weight expects shape {tuple(weight.shape)}. Received "
                    f"saved weight with shape {tuple(dataset.shape)} (at "
                    f"'{h5_weights._join(where, name, path)}')."
                )
                if not skip_mismatch:
                    raise WeightsFileError(message)
                warnings.warn(f"Skipping: {message}", stacklevel=3)
                continue
            planned.append((weight, dataset))
    if reader.link_class(group, "top_level_model_weights") is not None:
        top = _child_group(reader, group, "top_level_model_weights",
                           h5_weights._join(where, "top_level_model_weights"))
        count = len(_read_names(reader, top, "weight_names", "top_level_model_weights"))
        if count:       # a minikeras model has no weights of its own, only its layers'
            raise WeightsFileError(
                f"{source}: Weight count mismatch for top-level weights when loading weights "
                f"from file. Model expects 0 top-level weight(s). Received {count} saved "
                "top-level weight(s)."
            )
    values = [(weight, reader.read(dataset, weight.value.dtype)) for weight, dataset in planned]
    for weight, value in values:
        weight.assign(value)


def _layer_arrays(reader, layer_group, where):
    """[(weight name, checked dataset)] for the names the group's `weight_names` lists."""
    names = _read_names(reader, layer_group, "weight_names", where)
    return [(name, _dataset_at(reader, layer_group, name, where)) for name in names]


def _dataset_at(reader, group, path, where):
    """The array at `path` below `group`, following only hard links, one part at a time."""
    parts = path.split("/")
    if len(parts) > _MAX_NAME_PARTS or any(part in ("", ".", "..") for part in parts):
        raise WeightsFileError(
            f"{reader.source}: not allowed: weight name {path!r} in '{where}' is not a plain "
            "path below its layer's group (empty parts, '.', '..' or an absolute path)."
        )
    for i, part in enumerate(parts[:-1]):
        group = _child_group(reader, group, part, f"{where}/{'/'.join(parts[:i + 1])}")
    dataset = reader.dataset(group, parts[-1], f"{where}/{path}")
    if dataset is None:
        raise WeightsFileError(
            f"{reader.source}: '{where}' lists a weight {path!r} that the file does not hold."
        )
    return dataset


def _child_group(reader, group, name, full):
    if not name or "/" in name or name in (".", ".."):
        raise WeightsFileError(f"{reader.source}: not allowed: {name!r} is not a plain "
                               f"HDF5 name (at '{full}').")
    child = reader.child(group, name, full)
    if child is None:
        raise WeightsFileError(f"{reader.source}: the file has no group '{full}'.")
    if not isinstance(child, reader.h5py.Group):
        raise WeightsFileError(f"{reader.source}: '{full}' should be a group but is an array.")
    return child


def _read_optimizer(reader, model):
    """Restores the optimizer's state as Keras does: built for the model's trainable
    weights, then every variable by position; a mismatch starts it afresh with a warning."""
    source = reader.source
    group = _child_group(reader, reader.file, "optimizer_weights", "optimizer_weights")
    names = _read_names(reader, group, "weight_names", "optimizer_weights")
    optimizer = model.optimizer
    if not optimizer.built:
        optimizer.build(model.trainable_weights)
    targets = h5_weights.optimizer_arrays(optimizer)
    if len(names) == h5_weights._optimizer_head_size(optimizer):
        targets = targets[:len(names)]  # saved before the first step: no slots yet
    fresh = ("Error in loading the saved optimizer state. As a result, your model is "
             "starting with a freshly initialized optimizer.")
    if len(names) != len(targets):
        log_warning(f"{fresh} ({source}: the file has {len(names)} optimizer variables, "
                    f"optimizer {optimizer.name!r} has {len(targets)}.)")
        return
    datasets = [_dataset_at(reader, group, name, "optimizer_weights") for name in names]
    for target, dataset, name in zip(targets, datasets, names):
        if tuple(dataset.shape) != tuple(np.shape(target)):
            log_warning(f"{fresh} ({source}: optimizer variable {name!r} has shape "
                        f"{tuple(dataset.shape)} in the file but {tuple(np.shape(target))} "
                        f"in optimizer {optimizer.name!r}.)")
            return
    values = [reader.read(dataset, np.asarray(target).dtype)
              for target, dataset in zip(targets, datasets)]
    for target, value in zip(targets, values):
        target[...] = value


# --------------------------------------------------------------------------- attributes


def _has_attribute(obj, name):
    return name in obj.attrs


def _attribute_id(reader, obj, name, where):
    """The attribute's low-level handle, after checking it is a string or a string list of
    a bounded size (nothing is read yet)."""
    attr = obj.attrs.get_id(name)
    dtype = attr.dtype
    count = int(np.prod(attr.shape)) if attr.shape else 1
    string = reader.h5py.check_string_dtype(dtype)
    empty_list = attr.shape == (0,)        # Keras writes [] as an empty float array
    if string is None and not (empty_list and dtype.kind in "biuf"):
        raise WeightsFileError(
            f"{reader.source}: attribute {name!r} of '{where}' should hold text but has "
            f"dtype {dtype}."
        )
    if len(attr.shape) > 1 or count > _MAX_NAMES:
        raise WeightsFileError(
            f"{reader.source}: attribute {name!r} of '{where}' has shape {attr.shape}: too "
            f"many entries (at most {_MAX_NAMES})."
        )
    if string is not None and string.length is not None and count * string.length > (
            _MAX_JSON_BYTES):
        raise WeightsFileError(
            f"{reader.source}: attribute {name!r} of '{where}' takes "
            f"{count * string.length} bytes, more than the {_MAX_JSON_BYTES} allowed."
        )
    return attr, empty_list and string is None


def _read_attribute(reader, obj, name, where):
    attr, empty = _attribute_id(reader, obj, name, where)
    if empty:
        return []
    try:
        value = obj.attrs[name]
    except (OSError, TypeError, ValueError) as error:
        raise WeightsFileError(
            f"{reader.source}: attribute {name!r} of '{where}' cannot be read ({error})."
        ) from None
    return value


def _as_text(value, reader, name, where, limit):
    if isinstance(value, np.ndarray) and value.shape == ():
        value = value[()]
    if isinstance(value, bytes):
        if len(value) > limit:
            raise WeightsFileError(f"{reader.source}: attribute {name!r} of '{where}' is "
                                   f"{len(value)} bytes long, more than the {limit} allowed.")
        try:
            value = value.decode("utf8")
        except UnicodeDecodeError:
            raise WeightsFileError(f"{reader.source}: attribute {name!r} of '{where}' is not "
                                   "UTF-8 text.") from None
    if not isinstance(value, str):
        raise WeightsFileError(f"{reader.source}: attribute {name!r} of '{where}' should be "
                               f"text. Received: {type(value).__name__}")
    if len(value) > limit:
        raise WeightsFileError(f"{reader.source}: attribute {name!r} of '{where}' is "
                               f"{len(value)} characters long, more than the {limit} allowed.")
    return value


def _read_json(reader, obj, name):
    text = _as_text(_read_attribute(reader, obj, name, "/"), reader, name, "/",
                    _MAX_JSON_BYTES)
    where = f"{reader.source}: {name}"
    try:
        value = json.loads(text)
    except RecursionError:
        raise keras_archive._too_deep(where) from None
    except ValueError as error:
        raise ValueError(f"{where} is not valid JSON ({error}).") from None
    keras_archive.check_nesting(value, where)
    return value


def _read_names(reader, obj, name, where):
    """A name list (`layer_names`, `weight_names`), whole or in Keras's chunks."""
    if _has_attribute(obj, name):
        chunks = [_read_attribute(reader, obj, name, where)]
    else:
        chunks = []
        while _has_attribute(obj, f"{name}{len(chunks)}"):
            if len(chunks) >= _MAX_CHUNKS:
                raise WeightsFileError(f"{reader.source}: '{where}' splits {name!r} into "
                                       f"more than {_MAX_CHUNKS} attributes.")
            chunks.append(_read_attribute(reader, obj, f"{name}{len(chunks)}", where))
    names = []
    for chunk in chunks:
        items = list(np.asarray(chunk, dtype=object).reshape(-1))
        names += [_as_text(item, reader, name, where, _MAX_NAME_BYTES) for item in items]
        if len(names) > _MAX_NAMES:
            raise WeightsFileError(f"{reader.source}: '{where}' lists more than {_MAX_NAMES} "
                                   f"{name}.")
    return names


# ------------------------------------------------------------------------ file helpers


def open_file(filepath, source):
    """An h5py File opened for reading, or a ValueError for a file that is not HDF5."""
    h5py = h5_weights.import_h5py()
    try:
        return h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(
            f"{source} is not a readable HDF5 file: it is truncated, damaged or of another "
            f"format ({error})."
        ) from None


def file_size(filepath):
    if isinstance(filepath, io.IOBase):
        position = filepath.tell()
        size = filepath.seek(0, io.SEEK_END)
        filepath.seek(position)
        return size
    return os.path.getsize(filepath)
