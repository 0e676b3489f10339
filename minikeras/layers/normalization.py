"""`Normalization`: the preprocessing layer that standardises features with a mean and a
variance, given or learned from data with `adapt`.

    out = (x - mean) / max(sqrt(variance), epsilon)          (invert=True: the way back)

The mean and variance are per position along `axis` (the features by default), taken over
every other axis of the data given to `adapt`. They are not trained by `fit`.
"""

import math

import numpy as np

from minikeras import backend
from minikeras.layers.layer import Layer


class Normalization(Layer):
    """Feature-wise standardisation.

    Args:
        axis: the axis or axes that keep their own mean and variance (default -1; None or ()
            for one scalar mean and variance).
        mean, variance: fixed statistics (both or neither); otherwise call `adapt(data)`.
        invert: apply the inverse, x * sqrt(variance) + mean.

    Shapes: x (batch, ...) -> out of the same shape. Weights (not trainable, adapted
    layers only): mean and variance shaped like the kept axes, and Keras's `count`.
    """

    def __init__(self, axis=-1, mean=None, variance=None, invert=False, **kwargs):
        super().__init__(**kwargs)
        if axis is None:
            axis = ()
        elif isinstance(axis, (int, np.integer)) and not isinstance(axis, bool):
            axis = (int(axis),)
        elif isinstance(axis, (list, tuple)) and all(
                isinstance(a, (int, np.integer)) and not isinstance(a, bool) for a in axis):
            axis = tuple(int(a) for a in axis)
        else:
            raise ValueError(
                f"`axis` of Normalization must be an int, a tuple of ints or None. "
                f"Received: axis={axis!r}"
            )
        if (mean is None) != (variance is None):
            raise ValueError(
                "When setting values directly, both `mean` and `variance` must be set. "
                f"Received: mean={mean!r} and variance={variance!r}"
            )
        if mean is not None:
            if np.shape(mean) != np.shape(variance):
                raise ValueError(
                    "When setting values directly, `mean` and `variance` must have the same "
                    f"shape. Received: mean shape {np.shape(mean)} and variance shape "
                    f"{np.shape(variance)}"
                )
            if np.ndim(mean) > len(axis):
                raise ValueError(
                    "The rank of `mean` must be less than or equal to the number of axes "
                    f"({len(axis)}). Received: mean shape {np.shape(mean)} for axis {axis}"
                )
        self.axis = axis
        self.input_mean = mean
        self.input_variance = variance
        self.invert = bool(invert)
        self.supports_masking = True
        self._build_input_shape = None

    def build(self, input_shape):
        input_shape = tuple(input_shape)
        rank = len(input_shape)
        if any(not -rank <= a < rank for a in self.axis):
            raise ValueError(
                "All `axis` values must be in the range [-ndim, ndim). Received inputs with "
                f"ndim={rank}, while axis={self.axis}"
            )
        self._build_input_shape = input_shape
        self._keep_axes = tuple(sorted(a % rank for a in self.axis))
        for a in self._keep_axes:
            if input_shape[a] is None:
                raise ValueError(
                    "All `axis` values to be kept must have a known shape. Received "
                    f"axis={self.axis}, inputs.shape={input_shape}, with unknown axis at "
                    f"index {a}"
                )
        self._reduce_axes = tuple(a for a in range(rank) if a not in self._keep_axes)
        self._broadcast_shape = tuple(input_shape[a] if a in self._keep_axes else 1
                                      for a in range(rank))
        kept_shape = tuple(input_shape[a] for a in self._keep_axes)
        if self.input_mean is None:
            self.adapt_mean = self.add_weight(kept_shape, "zeros", name="mean",
                                              trainable=False)
            self.adapt_variance = self.add_weight(kept_shape, "ones", name="variance",
                                                  trainable=False)
            self.count = self.add_weight((), "zeros", name="count", dtype="int64",
                                         trainable=False)
        else:
            # Fixed statistics: their trailing axes line up with the kept axes.
            expanded = [1] * rank
            mean_shape = np.shape(self.input_mean)
            for i in range(1, len(mean_shape) + 1):
                expanded[self._keep_axes[-i]] = mean_shape[-i]
            self._fixed = tuple(
                np.broadcast_to(np.reshape(np.asarray(v, dtype=self.dtype), expanded),
                                self._broadcast_shape)
                for v in (self.input_mean, self.input_variance))
        self.built = True

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    # ------------------------------------------------------------------ adapt

    def adapt(self, data):
        """Sets mean and variance from `data`: an array (samples, ...) or an iterable of
        such batches (combined exactly, as if concatenated)."""
        if isinstance(data, np.ndarray) or hasattr(data, "__array__") and not hasattr(
                data, "__next__"):
            batches = [np.asarray(data)]
        elif hasattr(data, "__iter__"):
            batches = (np.asarray(batch[0] if isinstance(batch, tuple) else batch)
                       for batch in data)
        else:
            raise TypeError(
                f"`adapt` takes a NumPy array or an iterable of arrays. Received: data of "
                f"type {type(data).__name__}"
            )
        total_mean = total_var = None
        total_count = 0
        for batch in batches:
            if batch.size == 0:
                raise ValueError(
                    f"`adapt` needs at least one value. Received: data with shape "
                    f"{batch.shape}"
                )
            if not (np.issubdtype(batch.dtype, np.number) or batch.dtype == bool):
                raise TypeError(
                    f"`adapt` needs numbers. Received: data with dtype {batch.dtype}"
                )
            if not self.built:
                self.build(batch.shape)
            self._check_adapt_shape(batch.shape)
            batch = batch.astype(np.float64)
            batch_mean = batch.mean(axis=self._reduce_axes)
            batch_var = batch.var(axis=self._reduce_axes)
            batch_count = math.prod(batch.shape[a] for a in self._reduce_axes)
            if total_mean is None:
                total_mean, total_var, total_count = batch_mean, batch_var, batch_count
                continue
            # Chan et al.'s parallel update: the pooled mean and variance of two groups.
            total_count += batch_count
            weight = batch_count / total_count
            new_mean = total_mean * (1 - weight) + batch_mean * weight
            total_var = ((total_var + (total_mean - new_mean) ** 2) * (1 - weight)
                         + (batch_var + (batch_mean - new_mean) ** 2) * weight)
            total_mean = new_mean
        if total_mean is None:
            raise ValueError("`adapt` received an empty iterable (no batches).")
        if self.input_mean is not None:
            raise ValueError(
                "This Normalization layer was given a fixed `mean` and `variance`: "
                "`adapt` cannot change them."
            )
        self.adapt_mean.assign(total_mean)
        self.adapt_variance.assign(total_var)

    def _check_adapt_shape(self, shape):
        if len(shape) != len(self._build_input_shape) or any(
                shape[a] != self._build_input_shape[a] for a in self._keep_axes):
            raise ValueError(
                f"The layer was built with input_shape={self._build_input_shape}, but "
                f"adapt() is being called with data with an incompatible shape, "
                f"data.shape={tuple(shape)}"
            )

    # ------------------------------------------------------------------ maths

    def _statistics(self):
        if self.input_mean is not None:
            return self._fixed
        return (self.adapt_mean.value.reshape(self._broadcast_shape),
                self.adapt_variance.value.reshape(self._broadcast_shape))

    def forward(self, x, training=False):
        """x: (batch, ...). Returns (out, cache); out = (x - mean) / std, std floored at
        Keras's epsilon."""
        if not self.built:
            raise ValueError("You must call `.build(input_shape)` on the layer before using it.")
        x = np.asarray(x, dtype=self.dtype)
        mean, variance = self._statistics()
        std = np.maximum(np.sqrt(variance), backend.epsilon()).astype(x.dtype)
        if self.invert:
            return (mean + x * std).astype(x.dtype, copy=False), std
        return ((x - mean) / std).astype(x.dtype, copy=False), std

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        std = cache
        if self.invert:
            return dout * std, []
        return dout / std, []


    def get_config(self):
        config = super().get_config()
        config.update({
            "axis": self.axis,
            "invert": self.invert,
            "mean": np.array(self.input_mean).tolist(),
            "variance": np.array(self.input_variance).tolist(),
        })
        return config
