"""Where Keras's data set cache lives, and safe readers for the file formats it holds.

minikeras never downloads anything. Each loader reads the file Keras itself would have
downloaded, at the same place: `$KERAS_HOME/datasets/...` when KERAS_HOME is set, else
`~/.keras/datasets/...` (or `/tmp/.keras/datasets/...` when the home directory is not
writable), so a machine where Keras has loaded the data set once already has it.
"""

import io
import os
import zipfile

import numpy as np

from minikeras.datasets import _safe_pickle

# The largest member minikeras reads from an archive (Keras's largest, a CIFAR batch, is
# 30 MB uncompressed; an IMDB .npz member is about 40 MB).
MAX_MEMBER_BYTES = 1 << 30


def keras_home():
    """Keras's base directory: $KERAS_HOME, else ~/.keras (/tmp/.keras if ~ is read-only)."""
    if "KERAS_HOME" in os.environ:
        return os.environ["KERAS_HOME"]
    home = os.path.expanduser("~")
    if not os.access(home, os.W_OK):
        home = "/tmp"
    return os.path.join(home, ".keras")


def datasets_dir():
    """The folder holding Keras's downloaded data sets."""
    return os.path.join(os.path.expanduser(keras_home()), "datasets")


def check_file_name(path, example):
    """Keras 3 takes a bare file name for `path` (looked up in the cache), never a path."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"Expected a file name such as {example!r}. Received: path={path!r}")
    path = os.fspath(path)
    if os.sep in path or (os.altsep and os.altsep in path):
        raise ValueError(
            f"Expected a bare file name, looked up in the Keras cache directory "
            f"({datasets_dir()}); paths are not accepted, as in Keras 3. Received: path={path!r}"
        )
    return path


def require_file(location, what, keras_call):
    """Raises FileNotFoundError saying where to put the file when `location` is not a file.

    Links are not followed: the cache holds files Keras wrote, never links.
    """
    if os.path.islink(location) or not os.path.isfile(location):
        raise FileNotFoundError(
            f"{what} not found: {location!r}. minikeras does not download data sets. Put the "
            f"file Keras downloads with {keras_call} at that path (running that call once "
            f"with Keras does it), or set KERAS_HOME to the directory whose 'datasets' folder "
            f"holds it."
        )
    return location


def load_npz(location, keys):
    """The arrays `keys` of an .npz file, read without NumPy's pickle support.

    Numeric arrays are read by NumPy with allow_pickle=False. Object arrays (IMDB's and
    Reuters's ragged sequences, which NumPy can only store as a pickle) are read by
    minikeras's own restricted reader (_safe_pickle), which accepts lists of numbers only.
    """
    arrays = {}
    with zipfile.ZipFile(location) as archive:
        members = {name[: -len(".npy")]: name for name in archive.namelist()
                   if name.endswith(".npy")}
        missing = [key for key in keys if key not in members]
        if missing:
            raise ValueError(
                f"{location!r} is not the expected file: it lacks the arrays {missing}. "
                f"Received arrays: {sorted(members)}"
            )
        for key in keys:
            info = archive.getinfo(members[key])
            if info.file_size > MAX_MEMBER_BYTES:
                raise ValueError(f"{location!r}: member {info.filename!r} declares "
                                 f"{info.file_size} bytes, more than minikeras reads")
            with archive.open(info) as raw:
                arrays[key] = _read_npy(io.BytesIO(raw.read(MAX_MEMBER_BYTES + 1)),
                                        f"{location}:{key}")
    return arrays


def _read_npy(stream, where):
    """One .npy stream: numeric through NumPy (no pickle), object arrays through _safe_pickle."""
    version = np.lib.format.read_magic(stream)
    if version == (1, 0):
        shape, fortran, dtype = np.lib.format.read_array_header_1_0(stream)
    elif version in ((2, 0), (3, 0)):
        shape, fortran, dtype = np.lib.format.read_array_header_2_0(stream)
    else:
        raise ValueError(f"{where}: unsupported .npy version {version}")
    if not dtype.hasobject:
        # The header's shape is the file's word: check the data is really there before NumPy
        # allocates an array that size.
        needed = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        left = len(stream.getbuffer()) - stream.tell()
        if needed != left:
            raise ValueError(f"{where}: the header announces {shape} {dtype} ({needed} bytes) "
                             f"but {left} bytes follow it")
        stream.seek(0)
        return np.lib.format.read_array(stream, allow_pickle=False)
    array = _safe_pickle.load(stream.read())
    if not isinstance(array, np.ndarray) or array.shape != tuple(shape):
        raise ValueError(f"{where}: the stored object array does not match its header "
                         f"(shape {shape})")
    return array


def shuffled(seed, *arrays):
    """The arrays reordered by one permutation from NumPy's legacy RandomState(seed), as
    Keras's loaders shuffle (so both give the same order)."""
    indices = np.arange(len(arrays[0]))
    np.random.RandomState(seed).shuffle(indices)
    return tuple(a[indices] for a in arrays)


__all__ = ["check_file_name", "datasets_dir", "keras_home", "load_npz", "require_file",
           "shuffled"]
