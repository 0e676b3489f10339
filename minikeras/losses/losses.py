"""Keras's loss functions, and the registry that maps compile() names to loss classes.

The maths lives with the classes, by family: probabilistic.py (cross-entropies, KL
divergence, Poisson), regression.py (squared, absolute, percentage, logarithmic, Huber,
log-cosh, cosine), hinge.py, segmentation.py (Dice, Tversky), sequence.py (CTC) and
similarity.py (Circle). Each function here is Keras's functional form: it returns the
per-sample loss values (the last axis reduced), without sample weights or reduction.
"""

import numpy as np

from minikeras import backend
from minikeras.losses.hinge import CategoricalHinge, Hinge, SquaredHinge
from minikeras.losses.loss import _as_arrays
from minikeras.losses.probabilistic import (
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    KLDivergence,
    Poisson,
    SparseCategoricalCrossentropy,
)
from minikeras.losses.regression import (
    CosineSimilarity,
    Huber,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
)
from minikeras.losses.segmentation import Dice, Tversky
from minikeras.losses.sequence import CTC
from minikeras.losses.similarity import Circle


def _values(loss, y_true, y_pred):
    """Per-sample values of `loss` for array-likes, computed in y_pred's float type. On a
    tracked y_pred (a train_step's GradientTape block), one node on the tape whose backward
    is the loss class's."""
    from minikeras.ops import tape

    tracked = tape.lift(y_pred)
    y_true, y_pred = tape.unwrap(y_true), np.asarray(tape.unwrap(y_pred))
    dtype = y_pred.dtype if np.issubdtype(y_pred.dtype, np.floating) else backend.floatx()
    loss.dtype = np.dtype(dtype).name
    if tracked is None:
        return loss.call(y_true, y_pred)
    y_true, y_pred = _as_arrays(y_true, y_pred, loss.dtype)
    values, cache = loss.forward(y_true, y_pred)
    return tape.Tracked(values, [tracked], lambda g: [loss.backward(g, cache)])


# ---------------------------------------------------------------------- probabilistic


def binary_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return _values(BinaryCrossentropy(from_logits=from_logits,
                                      label_smoothing=label_smoothing, axis=axis),
                   y_true, y_pred)


def binary_focal_crossentropy(y_true, y_pred, apply_class_balancing=False, alpha=0.25,
                              gamma=2.0, from_logits=False, label_smoothing=0.0, axis=-1):
    return _values(BinaryFocalCrossentropy(apply_class_balancing=apply_class_balancing,
                                           alpha=alpha, gamma=gamma, from_logits=from_logits,
                                           label_smoothing=label_smoothing, axis=axis),
                   y_true, y_pred)


def categorical_crossentropy(y_true, y_pred, from_logits=False, label_smoothing=0.0, axis=-1):
    return _values(CategoricalCrossentropy(from_logits=from_logits,
                                           label_smoothing=label_smoothing, axis=axis),
                   y_true, y_pred)


def categorical_focal_crossentropy(y_true, y_pred, alpha=0.25, gamma=2.0, from_logits=False,
                                   label_smoothing=0.0, axis=-1):
    return _values(CategoricalFocalCrossentropy(alpha=alpha, gamma=gamma,
                                                from_logits=from_logits,
                                                label_smoothing=label_smoothing, axis=axis),
                   y_true, y_pred)


def sparse_categorical_crossentropy(y_true, y_pred, from_logits=False, ignore_class=None,
                                    axis=-1):
    return _values(SparseCategoricalCrossentropy(from_logits=from_logits,
                                                 ignore_class=ignore_class, axis=axis),
                   y_true, y_pred)


def categorical_generalized_cross_entropy(y_true, y_pred, q):
    return _values(CategoricalGeneralizedCrossEntropy(q=q), y_true, y_pred)


def kl_divergence(y_true, y_pred):
    return _values(KLDivergence(), y_true, y_pred)


def poisson(y_true, y_pred):
    return _values(Poisson(), y_true, y_pred)


# ------------------------------------------------------------------------- regression


def mean_squared_error(y_true, y_pred):
    return _values(MeanSquaredError(), y_true, y_pred)


def mean_absolute_error(y_true, y_pred):
    return _values(MeanAbsoluteError(), y_true, y_pred)


def mean_absolute_percentage_error(y_true, y_pred):
    return _values(MeanAbsolutePercentageError(), y_true, y_pred)


def mean_squared_logarithmic_error(y_true, y_pred):
    return _values(MeanSquaredLogarithmicError(), y_true, y_pred)


def huber(y_true, y_pred, delta=1.0):
    return _values(Huber(delta=delta), y_true, y_pred)


def log_cosh(y_true, y_pred):
    return _values(LogCosh(), y_true, y_pred)


def cosine_similarity(y_true, y_pred, axis=-1):
    return _values(CosineSimilarity(axis=axis), y_true, y_pred)


# ------------------------------------------------------------------------------ hinge


def hinge(y_true, y_pred):
    return _values(Hinge(), y_true, y_pred)


def squared_hinge(y_true, y_pred):
    return _values(SquaredHinge(), y_true, y_pred)


def categorical_hinge(y_true, y_pred):
    return _values(CategoricalHinge(), y_true, y_pred)


# ---------------------------------------------------------------------- segmentation


def dice(y_true, y_pred, axis=None):
    return _values(Dice(axis=axis), y_true, y_pred)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    return _values(Tversky(alpha=alpha, beta=beta, axis=axis), y_true, y_pred)


# -------------------------------------------------------------------------- sequence


def ctc(y_true, y_pred):
    return _values(CTC(), y_true, y_pred)


# ------------------------------------------------------------------------ similarity


def circle(y_true, y_pred, ref_labels=None, ref_embeddings=None, remove_diagonal=True,
           gamma=80, margin=0.4):
    if ref_labels is not None or ref_embeddings is not None:
        raise NotImplementedError(
            "minikeras's circle compares the batch with itself: `ref_labels` and "
            "`ref_embeddings` are not supported. Received: ref_labels="
            f"{None if ref_labels is None else 'an array'}, ref_embeddings="
            f"{None if ref_embeddings is None else 'an array'}"
        )
    return _values(Circle(gamma=gamma, margin=margin, remove_diagonal=remove_diagonal),
                   y_true, y_pred)


# tf.keras's legacy short names (not in keras.losses itself, so not in __all__).
mse = MSE = mean_squared_error
mae = MAE = mean_absolute_error
mape = MAPE = mean_absolute_percentage_error
msle = MSLE = mean_squared_logarithmic_error
kld = KLD = kullback_leibler_divergence = kl_divergence
bce = BCE = binary_crossentropy
logcosh = log_cosh

# ------------------------------------------------------------------------- registry

# The class each function (and compile string) stands for, keyed by the function's name.
LOSS_CLASSES = {
    "binary_crossentropy": BinaryCrossentropy,
    "binary_focal_crossentropy": BinaryFocalCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "categorical_focal_crossentropy": CategoricalFocalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "kl_divergence": KLDivergence,
    "poisson": Poisson,
    "mean_squared_error": MeanSquaredError,
    "mean_absolute_error": MeanAbsoluteError,
    "mean_absolute_percentage_error": MeanAbsolutePercentageError,
    "mean_squared_logarithmic_error": MeanSquaredLogarithmicError,
    "huber": Huber,
    "log_cosh": LogCosh,
    "cosine_similarity": CosineSimilarity,
    "hinge": Hinge,
    "squared_hinge": SquaredHinge,
    "categorical_hinge": CategoricalHinge,
    "dice": Dice,
    "tversky": Tversky,
    "ctc": CTC,
    "circle": Circle,
    # Keras exports it but leaves it out of its compile-name table; minikeras accepts the name.
    "categorical_generalized_cross_entropy": CategoricalGeneralizedCrossEntropy,
}
LOSS_FUNCTIONS = {globals()[name]: name for name in LOSS_CLASSES}
# Keras's compile-string aliases (keras/src/losses/__init__.py), exactly: case matters.
ALIASES = {
    "bce": "binary_crossentropy", "BCE": "binary_crossentropy",
    "kld": "kl_divergence", "KLD": "kl_divergence",
    "mae": "mean_absolute_error", "MAE": "mean_absolute_error",
    "mse": "mean_squared_error", "MSE": "mean_squared_error",
    "mape": "mean_absolute_percentage_error", "MAPE": "mean_absolute_percentage_error",
    "msle": "mean_squared_logarithmic_error", "MSLE": "mean_squared_logarithmic_error",
}

__all__ = sorted(
    list(LOSS_CLASSES) + [cls.__name__ for cls in LOSS_CLASSES.values()]
)
