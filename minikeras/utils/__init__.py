"""`keras.utils`: data helpers and seeding."""

import numpy as np

from minikeras import random
from minikeras.backend import clear_session
from minikeras.callbacks.progbar import Progbar
from minikeras.utils.gradient_check import check_gradients
from minikeras.utils.image_utils import img_to_array
from minikeras.utils.model_visualization import model_to_dot, plot_model
from minikeras.utils.plotting import plot_decision_boundary, plot_history
from minikeras.utils.py_dataset import PyDataset
from minikeras.utils.sequence_utils import pad_sequences
from minikeras.utils.shape_trace import trace_shapes


def set_random_seed(seed):
    """Seeds minikeras's generator (weights, dropout, shuffling) and NumPy's global one."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)):
        raise ValueError(
            f"Expected `seed` argument to be an integer. Received: seed={seed!r} "
            f"(of type {type(seed).__name__})"
        )
    random.set_seed(int(seed))


def to_categorical(x, num_classes=None):
    """Integer class labels (any shape) -> one-hot array with a new last axis of
    `num_classes`. A trailing axis of size 1 is dropped first, as in Keras."""
    x = np.asarray(x)
    if x.size and not np.all(np.mod(x, 1) == 0):
        raise ValueError("`to_categorical` expects integer class labels.")
    x = x.astype(np.int64)
    if x.ndim > 1 and x.shape[-1] == 1:
        x = x[..., 0]
    if num_classes is None:
        num_classes = int(x.max()) + 1 if x.size else 0
    if x.size and (x.min() < 0 or x.max() >= num_classes):
        raise ValueError(
            f"Class labels must lie in [0, {num_classes - 1}]. "
            f"Received labels from {x.min()} to {x.max()} with num_classes={num_classes}"
        )
    return np.eye(num_classes, dtype="float32")[x]


def normalize(x, axis=-1, order=2):
    """Scales x to unit `order`-norm along `axis` (zero vectors stay zero)."""
    x = np.asarray(x, dtype=np.float64 if np.asarray(x).dtype == np.float64 else np.float32)
    norm = np.linalg.norm(x, ord=order, axis=axis, keepdims=True)
    return x / np.where(norm == 0, 1, norm)


# Keras 2's name, still exported by Keras 3.
Sequence = PyDataset


__all__ = [
    "Progbar",
    "PyDataset",
    "Sequence",
    "check_gradients",
    "clear_session",
    "img_to_array",
    "model_to_dot",
    "normalize",
    "pad_sequences",
    "plot_decision_boundary",
    "plot_history",
    "plot_model",
    "set_random_seed",
    "to_categorical",
    "trace_shapes",
]
