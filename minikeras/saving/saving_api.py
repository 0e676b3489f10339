"""Saving and loading, with Keras 3's functions, arguments and file formats.

    model.save("m.keras")                 whole model: config, weights, optimizer state
    load_model("m.keras")                 ... read back, compiled, ready to continue training
    model.save_weights("m.weights.h5")    weights (and optimizer state) only
    model.load_weights("m.weights.h5")    into a model of the same architecture
    model.to_json() / model_from_json()   the architecture only
    model.save("m.h5") / load_model()     Keras 2's HDF5 model file (legacy_h5.py)

The files are the ones Keras writes and reads, so a model moves between Keras and minikeras in
both directions. Saving goes through a temporary file and `os.replace`, so an interrupted save
never damages the file already at the target path.
"""

import io
import json
import os

from minikeras.saving import file_io, h5_weights, keras_archive, legacy_h5, serialization


def _path_string(filepath):
    if isinstance(filepath, os.PathLike):
        return os.fspath(filepath)
    if isinstance(filepath, str):
        return filepath
    raise TypeError(
        "`filepath` must be a string or a path-like object. "
        f"Received: filepath={filepath!r} (of type {type(filepath).__name__})"
    )


def _check_model(model, method):
    from minikeras.models import Model

    if not isinstance(model, Model):
        raise TypeError(
            f"`{method}` expects a minikeras model. Received: model={model!r} "
            f"(of type {type(model).__name__})"
        )


def save_model(model, filepath, overwrite=True, zipped=None, **kwargs):
    """Saves `model` as a Keras `.keras` archive, or as a legacy HDF5 model file when
    filepath ends in `.h5` / `.hdf5` (config, weights and optimizer state either way).

    Args:
        model: a minikeras model: Sequential, functional, or subclassed (its class
            registered with register_keras_serializable to be loaded again).
        filepath: a path ending in ".keras", or a binary file object.
        overwrite: whether to replace an existing file (False asks on a terminal and
            refuses otherwise).
        zipped: must be True or None (minikeras writes zipped archives only).
    """
    _check_model(model, "save_model")
    include_optimizer = kwargs.pop("include_optimizer", True)
    save_format = kwargs.pop("save_format", None)
    if save_format not in (None, "keras"):
        raise ValueError(
            f"minikeras saves in the `.keras` format only. Received: save_format={save_format!r}"
        )
    if kwargs:
        raise TypeError(
            f"save_model() got unexpected keyword arguments: {sorted(kwargs)}"
        )
    legacy = isinstance(filepath, (str, os.PathLike)) and os.fspath(filepath).endswith(
        (".h5", ".hdf5"))
    if zipped is False:
        raise ValueError("minikeras writes zipped `.keras` archives only. Received: zipped=False")
    if not include_optimizer and not legacy:
        raise ValueError(
            "`include_optimizer=False` belongs to the legacy formats; a .keras file always "
            "holds the optimizer. Use save_weights() to leave it out of the model file."
        )
    if isinstance(filepath, io.IOBase):
        keras_archive.write_archive(model, filepath)
        return
    filepath = _path_string(filepath)
    if legacy:
        legacy_h5.log_warning(legacy_h5.SAVE_WARNING)
    elif not filepath.endswith(".keras"):
        raise ValueError(
            "Invalid filepath extension for saving. Please add either a `.keras` extension "
            "for the native Keras format (recommended) or a `.h5` extension. "
            f"Received: filepath={filepath}."
        )
    if not overwrite and os.path.exists(filepath) and not file_io.confirm_overwrite(filepath):
        return
    h5py = h5_weights.import_h5py()         # fail before creating any file
    if legacy:
        buffer = io.BytesIO()
        with h5py.File(buffer, "w") as h5file:
            legacy_h5.write_model(h5file, model, include_optimizer)
        with file_io.atomic_write(filepath) as f:
            f.write(buffer.getvalue())
        return
    with file_io.atomic_write(filepath) as f:
        keras_archive.write_archive(model, f)


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """Loads a model saved by `model.save("x.keras")` or `model.save("x.h5")`, in minikeras
    or in Keras.

    Args:
        filepath: path to a `.keras` file, or a binary file object.
        custom_objects: dict {name: class or function} for custom layers, losses, ...
        compile: restore the compiled state (optimizer with its state, loss, metrics).
        safe_mode: accepted for Keras compatibility. minikeras never runs code from a file,
            so loading is safe either way.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the file is not a model archive, is damaged, names a class that is
            neither built in nor given in custom_objects, or its weights do not fit.
    """
    if custom_objects is not None and not isinstance(custom_objects, dict):
        raise TypeError(
            f"`custom_objects` must be a dict. Received: custom_objects={custom_objects!r}"
        )
    if isinstance(filepath, io.IOBase):
        return keras_archive.read_archive(filepath, "<file object>", custom_objects, compile)
    filepath = _path_string(filepath)
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    if os.path.isdir(filepath):
        raise ValueError(
            f"{filepath} is a directory. minikeras loads `.keras` archive files only."
        )
    if filepath.endswith((".h5", ".hdf5")):
        with legacy_h5.open_file(filepath, filepath) as h5file:
            return legacy_h5.read_model(h5file, filepath, legacy_h5.file_size(filepath),
                                        custom_objects, compile)
    if not filepath.endswith(".keras"):
        raise ValueError(
            f"File format not supported: filepath={filepath}. minikeras loads `.keras` "
            "files and legacy H5 format files (`.h5` extension)."
        )
    with open(filepath, "rb") as f:
        return keras_archive.read_archive(f, filepath, custom_objects, compile)


def save_weights(model, filepath, overwrite=True, max_shard_size=None):
    """Saves the weights (and the optimizer state) to a Keras `.weights.h5` file."""
    _check_model(model, "save_weights")
    filepath = _path_string(filepath)
    if max_shard_size is not None:
        raise ValueError(
            "minikeras does not write sharded weight files. Received: "
            f"max_shard_size={max_shard_size!r}"
        )
    if not filepath.endswith(".weights.h5"):
        raise ValueError(
            f"The filename must end in `.weights.h5`. Received: filepath={filepath}"
        )
    if not model.built:
        raise ValueError(
            f"You are saving a model that has not yet been built, so it has no weights "
            f"(model {model.name!r}). Build it first, e.g. by calling it on data or with "
            "model.build(input_shape)."
        )
    if not overwrite and os.path.exists(filepath) and not file_io.confirm_overwrite(filepath):
        return
    h5py = h5_weights.import_h5py()
    buffer = io.BytesIO()
    with h5py.File(buffer, "w") as h5file:
        h5_weights.write_weights(h5file, model)
    with file_io.atomic_write(filepath) as f:
        f.write(buffer.getvalue())


def load_weights(model, filepath, skip_mismatch=False, **kwargs):
    """Loads weights from a `.weights.h5`, `.keras` or legacy `.h5` file into a built model.

    Args:
        skip_mismatch: skip (with a warning) layers whose saved arrays do not fit,
            instead of raising.
        by_name: legacy `.h5` files only, as in Keras: match the file's layers to the
            model's by name instead of by order (layers the file lacks keep their weights).
    """
    _check_model(model, "load_weights")
    by_name = kwargs.pop("by_name", None)
    if kwargs:
        raise TypeError(f"load_weights() got unexpected keyword arguments: {sorted(kwargs)}")
    filepath = _path_string(filepath)
    if by_name is not None and (filepath.endswith((".keras", ".weights.h5"))
                                or not filepath.endswith((".h5", ".hdf5"))):
        raise ValueError(
            "`by_name` only supports loading legacy '.h5' or '.hdf5' files. "
            f"Received: {filepath}"
        )
    if not os.path.exists(filepath):
        raise FileNotFoundError(f"No file or directory found at {filepath}")
    if not model.built:
        raise ValueError(
            f"You are loading weights into a model that has not yet been built "
            f"(model {model.name!r}). Build it first, e.g. by calling it on data or with "
            "model.build(input_shape)."
        )
    h5py = h5_weights.import_h5py()
    if filepath.endswith(".keras"):
        with open(filepath, "rb") as f:
            _load_weights_from_archive(model, f, filepath, skip_mismatch)
        return
    if not filepath.endswith(".weights.h5"):
        if filepath.endswith((".h5", ".hdf5")):
            _load_legacy_weights(model, filepath, skip_mismatch, bool(by_name))
            return
        raise ValueError(
            "File format not supported: the filename must end in `.weights.h5`, `.keras` or "
            f"(legacy) `.h5`. Received: filepath={filepath}"
        )
    try:
        h5file = h5py.File(filepath, "r")
    except OSError as error:
        raise ValueError(
            f"{filepath} is not a readable HDF5 weights file: it is truncated, damaged or of "
            f"another format ({error})."
        ) from None
    with h5file:
        h5_weights.read_weights(h5file, model, filepath, skip_mismatch=skip_mismatch)


def _load_legacy_weights(model, filepath, skip_mismatch, by_name=False):
    """Keras 2's weights: a whole legacy model file (its model_weights group) or a file
    save_weights() wrote in Keras 2 (the same layout at its root). Matched by layer order."""
    with legacy_h5.open_file(filepath, filepath) as h5file:
        reader = h5_weights._Reader(h5file, filepath)
        group, where = h5file, ""
        if "layer_names" not in h5file.attrs and "layer_names0" not in h5file.attrs:
            group = reader.group("model_weights")
            where = "model_weights"
            if group is None:
                raise ValueError(
                    f"{filepath} is neither a legacy Keras model file nor a legacy weights "
                    "file: it has no 'model_weights' group and no 'layer_names' attribute."
                )
        legacy_h5.read_weights(reader, group, where, model, skip_mismatch, by_name)


def _load_weights_from_archive(model, fileobj, source, skip_mismatch):
    import zipfile

    h5py = h5_weights.import_h5py()
    try:
        archive = zipfile.ZipFile(fileobj, "r")
    except zipfile.BadZipFile:
        raise ValueError(
            f"{source} is not a valid .keras file: it is not a zip archive, or it is "
            "truncated or damaged."
        ) from None
    with archive:
        if keras_archive.WEIGHTS_NAME not in archive.namelist():
            raise ValueError(f"{source} has no {keras_archive.WEIGHTS_NAME}.")
        data = keras_archive.read_weights_member(archive, source, model)
    try:
        h5file = h5py.File(io.BytesIO(data), "r")
    except OSError as error:
        raise ValueError(f"{source}: the weights are not a readable HDF5 file ({error}).") \
            from None
    with h5file:
        h5_weights.read_weights(h5file, model, source, skip_mismatch=skip_mismatch)


def model_to_json(model, **kwargs):
    """The model's config (and compile config) as a JSON string, as Keras's to_json gives.

    kwargs are passed to json.dumps (e.g. indent=2).
    """
    _check_model(model, "to_json")
    return json.dumps(serialization.serialize_keras_object(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """A new model (fresh weights) from `to_json()`'s string; compiled if the JSON says how."""
    where = "model_from_json: the JSON"
    try:
        config = json.loads(json_string)
    except RecursionError:
        raise keras_archive._too_deep(where) from None
    except (TypeError, ValueError) as error:
        raise ValueError(f"model_from_json: the string is not valid JSON ({error}).") from None
    keras_archive.check_nesting(config, where)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(
            "model_from_json: the JSON does not describe a model (expected an object with a "
            "'class_name' key)."
        )
    return keras_archive._build_model(config, "model_from_json", custom_objects, compile=True)
