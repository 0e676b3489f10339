"""What the Boston and California housing loaders share: an .npz of x and y, shuffled and
split as Keras does."""

import os

import numpy as np

from minikeras.datasets import _files


def check_test_split(test_split):
    if not 0 <= test_split < 1:
        raise ValueError(
            f"Invalid `test_split` argument: {test_split}. It must be between 0 and 1 "
            f"(exclusive of 1). Received: test_split={test_split!r}"
        )


def read_xy(path, example, what, keras_call):
    location = os.path.join(_files.datasets_dir(), _files.check_file_name(path, example))
    _files.require_file(location, what, keras_call)
    arrays = _files.load_npz(location, ("x", "y"))
    return arrays["x"], arrays["y"]


def shuffle_and_split(x, y, test_split, seed):
    x, y = _files.shuffled(seed, x, y)
    split = int(len(x) * (1 - test_split))
    return (np.array(x[:split]), np.array(y[:split])), (np.array(x[split:]), np.array(y[split:]))
