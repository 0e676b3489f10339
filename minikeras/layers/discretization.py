"""`Discretization`: numbers to bucket indices by boundaries, given or learned by `adapt`.

    index = number of boundaries <= x        (boundaries [0., 1.]: -1 -> 0, 0.5 -> 1, 1 -> 2)

`adapt` estimates `num_bins` equal-frequency buckets with Keras's approximate quantile
summary: each batch is reduced to about 1/epsilon (value, weight) points, summaries are
merged and re-compressed, and the final boundaries are read off the cumulative weights by
linear interpolation. Results equal Keras's, which depend on epsilon and on the batches.
"""

import numpy as np

from minikeras.layers.base_preprocessing import PreprocessingLayer, encode_categorical


class Discretization(PreprocessingLayer):
    """Args: bin_boundaries (sorted list) or num_bins (then `adapt`), epsilon=0.01,
    output_mode "int" / "one_hot" / "multi_hot" / "count".

    Shapes: x (...) numbers -> int: (...) int32; one_hot (..., bins), a trailing axis of 1
    replaced; multi_hot / count: (batch, n) -> (batch, bins) float32; bins = boundaries + 1.
    """

    def __init__(self, bin_boundaries=None, num_bins=None, epsilon=0.01, output_mode="int",
                 sparse=False, dtype=None, name=None, **kwargs):
        super().__init__(name=name, dtype=dtype, **kwargs)
        if sparse:
            raise ValueError(
                "`sparse=True` needs TensorFlow's sparse tensors, which minikeras does not "
                f"have. Received: sparse={sparse}"
            )
        allowed = ("int", "one_hot", "multi_hot", "count")
        if output_mode not in allowed:
            raise ValueError(
                f"Unknown value for `output_mode` argument of Discretization. Allowed values "
                f"are: {allowed}. Received: output_mode={output_mode}"
            )
        if num_bins is not None and num_bins < 0:
            raise ValueError(
                f"`num_bins` must be greater than or equal to 0. Received: `num_bins={num_bins}`"
            )
        if num_bins is not None and bin_boundaries is not None:
            raise ValueError(
                "Both `num_bins` and `bin_boundaries` should not be set. Received: "
                f"`num_bins={num_bins}` and `bin_boundaries={bin_boundaries}`"
            )
        if num_bins is None and bin_boundaries is None:
            raise ValueError("You need to set either `num_bins` or `bin_boundaries`.")
        if bin_boundaries is not None:
            bin_boundaries = [float(b) for b in bin_boundaries]
            if any(b > a for b, a in zip(bin_boundaries, bin_boundaries[1:])):
                raise ValueError(
                    "`bin_boundaries` must be sorted in increasing order. Received: "
                    f"bin_boundaries={bin_boundaries}"
                )
        self.bin_boundaries = bin_boundaries
        self.num_bins = num_bins
        self.epsilon = epsilon
        self.output_mode = output_mode
        self.sparse = sparse
        self.summary = None if bin_boundaries else np.zeros((2, 0), np.float32)

    # ----------------------------------------------------------------- adapt

    def adapt(self, data, steps=None):
        """Learns num_bins - 1 boundaries from `data`: an array (one batch) or an iterable
        of batches."""
        if self.num_bins is None:
            raise ValueError(
                "Cannot adapt a Discretization layer that has been initialized with "
                "`bin_boundaries`, use `num_bins` instead."
            )
        if isinstance(data, np.ndarray) or not hasattr(data, "__iter__"):
            batches = [data]
        else:
            batches = (b for i, b in enumerate(data) if steps is None or i < steps)
        summary = np.zeros((2, 0), np.float32)
        seen = 0
        for batch in batches:
            if isinstance(batch, tuple):
                batch = batch[0]
            values = np.asarray(batch)
            if values.dtype.kind not in "iufb":
                raise ValueError(
                    "Discretization expects numbers. Received: data with dtype "
                    f"{values.dtype}"
                )
            values = values.astype(np.float32).ravel()
            if values.size == 0:
                continue
            seen += values.size
            summary = _merge(_summarize(values, self.epsilon), summary, self.epsilon)
        if seen == 0:
            raise ValueError("`adapt` needs at least one value. Received: empty data")
        self.summary = summary
        self.bin_boundaries = _compress(summary, 1.0 / self.num_bins)[0, :-1].tolist()

    # ------------------------------------------------------------------ maths

    def compute_output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if self.output_mode == "int":
            return input_shape
        depth = (len(self.bin_boundaries) + 1 if self.bin_boundaries is not None
                 else self.num_bins)
        if self.output_mode == "one_hot":
            if input_shape and input_shape[-1] == 1 and len(input_shape) > 1:
                return input_shape[:-1] + (depth,)
            return input_shape + (depth,)
        return input_shape[:-1] + (depth,)

    def _output_dtype(self, index):
        return "int32" if self.output_mode == "int" else self.dtype

    def forward(self, x, training=False):
        """x: (...) numbers. Returns (out, cache)."""
        if self.bin_boundaries is None:
            raise ValueError(
                "You need to either pass the `bin_boundaries` argument at construction time "
                "or call `adapt(dataset)` before you can start using the `Discretization` "
                "layer."
            )
        x = np.asarray(x)
        if x.dtype.kind not in "iufb":
            raise ValueError(
                f"Discretization expects numbers. Received: inputs with dtype {x.dtype}"
            )
        # Keras casts the input to the layer's float type (float32 by default); TensorFlow's
        # Bucketize then compares it with float32 boundaries: index i such that
        # boundaries[i-1] <= x < boundaries[i].
        float_type = self.dtype if self.dtype in ("float32", "float64") else "float32"
        values = x.astype(float_type)
        boundaries = np.asarray(self.bin_boundaries, dtype=np.float32).astype(float_type)
        indices = np.searchsorted(boundaries, values, side="right")
        depth = len(self.bin_boundaries) + 1
        if self.output_mode == "int":
            return indices.astype(np.int32), x.shape
        dtype = self.dtype if self.dtype != "int32" else "float32"
        return encode_categorical(indices, self.output_mode, depth, dtype), x.shape

    def get_config(self):
        return {
            "bin_boundaries": self.bin_boundaries,
            "num_bins": self.num_bins,
            "epsilon": self.epsilon,
            "output_mode": self.output_mode,
            "sparse": self.sparse,
            "name": self.name,
            "dtype": self.dtype,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        # After adapt both are set, which the constructor refuses: boundaries come after.
        if config.get("bin_boundaries") is not None and config.get("num_bins") is not None:
            boundaries = config.pop("bin_boundaries")
            layer = cls(**config)
            layer.bin_boundaries = [float(b) for b in boundaries]
            return layer
        return cls(**config)


# ---------------------------------------------------------------- quantile summaries
# A summary is a (2, k) array: row 0 sorted values, row 1 the weight (number of data
# points) each stands for.

def _summarize(values, epsilon):
    """About 1/epsilon evenly spaced order statistics of `values`, each weighing `step`."""
    values = np.sort(values)
    step = max(values.size / (1.0 / epsilon), 1)
    points = values[int(step - 1)::int(step)]
    return np.stack([points, np.full_like(points, step)])


def _merge(a, b, epsilon):
    """Merges two summaries (the newer first, as Keras orders them) and compresses."""
    merged = np.concatenate((a, b), axis=1)
    merged = merged[:, np.argsort(merged[0])]
    return _compress(merged, epsilon)


def _compress(summary, epsilon):
    """Re-samples a summary at the cumulative-weight fractions epsilon, 2 epsilon, ..., 1
    (linear interpolation); small summaries are returned as they are."""
    if summary.shape[1] * epsilon < 1:
        return summary
    fractions = epsilon + np.arange(0.0, 1.0, epsilon)
    cumulative = summary[1].cumsum()
    at = np.interp(fractions, cumulative / cumulative[-1], summary[0])
    cumulative_at = np.interp(fractions, cumulative / cumulative[-1], cumulative)
    weights = np.diff(cumulative_at, prepend=0.0)
    return np.stack((at, weights)).astype(np.float32)
