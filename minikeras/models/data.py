"""Checking and slicing the arrays given to fit / evaluate / predict.

Everything here runs before any weight changes, so a bad argument is reported with the name of
the argument and the value received, not as a NumPy error from inside a layer.
"""

import math
import warnings

import numpy as np

from minikeras import backend


def to_array(name, value, allow_none=False):
    """Converts `value` to an ndarray, checking it is numeric, non-empty and finite."""
    if value is None:
        if allow_none:
            return None
        raise ValueError(f"Expected an array for `{name}`. Received: {name}=None")
    if isinstance(value, (list, tuple)) and value and all(
            hasattr(v, "shape") for v in value) and len(value) > 1:
        raise ValueError(
            f"Expected one array for `{name}`. Received: {name} as a list of {len(value)} "
            "arrays"
        )
    if hasattr(value, "to_numpy"):          # pandas objects
        value = value.to_numpy()
    try:
        array = np.asarray(value)
    except (ValueError, TypeError) as error:
        raise ValueError(
            f"Could not convert `{name}` to a numeric array ({error}). "
            f"Received: {name} of type {type(value).__name__}"
        ) from None
    if array.dtype == object or not (np.issubdtype(array.dtype, np.number)
                                     or array.dtype == bool):
        raise TypeError(
            f"`{name}` must hold numbers. Received: {name} with dtype {array.dtype}"
        )
    if array.ndim == 0:
        raise ValueError(
            f"`{name}` must have a batch axis. Received: {name} with shape {array.shape}"
        )
    if array.shape[0] == 0:
        raise ValueError(
            f"`{name}` is empty: expected at least one sample. "
            f"Received: {name}.shape={array.shape}"
        )
    if np.issubdtype(array.dtype, np.floating) and not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(
            f"`{name}` contains {bad} NaN or infinite value(s). Received: {name} with shape "
            f"{array.shape}"
        )
    return array


def as_float(array, name=None):
    """Casts to floatx unless the array is already that float type.

    A float64 value beyond float32's range (1e39) becomes inf in the cast; with `name` (the
    argument the array came from), that is reported instead of training on inf.
    """
    dtype = np.dtype(backend.floatx())
    if array.dtype == dtype:
        return array
    with np.errstate(over="ignore"):        # reported below, with the argument's name
        cast = array.astype(dtype)
    if name is not None:
        check_fits_floatx(name, array, cast)
    return cast


def check_fits_floatx(name, array, cast):
    """Raises if casting `array` to floatx (giving `cast`) turned a finite value into inf."""
    if not np.issubdtype(array.dtype, np.floating) or \
            np.finfo(array.dtype).max <= np.finfo(cast.dtype).max:
        return
    finite = np.isfinite(cast)
    if finite.all():
        return
    where = tuple(int(i) for i in np.argwhere(~finite)[0])
    index = ", ".join(str(i) for i in where)
    raise ValueError(
        f"`{name}` holds {int(finite.size - np.count_nonzero(finite))} value(s) beyond the "
        f"range of floatx={cast.dtype.name} (largest {np.finfo(cast.dtype).max:.6g}), which "
        f"would become inf. Received: {name}[{index}]={array[where].item()!r}"
    )


def check_lengths(**arrays):
    """All given arrays must have the same number of samples."""
    sizes = {name: a.shape[0] for name, a in arrays.items() if a is not None}
    if len(set(sizes.values())) > 1:
        described = ", ".join(f"{name} sizes: {size}" for name, size in sizes.items())
        raise ValueError(
            f"Data cardinality is ambiguous. Make sure all arrays contain the same number of "
            f"samples. Received: {described}"
        )


def check_batch_size(batch_size, name="batch_size"):
    """None -> 32; else the value must be a positive integer."""
    if batch_size is None:
        return 32
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) \
            or batch_size <= 0:
        raise ValueError(
            f"Expected `{name}` to be a positive integer. Received: {name}={batch_size!r}"
        )
    return int(batch_size)


def check_sample_weight(sample_weight, name="sample_weight"):
    """sample_weight -> float64 array, one weight per sample: (samples,) or (samples, 1), or
    per-timestep (samples, ...). Checked numeric and finite like x and y, also once cast to
    floatx (the loss multiplies in floatx)."""
    array = to_array(name, sample_weight)
    as_float(array, name)
    return array.astype(np.float64)


def check_sample_weight_shape(sample_weight, values_shape, name="sample_weight"):
    """sample_weight must line up with the loss's per-sample values, values_shape (samples,
    ...): as losses.reduce_weighted_values aligns them, trailing axes of size 1 beyond the
    values' rank are dropped, missing trailing axes are added, then the two must broadcast."""
    if sample_weight is None or len(values_shape) == 0:
        return
    shape = sample_weight.shape
    while len(shape) > len(values_shape) and shape[-1] == 1:
        shape = shape[:-1]
    aligned = shape + (1,) * (len(values_shape) - len(shape))
    fits = len(shape) <= len(values_shape)
    if fits:
        try:
            fits = np.broadcast_shapes(aligned, tuple(values_shape)) == tuple(values_shape)
        except ValueError:
            fits = False
    if not fits:
        expected = (values_shape[0],) if len(values_shape) == 1 else \
            f"{(values_shape[0],)} or {tuple(values_shape)}"
        raise ValueError(
            f"`{name}` must hold one weight per sample (per timestep for sequence outputs): "
            f"expected shape {expected}. Received: {name}.shape={sample_weight.shape}"
        )


def split_validation(arrays, validation_split):
    """Keras's validation_split: the last fraction of the samples, taken before shuffling.

    arrays: list of arrays (None allowed). Returns (train_arrays, val_arrays).
    """
    if isinstance(validation_split, bool) or not isinstance(
            validation_split, (int, float)) or not 0.0 <= validation_split < 1.0:
        raise ValueError(
            "`validation_split` must be a float in [0, 1). "
            f"Received: validation_split={validation_split!r}"
        )
    n = next(a.shape[0] for a in arrays if a is not None)
    split_at = int(math.floor(n * (1.0 - validation_split)))
    if split_at == 0 or split_at == n:
        raise ValueError(
            f"Training data contains {n} samples, which is not sufficient to split it into a "
            f"validation and training set as specified by `validation_split={validation_split}`."
        )
    train = [None if a is None else a[:split_at] for a in arrays]
    val = [None if a is None else a[split_at:] for a in arrays]
    return train, val


def class_weights_to_sample_weights(class_weight, y):
    """One weight per sample from a {class index: weight} dict.

    The class of a sample is argmax(y) for one-hot targets, round(y) otherwise. As in Keras, a
    class missing from the dict (a negative label too) weighs 1. Each label is looked up in the
    dict's sorted keys, so nothing is sized by the largest label.
    y: (samples,), (samples, 1) or one-hot (samples, classes). Returns (samples,) float64.
    """
    if not isinstance(class_weight, dict):
        raise ValueError(
            f"`class_weight` must be a dict mapping class indices to weights. "
            f"Received: class_weight={class_weight!r}"
        )
    keys, weights = _check_class_weight_items(class_weight)
    if y.ndim > 2 and math.prod(y.shape[1:-1]) != 1:
        # Keras fails here too: it has one class per sample, never one per timestep.
        raise ValueError(
            f"`class_weight` needs one class per sample: targets of shape (samples,), "
            f"(samples, 1) or one-hot (samples, classes). Pass a per-timestep "
            f"`sample_weight` instead. Received: y.shape={y.shape}"
        )
    if y.ndim > 1 and y.shape[-1] != 1:
        classes = np.argmax(y, axis=-1).reshape(y.shape[0]).astype(np.float64)
    else:
        classes = np.round(y.reshape(y.shape[0], -1)[:, 0].astype(np.float64))
    # Floats, not int: a label of 1e30 must not wrap around to some other class's index.
    position = np.minimum(np.searchsorted(keys, classes), len(keys) - 1)
    listed = keys[position] == classes
    return np.where(listed, weights[position], 1.0)


def _check_class_weight_items(class_weight):
    """The dict's keys as sorted float64 class indices and their weights, both (classes,)."""
    keys, weights = [], []
    for key, weight in class_weight.items():
        is_index = isinstance(key, (int, np.integer, float, np.floating)) and \
            not isinstance(key, bool) and np.isfinite(key) and float(key).is_integer() \
            and key >= 0
        if not is_index:
            # Keras silently ignores such a key (no label ever equals it): say so instead.
            raise ValueError(
                f"`class_weight` keys must be class indices (integers >= 0). Received: "
                f"class_weight key {key!r} in class_weight={class_weight!r}"
            )
        if isinstance(weight, bool) or not isinstance(weight, (int, float, np.number)) \
                or not np.isfinite(weight):
            raise ValueError(
                f"`class_weight` values must be finite numbers. Received: "
                f"class_weight[{key!r}]={weight!r}"
            )
        keys.append(float(key))
        weights.append(float(weight))
    if not keys:
        keys, weights = [-1.0], [1.0]       # an empty dict: every sample weighs 1
    order = np.argsort(keys)
    return np.asarray(keys)[order], np.asarray(weights)[order]


def batch_size_for(batch_size, n, steps):
    """Keras's default batch size: ceil(samples / steps) when only `steps` is given, else 32."""
    if batch_size is None and steps:
        return int(math.ceil(n / steps))
    return check_batch_size(batch_size)


class EpochBatches:
    """Which samples each step of each epoch takes, as Keras's epoch iterator decides.

    Without `steps_per_epoch`, every epoch is one full pass over the data (reshuffled when
    `shuffle`). With it, one pass is spread over as many epochs as it takes: an epoch of
    `steps_per_epoch` steps continues where the previous one stopped, an epoch that reaches the
    end of the data stops there (with a warning, like Keras), and the next one starts a new
    pass.

    n: number of samples. Each yielded batch is a slice (no shuffling) or an index array.
    """

    def __init__(self, n, batch_size, shuffle=False, steps_per_epoch=None):
        self.n = n
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.steps_per_epoch = steps_per_epoch
        self.num_batches = -(-n // batch_size)
        self._order = None
        self._position = None   # batches of the current pass already taken; None: no pass

    @property
    def steps(self):
        """Steps per epoch as callbacks and the progress bar see them."""
        return self.steps_per_epoch or self.num_batches

    def _new_pass(self):
        self._order = _shuffled_indices(self.n) if self.shuffle else None
        self._position = 0

    def epoch(self):
        """Yields (step, batch) for one epoch."""
        if self._position is None or self.steps_per_epoch is None:
            self._new_pass()
        for step in range(self.steps):
            if self._position >= self.num_batches:
                warnings.warn(
                    "Your input ran out of data; interrupting training. Make sure that your "
                    "data can generate at least `steps_per_epoch * epochs` batches.",
                    stacklevel=3,
                )
                break
            start = self._position * self.batch_size
            stop = min(start + self.batch_size, self.n)
            self._position += 1
            yield step, (slice(start, stop) if self._order is None
                         else self._order[start:stop])
        if self._position >= self.num_batches:
            self._position = None


def _shuffled_indices(n):
    from minikeras import random

    return random.generator().permutation(n)
