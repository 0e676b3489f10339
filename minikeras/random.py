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
