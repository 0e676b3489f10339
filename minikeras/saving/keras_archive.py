"""The `.keras` file: a zip archive holding three members, written as Keras 3 writes them.

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the model as Keras config dicts (serialization.py), with its
                        compile_config (optimizer, loss, metrics)
    model.weights.h5    the weights and the optimizer state (h5_weights.py)

Members are stored uncompressed, as Keras stores them. Reading never unpickles, imports or
evaluates anything: JSON is parsed with `json`, arrays are read with h5py, and every class name
is looked up in minikeras or in the caller's custom objects. Members are read by their fixed
names, never extracted, so a member's name is never used as a path.

Everything the file controls is bounded before memory is spent on it:

    config.json        at most _MAX_CONFIG_BYTES, nested at most _MAX_CONFIG_DEPTH deep
    the model          its weights at most _MAX_H5_EXPANSION times model.weights.h5's size
                       (build_limits.py: checked as each layer asks for a weight)
    model.weights.h5   at most _MEMBER_PER_MODEL_BYTE times the model's weights, plus
                       _MEMBER_OVERHEAD (checked from the zip directory, before reading)
    any member         inflating more than _MAX_EXPANSION times is a decompression bomb
"""

import datetime
import io
import json
import zipfile

from minikeras.saving import build_limits, h5_weights, serialization

CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"
# The Keras release whose file layout this module writes.
KERAS_FORMAT_VERSION = "3.15.1"

# A member that inflates to more than this many times its stored size is refused
# (a decompression bomb), as is a config larger than this many bytes.
_MAX_EXPANSION = 100
_MAX_CONFIG_BYTES = 64 * 2**20
# Keras's configs nest about 8 levels deep, 3 more per model inside a model.
_MAX_CONFIG_DEPTH = 100
# The weights a config may ask for, per byte of model.weights.h5: 1 for arrays stored as Keras
# stores them, up to 1000 for compressed ones (Keras's own bound for an HDF5 array).
_MAX_H5_EXPANSION = 1000
_MIN_WEIGHT_BUDGET = 2**20
# model.weights.h5's size, per byte of the model's weights: the weights, the optimizer's
# slots (Adam 2, with amsgrad 3, plus EMA and gradient accumulators), float64 copies of
# float32 weights; and room for HDF5's own structures.
_MEMBER_PER_MODEL_BYTE = 16
_MEMBER_OVERHEAD = 16 * 2**20


class ArchiveError(ValueError):
    """A file that is not a readable `.keras` model archive."""


def write_archive(model, fileobj):
    """Writes `model` as a `.keras` archive into a binary file object."""
    h5py = h5_weights.import_h5py()
    from minikeras import __version__

    config_json = json.dumps(serialization.serialize_keras_object(model))
    metadata_json = json.dumps({
        "keras_version": KERAS_FORMAT_VERSION,
        "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
        "saved_by": f"minikeras {__version__}",
    })
    with zipfile.ZipFile(fileobj, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(METADATA_NAME, metadata_json)
        archive.writestr(CONFIG_NAME, config_json)
        weights = io.BytesIO()
        with h5py.File(weights, "w") as h5file:
            h5_weights.write_weights(h5file, model)
        archive.writestr(WEIGHTS_NAME, weights.getvalue())


def read_archive(fileobj, source, custom_objects=None, compile=True):
    """The model stored in a `.keras` archive. source: the file name, for error messages."""
    try:
        archive = zipfile.ZipFile(fileobj, "r")
    except zipfile.BadZipFile as error:
        raise ArchiveError(
            f"{source} is not a valid .keras file: it is not a zip archive, or it is "
            f"truncated or damaged ({error})."
        ) from None
    with archive:
        names = archive.namelist()
        if CONFIG_NAME not in names:
            raise ArchiveError(
                f"{source} is not a Keras model archive: it has no {CONFIG_NAME} "
                f"(members: {names[:10]})."
            )
        config = _read_config(archive, source)
        member_size = archive.getinfo(WEIGHTS_NAME).file_size if WEIGHTS_NAME in names else 0
        max_weight_bytes = _MAX_H5_EXPANSION * member_size + _MIN_WEIGHT_BUDGET
        why = (f"this file's {WEIGHTS_NAME} ({build_limits.readable_size(member_size)}) can "
               f"hold (at most {build_limits.readable_size(max_weight_bytes)}, even "
               "compressed)")
        model = _build_model(config, source, custom_objects, compile, max_weight_bytes, why)
        if WEIGHTS_NAME in names:
            weights_bytes = read_weights_member(archive, source, model)
            _load_weights_bytes(model, weights_bytes, source)
        elif "model.weights.npz" in names:
            raise ArchiveError(
                f"{source} stores its weights as model.weights.npz; minikeras reads the h5 "
                "weights format only (Keras's default)."
            )
        elif model.weights:
            raise ArchiveError(f"{source} has no {WEIGHTS_NAME}: the weights are missing.")
    return model


def read_weights_member(archive, source, model):
    """The bytes of model.weights.h5, once its declared size is known to fit the model."""
    model_bytes = sum(weight.value.nbytes for weight in model.weights)
    limit = _MEMBER_PER_MODEL_BYTE * model_bytes + _MEMBER_OVERHEAD
    why = (f"a weights file for model {model.name!r} (whose weights take {model_bytes} "
           "bytes) needs, with its optimizer state")
    return _read_member(archive, WEIGHTS_NAME, source, limit, why)


def _read_member(archive, name, source, limit, why="are allowed"):
    """A member's bytes, after checking the sizes the zip directory declares."""
    info = archive.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise ArchiveError(
            f"{source}: {name} is {info.file_size} bytes, more than the {limit} bytes {why}."
        )
    if info.file_size > 2**20 and info.file_size > _MAX_EXPANSION * max(info.compress_size, 1):
        raise ArchiveError(
            f"{source}: {name} would inflate from {info.compress_size} to {info.file_size} "
            "bytes; refusing a possible decompression bomb."
        )
    try:
        return archive.read(name)
    except (zipfile.BadZipFile, EOFError, OSError, ValueError) as error:
        raise ArchiveError(
            f"{source}: cannot read {name} from the archive: it is truncated or damaged "
            f"({error})."
        ) from None


def _read_config(archive, source):
    raw = _read_member(archive, CONFIG_NAME, source, limit=_MAX_CONFIG_BYTES)
    where = f"{source}: {CONFIG_NAME}"
    try:
        config = json.loads(raw.decode("utf-8"))
    except RecursionError:
        raise _too_deep(where) from None
    except (UnicodeDecodeError, ValueError) as error:
        raise ArchiveError(f"{where} is not valid JSON ({error}).") from None
    check_nesting(config, where)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ArchiveError(
            f"{source}: {CONFIG_NAME} does not describe a model (expected a dict with a "
            "'class_name' key)."
        )
    return config


def check_nesting(config, where):
    """Refuses JSON nested deeper than _MAX_CONFIG_DEPTH (checked without recursion)."""
    stack = [(config, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > _MAX_CONFIG_DEPTH:
            raise _too_deep(where)
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children
                     if isinstance(child, (dict, list)))


def _too_deep(where):
    return ArchiveError(
        f"{where} is nested more than {_MAX_CONFIG_DEPTH} levels deep, far deeper than any "
        "model config: refusing it."
    )


def _build_model(config, source, custom_objects, compile, max_weight_bytes=None, why=""):
    """The model a config describes; compiled from its compile_config when `compile`.

    max_weight_bytes: the most its layers may allocate, all weights together (None: any).
    """
    from minikeras.models import Model

    if not compile:
        config = {key: value for key, value in config.items() if key != "compile_config"}
    try:
        with build_limits.loading(source, max_weight_bytes, why):
            model = serialization.deserialize_keras_object(
                config, custom_objects=custom_objects, where=source)
    except RecursionError:
        raise ArchiveError(f"{source}: {CONFIG_NAME} is nested too deeply.") from None
    if not isinstance(model, Model):
        raise ArchiveError(
            f"{source} holds a {type(model).__name__}, not a model."
        )
    return model


def _load_weights_bytes(model, weights_bytes, source):
    h5py = h5_weights.import_h5py()
    try:
        h5file = h5py.File(io.BytesIO(weights_bytes), "r")
    except OSError as error:
        raise ArchiveError(
            f"{source}: {WEIGHTS_NAME} is not a readable HDF5 file ({error})."
        ) from None
    with h5file:
        h5_weights.read_weights(h5file, model, f"{source} ({WEIGHTS_NAME})")
