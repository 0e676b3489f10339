"""`Dot`: the dot product of two tensors along one axis of each, sample by sample."""

import numpy as np

from minikeras import backend
from minikeras.layers.base_merge import Merge, _plain


class Dot(Merge):
    """Per-sample dot product of two tensors, summing over `axes`.

    Args:
        axes: one int (the same axis of both inputs) or a pair (axis of x, axis of y). The
            batch axis 0 cannot be summed over. Negative axes count from the end.
        normalize: if True, each input is first L2-normalised along its summed axis, so the
            output is the cosine similarity.

    Shapes: x (batch, *a, k, *b) and y (batch, *c, k, *d) -> (batch, *a, *b, *c, *d), or
    (batch, 1) when nothing but the batch axis is left. Example: (b, k) . (b, k) -> (b, 1);
    (b, 3, 5) . (b, 4, 3) with axes=(1, 2) -> (b, 5, 4). No weights.
    """

    exact_inputs = 2

    def __init__(self, axes, normalize=False, **kwargs):
        super().__init__(**kwargs)
        if not isinstance(axes, (int, np.integer)) or isinstance(axes, bool):
            if not isinstance(axes, (list, tuple)):
                raise TypeError(
                    "Invalid type for argument `axes`: it should be a list or an int. "
                    f"Received: axes={axes!r}"
                )
            if len(axes) != 2:
                raise ValueError(
                    "Invalid format for argument `axes`: it should contain two elements. "
                    f"Received: axes={axes!r}"
                )
            if not all(isinstance(a, (int, np.integer)) and not isinstance(a, bool)
                       for a in axes):
                raise ValueError(
                    "Invalid format for argument `axes`: list elements should be integers. "
                    f"Received: axes={axes!r}"
                )
            axes = type(axes)(int(a) for a in axes)     # kept a tuple or a list, as given
        else:
            axes = int(axes)
        self.axes = axes
        self.normalize = bool(normalize)
        self.supports_masking = True

    def _axes_for(self, rank1, rank2):
        """The summed axis of each input, made non-negative."""
        axes = [self.axes, self.axes] if isinstance(self.axes, int) else self.axes
        return [axis % rank for axis, rank in zip(axes, (rank1, rank2), strict=True)]

    def compute_output_shape(self, input_shape):
        """[x shape, y shape] -> x's axes without the summed one, then y's without batch and
        summed axis; (batch, 1) when that leaves only the batch axis."""
        if not isinstance(input_shape, (list, tuple)) or len(input_shape) != 2 or not all(
                isinstance(shape, (list, tuple)) for shape in input_shape):
            raise ValueError(
                "A `Dot` layer should be called on a list of 2 inputs. "
                f"Received: input_shape={_plain(input_shape)}"
            )
        shape1, shape2 = (list(shape) for shape in input_shape)
        if len(shape1) < 2 or len(shape2) < 2:
            raise ValueError(
                "Cannot do batch_dot on inputs with rank < 2. Received inputs with shapes "
                f"{_plain(tuple(shape1))} and {_plain(tuple(shape2))}."
            )
        self._check_list(input_shape)           # the batch sizes agree
        axis1, axis2 = self._axes_for(len(shape1), len(shape2))
        if 0 in (axis1, axis2):
            raise ValueError(
                "Cannot perform batch_dot over axis 0. If your inputs are not batched, add a "
                "dummy batch dimension to your inputs using keras.ops.expand_dims(x, 0)"
            )
        if (shape1[axis1] is not None and shape2[axis2] is not None
                and shape1[axis1] != shape2[axis2]):
            raise ValueError(
                f"Incompatible input shapes: axis values {shape1[axis1]} (at axis {axis1}) != "
                f"{shape2[axis2]} (at axis {axis2}). Full input shapes: "
                f"{_plain(tuple(shape1))}, {_plain(tuple(shape2))}"
            )
        shape1.pop(axis1)
        shape2.pop(axis2)
        output = shape1 + shape2[1:]
        if len(output) == 1:
            output.append(1)
        return tuple(output)

    # ------------------------------------------------------------------- maths

    def forward(self, x, training=False):
        """x: [x1, x2]. Returns (out, cache), out as in the class docstring.

        Each input is moved to a matrix per sample: x1 -> (batch, P, k) with the summed axis
        last, x2 -> (batch, k, Q) with it first, then one batched matmul (batch, P, Q).
        """
        x1, x2 = x
        axis1, axis2 = self._axes_for(x1.ndim, x2.ndim)
        norm_caches = [None, None]
        if self.normalize:
            x1, norm_caches[0] = _l2_normalize(x1, axis1)
            x2, norm_caches[1] = _l2_normalize(x2, axis2)
        a = np.moveaxis(x1, axis1, -1)              # (batch, *rest1, k)
        b = np.moveaxis(x2, axis2, 1)               # (batch, k, *rest2)
        rest1, rest2 = a.shape[1:-1], b.shape[2:]
        k = a.shape[-1]
        a3 = a.reshape(a.shape[0], -1, k)           # (batch, P, k)
        b3 = b.reshape(b.shape[0], k, -1)           # (batch, k, Q)
        out = np.matmul(a3, b3)                     # (batch, P, Q)
        out_shape = (x1.shape[0],) + rest1 + rest2
        if len(out_shape) == 1:
            out_shape += (1,)
        cache = (a3, b3, a.shape, b.shape, (axis1, axis2), norm_caches)
        return out.reshape(out_shape), cache

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/dout. Returns ([dx1, dx2], []).

        With out = A @ B per sample (A: (P, k), B: (k, Q)):
            dA = dout @ B.T          dB = A.T @ dout
        then each is reshaped and its axis moved back (and through the normalisation).
        """
        if not need_input_gradient:
            return None, []
        a3, b3, a_shape, b_shape, (axis1, axis2), norm_caches = cache
        d3 = dout.reshape(a3.shape[0], a3.shape[1], b3.shape[2])     # (batch, P, Q)
        da3 = np.matmul(d3, b3.transpose(0, 2, 1))                   # (batch, P, k)
        db3 = np.matmul(a3.transpose(0, 2, 1), d3)                   # (batch, k, Q)
        dx1 = np.moveaxis(da3.reshape(a_shape), -1, axis1)
        dx2 = np.moveaxis(db3.reshape(b_shape), 1, axis2)
        if self.normalize:
            dx1 = _l2_normalize_backward(dx1, norm_caches[0])
            dx2 = _l2_normalize_backward(dx2, norm_caches[1])
        return [np.ascontiguousarray(dx1), np.ascontiguousarray(dx2)], []

    def compute_mask(self, inputs, mask=None):
        return None

    def get_config(self):
        config = super().get_config()
        config.update({"axes": self.axes, "normalize": self.normalize})
        return config


def _l2_normalize(x, axis):
    """x / ||x|| along axis, as Keras computes it: x * min(1/sqrt(sum x^2), 1/epsilon).

    Returns (y, cache)."""
    with np.errstate(divide="ignore"):         # an all-zero vector: inf, clipped below
        inv_norm = 1.0 / np.sqrt(np.sum(x * x, axis=axis, keepdims=True))
    limit = 1.0 / backend.epsilon()
    clipped = inv_norm > limit                  # a near-zero vector: scaled by 1/epsilon
    scale = np.where(clipped, limit, inv_norm).astype(x.dtype)
    return x * scale, (x, scale, clipped, axis)


def _l2_normalize_backward(dy, cache):
    """y = x * s with s = (sum x^2)^(-1/2) (or the constant 1/epsilon where clipped):
        dx = dy * s - x * s^3 * sum(dy * x)      (the second term is 0 where clipped)."""
    x, scale, clipped, axis = cache
    along = np.sum(dy * x, axis=axis, keepdims=True)
    return dy * scale - np.where(clipped, 0.0, x * scale ** 3 * along)


def dot(inputs, axes=-1, **kwargs):
    """`Dot(axes=axes, **kwargs)(inputs)`: the per-sample dot product of two tensors."""
    return Dot(axes=axes, **kwargs)(inputs)
