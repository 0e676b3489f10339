"""`keras.datasets.mnist`: the MNIST digits from Keras's cache file `mnist.npz`.

minikeras never downloads anything. `load_data` reads the file Keras itself would have
downloaded, at the same place: `$KERAS_HOME/datasets/<path>` when KERAS_HOME is set, else
`~/.keras/datasets/<path>` (or `/tmp/.keras/datasets/<path>` when the home directory is not
writable), so a machine where Keras has run once already has it.
"""

import os

import numpy as np

from minikeras.datasets._files import keras_home

_KEYS = ("x_train", "y_train", "x_test", "y_test")


def cache_path(path="mnist.npz"):
    """Where `load_data(path)` looks for its file."""
    if not isinstance(path, (str, os.PathLike)) or not os.fspath(path):
        raise ValueError(f"Expected a file name such as 'mnist.npz'. Received: path={path!r}")
    path = os.fspath(path)
    if os.sep in path:
        raise ValueError(
            "Expected a bare file name, looked up in the Keras cache directory "
            f"({os.path.join(keras_home(), 'datasets')}); paths are not accepted, as in "
            f"Keras 3. Received: path={path!r}"
        )
    return os.path.join(os.path.expanduser(keras_home()), "datasets", path)



def load_data(path="mnist.npz"):
    """Loads MNIST from Keras's cache.

    Args:
        path: file name inside the cache directory `<keras home>/datasets/`.

    Returns:
        ((x_train, y_train), (x_test, y_test)) as stored: in Keras's file, x_train is uint8
        (60000, 28, 28), y_train uint8 (60000,), x_test (10000, 28, 28), y_test (10000,).

    Raises:
        FileNotFoundError: when the file is not in the cache. minikeras does not download it;
            the message says where to put it.
        ValueError: when the file lacks one of the arrays x_train, y_train, x_test, y_test.
    """
    location = cache_path(path)
    if not os.path.isfile(location):
        raise FileNotFoundError(
            f"MNIST file not found: {location!r}. minikeras does not download data sets. Put "
            f"Keras's 'mnist.npz' (the file keras.datasets.mnist.load_data() downloads, "
            f"holding the arrays x_train, y_train, x_test, y_test) at that path, or set "
            f"KERAS_HOME to the directory whose 'datasets' folder holds it."
        )
    with np.load(location, allow_pickle=False) as data:
        missing = [key for key in _KEYS if key not in data.files]
        if missing:
            raise ValueError(
                f"{location!r} is not an MNIST file: it lacks the arrays {missing}. "
                f"Received arrays: {sorted(data.files)}"
            )
        x_train, y_train, x_test, y_test = (data[key] for key in _KEYS)
    return (x_train, y_train), (x_test, y_test)


__all__ = ["load_data"]
