"""tf.random: seeding (minikeras's own generator) and the draws Keras tutorials make."""

import numpy as np

from minikeras import random as _random
from minikeras.tf_standin._common import missing, out, tensor_dtype


def set_seed(seed):
    """Seeds minikeras (weight initialisers, Dropout, shuffling, these draws) and NumPy."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(f"`seed` must be an integer. Received: seed={seed!r}")
    _random.set_seed(int(seed))


def _generator(seed):
    return _random.generator(None if seed is None else int(seed))


def normal(shape, mean=0.0, stddev=1.0, dtype="float32", seed=None, name=None):
    """Draws from N(mean, stddev**2); the numbers differ from TensorFlow's."""
    values = _generator(seed).normal(mean, stddev, size=tuple(np.asarray(shape).ravel()))
    return out(values.astype(tensor_dtype(values, dtype)))


def uniform(shape, minval=0, maxval=None, dtype="float32", seed=None, name=None):
    """Draws from [minval, maxval) (maxval defaults to 1 for floats); integers for int dtypes."""
    dtype = tensor_dtype(0.0, dtype)
    size = tuple(np.asarray(shape).ravel())
    if dtype.kind in "iu":
        if maxval is None:
            raise ValueError(f"An integer `dtype` needs `maxval`. Received: dtype={dtype.name}")
        return out(_generator(seed).integers(minval, maxval, size=size).astype(dtype))
    maxval = 1.0 if maxval is None else maxval
    return out(_generator(seed).uniform(minval, maxval, size=size).astype(dtype))


def shuffle(value, seed=None, name=None):
    """value with its first axis in a random order."""
    value = np.asarray(value)
    return out(value[_generator(seed).permutation(value.shape[0])])


def __getattr__(name):
    raise missing("tensorflow.random", name)
