"""The `.keras` file: a zip archive holding three members, written as Keras 3 writes them.

    metadata.json       {"keras_version": ..., "date_saved": ...}
    config.json         the model as Keras config dicts (serialization.py), with its
                        compile_config (optimizer, loss, metrics)
    model.weights.h5    the weights and the optimizer state (h5_weights.py)

Members are stored uncompressed, as Keras stores them. Reading never unpickles, imports or
evaluates anything: JSON is parsed with `json`, arrays are read with h5py, and every class name
is looked up in minikeras or in the caller's custom objects.
"""

import datetime
import io
import json
import zipfile

from minikeras.saving import h5_weights, serialization

CONFIG_NAME = "config.json"
METADATA_NAME = "metadata.json"
WEIGHTS_NAME = "model.weights.h5"
# The Keras release whose file layout this module writes.
KERAS_FORMAT_VERSION = "3.15.1"

# A member that inflates to more than this many times its stored size is refused
# (a decompression bomb), as is a config larger than this many bytes.
_MAX_EXPANSION = 100
_MAX_CONFIG_BYTES = 64 * 2**20


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
        model = _build_model(config, source, custom_objects, compile)
        if WEIGHTS_NAME in names:
            weights_bytes = _read_member(archive, WEIGHTS_NAME, source, limit=None)
            _load_weights_bytes(model, weights_bytes, source)
        elif "model.weights.npz" in names:
            raise ArchiveError(
                f"{source} stores its weights as model.weights.npz; minikeras reads the h5 "
                "weights format only (Keras's default)."
            )
        elif model.weights:
            raise ArchiveError(f"{source} has no {WEIGHTS_NAME}: the weights are missing.")
    return model


def _read_member(archive, name, source, limit):
    info = archive.getinfo(name)
    if limit is not None and info.file_size > limit:
        raise ArchiveError(
            f"{source}: {name} is {info.file_size} bytes, more than the {limit} allowed."
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
    try:
        config = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise ArchiveError(f"{source}: {CONFIG_NAME} is not valid JSON ({error}).") from None
    if not isinstance(config, dict) or "class_name" not in config:
        raise ArchiveError(
            f"{source}: {CONFIG_NAME} does not describe a model (expected a dict with a "
            "'class_name' key)."
        )
    return config


def _build_model(config, source, custom_objects, compile):
    """The model a config describes; compiled from its compile_config when `compile`."""
    from minikeras.models import Model

    if not compile:
        config = {key: value for key, value in config.items() if key != "compile_config"}
    try:
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
