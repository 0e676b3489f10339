"""The random number generator that weight initialisers and Dropout draw from.

`minikeras.utils.set_random_seed(seed)` reseeds it, so a script that seeds gets the same run
every time. (The draws differ from Keras's own: to compare the two engines, copy the weights.)
"""

import numpy as np

_GENERATOR = np.random.default_rng()


def generator(seed=None):
    """The global generator, or a fresh one when an explicit integer seed is given."""
    if seed is not None:
        return np.random.default_rng(seed)
    return _GENERATOR


def set_seed(seed):
    """Reseeds the global generator (and NumPy's legacy global state, as Keras does)."""
    global _GENERATOR
    _GENERATOR = np.random.default_rng(seed)
    np.random.seed(seed)


# ------------------------------------------------------------------ keras.random


class SeedGenerator:
    """A stream of random numbers of its own (Keras's `keras.random.SeedGenerator`): ops given
    `seed=SeedGenerator(...)` draw from it, so they differ call after call yet repeat run
    after run.

    Args:
        seed: int initial seed (None: drawn from the global generator).
    """

    def __init__(self, seed=None, name=None, **kwargs):
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"`seed` must be an integer or None. Received: seed={seed!r}")
        self.name = name or "seed_generator"
        self.initial_seed = seed
        self.rng = np.random.default_rng(seed if seed is not None
                                         else _GENERATOR.integers(2**31))


def _rng(seed):
    """The generator an op with `seed` draws from: a SeedGenerator's own, a fresh one for an
    int seed (same numbers on every call, as Keras's stateless int seeds), else the global."""
    if isinstance(seed, SeedGenerator):
        return seed.rng
    if seed is None:
        return _GENERATOR
    return np.random.default_rng(int(seed))


def _dtype(dtype):
    from minikeras import backend

    return backend.standardize_dtype(dtype)


def normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Samples from N(mean, stddev**2), an array of `shape`."""
    return (_rng(seed).standard_normal(tuple(shape)) * stddev + mean).astype(_dtype(dtype))


def truncated_normal(shape, mean=0.0, stddev=1.0, dtype=None, seed=None):
    """Normal samples redrawn until within two standard deviations of the mean."""
    rng = _rng(seed)
    values = rng.standard_normal(tuple(shape))
    outside = np.abs(values) > 2
    while outside.any():
        values[outside] = rng.standard_normal(int(outside.sum()))
        outside = np.abs(values) > 2
    return (values * stddev + mean).astype(_dtype(dtype))


def uniform(shape, minval=0.0, maxval=1.0, dtype=None, seed=None):
    """Samples from U[minval, maxval), an array of `shape`."""
    return _rng(seed).uniform(minval, maxval, tuple(shape)).astype(_dtype(dtype))


def randint(shape, minval, maxval, dtype="int32", seed=None):
    return _rng(seed).integers(minval, maxval, tuple(shape)).astype(dtype)


def shuffle(x, axis=0, seed=None):
    return _rng(seed).permutation(np.asarray(x), axis=axis)


def dropout(inputs, rate, noise_shape=None, seed=None):
    """inputs * keep / (1 - rate), keep ~ Bernoulli(1 - rate) (per noise_shape, broadcast).
    Differentiable in `inputs`: d/dx = g * keep / (1 - rate)."""
    from minikeras.ops.tape import primitive

    if not 0 <= rate < 1:
        raise ValueError(f"`rate` must be in [0, 1). Received: rate={rate!r}")
    shape = np.shape(getattr(inputs, "value", inputs)) if noise_shape is None else tuple(
        noise_shape)
    keep = _rng(seed).uniform(size=shape) >= rate

    @primitive
    def apply_dropout(x):
        x = np.asarray(x)
        scale = (keep / (1 - rate)).astype(x.dtype)
        return x * scale, lambda g: (g * scale,)

    return apply_dropout(inputs)


__all__ = ["SeedGenerator", "dropout", "normal", "randint", "shuffle", "truncated_normal",
           "uniform"]
