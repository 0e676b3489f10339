"""Reading Keras's CIFAR caches: the python-version batches of the CIFAR-10/100 archives.

Keras keeps the downloaded archive as `<datasets>/<name>-target_archive` (a .tar.gz) and its
extracted copy in the folder `<datasets>/<name>-target/`. minikeras reads the extracted batch
files when they are there, else the same members straight from the archive (only regular
files with the expected names, never extracting anything). Each batch is a pickled dict; it is
read by minikeras's restricted reader (_safe_pickle), never with `pickle`.
"""

import os
import tarfile

import numpy as np

from minikeras.datasets import _files, _safe_pickle

_MAX_BATCH_BYTES = 256 * 1024 * 1024   # CIFAR-100's train batch is 155 MB


def read_batches(target, inner, names, keras_call):
    """{name: batch dict} for the batch files `names` of the data set cached as `target`
    ("cifar-10-batches-py-target"), whose archive keeps them in the folder `inner`."""
    folder = os.path.join(_files.datasets_dir(), target)
    archive = os.path.join(_files.datasets_dir(), f"{target}_archive")
    extracted = os.path.join(folder, inner)
    if os.path.isdir(extracted) and not os.path.islink(extracted) and not os.path.islink(folder):
        batches = {}
        for name in names:
            location = _files.require_file(os.path.join(extracted, name), "CIFAR batch",
                                           keras_call)
            if os.path.getsize(location) > _MAX_BATCH_BYTES:
                raise ValueError(f"{location!r} is larger than any CIFAR batch")
            with open(location, "rb") as f:
                batches[name] = _decode(f.read(), location)
        return batches
    if os.path.islink(archive) or not os.path.isfile(archive):
        raise FileNotFoundError(
            f"CIFAR data not found: neither the folder {extracted!r} nor the archive "
            f"{archive!r} exists. minikeras does not download data sets. Put the archive "
            f"Keras downloads with {keras_call} (the .tar.gz from the CIFAR site) at "
            f"{archive!r}, or its extracted contents under {folder!r}, or set KERAS_HOME to "
            f"the directory whose 'datasets' folder holds them."
        )
    return _read_archive(archive, inner, names)


def _read_archive(archive, inner, names):
    """The batches `names` read from the .tar.gz in one pass (a gzip stream cannot seek
    back cheaply), regular files only, nothing extracted to disk."""
    wanted = {f"{inner}/{name}": name for name in names}
    batches = {}
    with tarfile.open(archive, "r:*") as tar:
        for member in tar:
            name = wanted.get(member.name.removeprefix("./"))
            if name is None or not member.isreg():
                continue
            if member.size > _MAX_BATCH_BYTES:
                raise ValueError(f"{archive!r}: {member.name!r} is larger than any CIFAR batch")
            batches[name] = _decode(tar.extractfile(member).read(), f"{archive}:{member.name}")
    missing = [f"{inner}/{name}" for name in names if name not in batches]
    if missing:
        raise ValueError(f"{archive!r} is not the CIFAR archive: it has no files {missing}")
    return batches


def _decode(data, where):
    """A batch's pickled dict -> {str key: value}, the keys decoded as Keras decodes them."""
    batch = _safe_pickle.load(data)
    if not isinstance(batch, dict):
        raise ValueError(f"{where} is not a CIFAR batch: it holds a {type(batch).__name__}")
    return {key.decode("utf8") if isinstance(key, bytes) else key: value
            for key, value in batch.items()}


def images_and_labels(batch, label_key, where):
    """(data (n, 3, 32, 32) uint8, labels list) of one batch dict."""
    missing = [key for key in ("data", label_key) if key not in batch]
    if missing:
        raise ValueError(f"{where} lacks {missing}. Received keys: {sorted(map(str, batch))}")
    data = batch["data"]
    if not isinstance(data, np.ndarray) or data.ndim != 2 or data.shape[1] != 3 * 32 * 32:
        raise ValueError(f"{where}: 'data' must be an array of rows of 3 * 32 * 32 pixels. "
                         f"Received: {getattr(data, 'shape', type(data).__name__)}")
    return data.reshape(data.shape[0], 3, 32, 32), batch[label_key]
