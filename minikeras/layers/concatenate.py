"""`Concatenate`: joins a list of tensors along one axis."""

import numpy as np

from minikeras.layers.base_merge import Merge, _plain


class Concatenate(Merge):
    """Concatenates a list of tensors along `axis`; the other axes must match.

    Args:
        axis: the axis to join along (default -1, the last; the batch axis counts as 0).

    Shapes: [(batch, ..., n_1, ...), (batch, ..., n_2, ...)] -> (batch, ..., n_1 + n_2, ...).
    No weights. The inputs are not broadcast (unlike Add and the other elementwise merges).
    """

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)):
            raise ValueError(f"`axis` must be an integer. Received: axis={axis!r}")
        self.axis = int(axis)

    def compute_output_shape(self, input_shape):
        """input_shape: list of shapes. The concatenation axis adds up (None if any is)."""
        if not isinstance(input_shape, (list, tuple)) or not input_shape or not all(
                isinstance(shape, (list, tuple)) for shape in input_shape):
            raise ValueError(
                "A `Concatenate` layer should be called on a list of inputs. "
                f"Received: input_shape={_plain(input_shape)}"
            )
        self._check_matching(input_shape)
        output = list(input_shape[0])
        for shape in input_shape[1:]:
            if output[self.axis] is None or shape[self.axis] is None:
                output[self.axis] = None
                break
            output[self.axis] += shape[self.axis]
        return tuple(output)

    def _check_matching(self, input_shape):
        """Same rank, and every axis but `axis` equal where both are known (Keras's rule)."""
        error = ValueError(
            "A `Concatenate` layer requires inputs with matching shapes except for the "
            f"concatenation axis. Received: input_shape={_plain(input_shape)}"
        )
        ranks = {len(shape) for shape in input_shape}
        if len(ranks) != 1:
            raise error
        rank = ranks.pop()
        if not -rank <= self.axis < rank:
            raise ValueError(
                f"`axis` is out of range for inputs of rank {rank} (layer {self.name!r}). "
                f"Received: axis={self.axis}"
            )
        axis = self.axis % rank
        for position in range(rank):
            if position == axis:
                continue
            known = {shape[position] for shape in input_shape} - {None}
            if len(known) > 1:
                raise error

    def forward(self, x, training=False):
        """x: list of arrays. Returns (out, cache); cache: where each input's part ends."""
        out = np.concatenate(x, axis=self.axis)
        ends = np.cumsum([xi.shape[self.axis] for xi in x])[:-1]
        return out, ends

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """Each input's gradient is its own slice of dout along the axis. Returns (dxs, [])."""
        if not need_input_gradient:
            return None, []
        return np.split(dout, cache, axis=self.axis), []

    def compute_mask(self, inputs, mask=None):
        """The output step is kept if any position of it is kept in the joined masks."""
        if mask is None or all(m is None for m in mask):
            return None
        masks = []
        for x, m in zip(inputs, mask, strict=True):
            if m is None:
                m = np.ones(np.shape(x), dtype=bool)
            elif np.ndim(m) < np.ndim(x):
                m = np.broadcast_to(np.expand_dims(m, -1), np.shape(x))
            masks.append(np.asarray(m, dtype=bool))
        return np.any(np.concatenate(masks, axis=self.axis), axis=-1)

    def get_config(self):
        config = super().get_config()
        config["axis"] = self.axis
        return config


def concatenate(inputs, axis=-1, **kwargs):
    """`Concatenate(axis=axis, **kwargs)(inputs)`."""
    return Concatenate(axis=axis, **kwargs)(inputs)
