"""The built-in activations. Each class: forward maths, then the derivative used by backward.

Notation: x is the activation's input (the layer's pre-activation z), y its output, dy the
gradient of the loss with respect to y. Every backward returns dL/dx = dy * dy/dx (softmax,
log_softmax, glu and sparsemax, whose Jacobians are not diagonal, contract along their axis).

At a kink (relu at 0, hard_tanh at +-1, ...) the derivative is one-sided; each class uses the
side TensorFlow's gradient uses, so that training matches Keras on its TensorFlow backend.
"""

import math

import numpy as np

from minikeras.activations.base import ActivationFunction
from minikeras.kernels import parallel

# ------------------------------------------------------------------- shared helpers


def _sigmoid(x):
    """1 / (1 + exp(-x)) without overflow: exp of a non-positive number only."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


# TensorFlow's float32 tanh (Eigen's rational approximation) is exactly +-1 from |x| ~ 7.9074
# on, NumPy's only from about 9. Saturating at the same point keeps derivatives such as
# 1 - tanh(x)^2 equal to TensorFlow's (0 rather than 1e-7) next to saturation.
_TANH_SATURATION_FLOAT32 = 7.9074


def _tanh(x):
    t = np.tanh(x)
    if x.dtype == np.float32:
        t = np.where(np.abs(x) >= _TANH_SATURATION_FLOAT32, np.sign(x), t).astype(x.dtype)
    return t


def _softplus(x):
    """log(1 + exp(x)) = max(x, 0) + log(1 + exp(-|x|)), finite for every x."""
    return np.logaddexp(x.dtype.type(0), x)


def _erfc_and_erf(a):
    """erfc(a) and erf(a) for a >= 0, float64 arrays, relative error below 1e-14 each.

    NumPy has no erf, and gelu needs it to float32 accuracy, including the tail where
    1 + erf(x) is tiny (so it is computed as erfc(-x), never as 1 + erf(x)):

    - a < 2: erf(a) = 2/sqrt(pi) exp(-a^2) sum_n 2^n a^(2n+1) / (1*3*...*(2n+1)), a series
      of positive terms (no cancellation); 42 terms reach double precision for a < 2.
    - a >= 2: erfc(a) = exp(-a^2) / (sqrt(pi) F(a)) with Laplace's continued fraction
      F(a) = a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...)))), evaluated bottom-up
      from depth 45.
    """
    erf = np.empty_like(a)
    erfc = np.empty_like(a)

    near = a < 2.0
    s = a[near]
    term = s.copy()
    total = s.copy()
    two_s2 = 2.0 * s * s
    for n in range(1, 42):
        term = term * two_s2 / (2 * n + 1)
        total += term
    erf[near] = (2.0 / math.sqrt(math.pi)) * np.exp(-s * s) * total
    erfc[near] = 1.0 - erf[near]

    b = a[~near]
    fraction = b.copy()
    for k in range(45, 0, -1):
        fraction = b + (k / 2.0) / fraction
    erfc[~near] = np.exp(-b * b) / (math.sqrt(math.pi) * fraction)
    erf[~near] = 1.0 - erfc[~near]
    return erfc, erf


def _half_one_plus_erf(z):
    """(1 + erf(z)) / 2 for a float64 array z, as erfc(-z) / 2 where z < 0 (no cancellation)."""
    erfc_abs, erf_abs = _erfc_and_erf(np.abs(z))
    return np.where(z >= 0, 0.5 * (1.0 + erf_abs), 0.5 * erfc_abs)


def _check_number(name, value, activation):
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise TypeError(
            f"Activation {activation!r}: `{name}` must be a number. Received: {name}={value!r}"
        )
    return value


def _check_axis(axis, x, activation):
    if axis is None:
        return None
    if isinstance(axis, bool) or not isinstance(axis, (int, np.integer)) \
            or not -x.ndim <= axis < x.ndim:
        raise ValueError(
            f"Activation {activation!r}: `axis` must be an integer in [-{x.ndim}, {x.ndim}) "
            f"for an input of shape {x.shape}. Received: axis={axis!r}"
        )
    return int(axis)


# ------------------------------------------------------------------------- identity


class Linear(ActivationFunction):
    """y = x; dy/dx = 1."""

    __name__ = "linear"

    def forward(self, x):
        return x, None

    def backward(self, dy, cache):
        return dy


class Exponential(ActivationFunction):
    """y = exp(x); dy/dx = y."""

    __name__ = "exponential"

    def forward(self, x):
        y = np.exp(x)
        return y, y

    def backward(self, dy, y):
        return dy * y


# ----------------------------------------------------------------- rectifier family


class ReLU(ActivationFunction):
    """relu(x, negative_slope=0.0, max_value=None, threshold=0.0), as Keras composes it:

        y = r(x) - negative_slope * max(threshold - x, 0)
        r(x) = x where x > threshold, else 0        (then clipped to [0, max_value])

    With the defaults this is max(x, 0). dy/dx = dr/dx + negative_slope * [x < threshold],
    where dr/dx is 1 where x > threshold (and below max_value), else 0.
    """

    __name__ = "relu"

    def forward(self, x, negative_slope=0.0, max_value=None, threshold=0.0):
        _check_number("negative_slope", negative_slope, self.__name__)
        _check_number("threshold", threshold, self.__name__)
        if max_value is not None:
            _check_number("max_value", max_value, self.__name__)
            if max_value < 0:
                raise ValueError(
                    "Activation 'relu': `max_value` must be >= 0 or None. "
                    f"Received: max_value={max_value!r}"
                )
        if negative_slope != 0.0 and max_value is None and threshold == 0:
            # Keras hands this case to leaky_relu (whose slope TF keeps as a float32).
            negative_slope = float(np.float32(negative_slope))
            positive = x > 0
            y = np.where(positive, x, negative_slope * x).astype(x.dtype, copy=False)
            return y, (positive, ~positive, negative_slope)
        # Keras's three ways of forming the positive part r(x), each with TF's gradient.
        # NumPy already keeps x's float dtype here; astype(copy=False) only guards it, as a
        # copy of a conv layer's output would cost more than the maximum itself.
        if threshold != 0:
            passes = x > threshold
            r = np.where(passes, x, 0).astype(x.dtype, copy=False)
        elif max_value == 6:
            passes = (x > 0) & (x < 6)                 # relu6, clipping included
            r = np.clip(x, 0, 6).astype(x.dtype, copy=False)
        elif x.ndim and x.shape[0] > 1 and x.size >= parallel.PARALLEL_MIN_ELEMENTS:
            passes, r = _plain_relu(x)          # big arrays: parts of the batch at once
        else:
            passes = x > 0
            r = np.maximum(x, 0).astype(x.dtype, copy=False)
        if max_value is not None and not (threshold == 0 and max_value == 6):
            # The clip's derivative is 1 on the closed range [0, max_value], as TF's.
            passes = passes & (r >= 0) & (r <= max_value)
            r = np.clip(r, 0, max_value).astype(x.dtype, copy=False)
        below = None
        if negative_slope != 0.0:
            below = x < threshold
            r = (r - negative_slope * np.maximum(threshold - x, 0)).astype(x.dtype, copy=False)
        return r, (passes, below, negative_slope)

    def backward(self, dy, cache):
        passes, below, negative_slope = cache
        if (below is None and dy.ndim and dy.shape[0] > 1 and dy.shape == passes.shape
                and dy.size >= parallel.PARALLEL_MIN_ELEMENTS):
            return _masked(dy, passes)
        dx = dy * passes
        if below is not None:
            dx = dx + dy * (negative_slope * below)
        return dx.astype(dy.dtype, copy=False)


def _plain_relu(x):
    """max(x, 0) and the mask x > 0 for a float batch, in parallel parts when big."""
    passes = np.empty(x.shape, dtype=bool)
    r = np.empty_like(x)

    def work(part):
        np.greater(x[part], 0, out=passes[part])
        np.maximum(x[part], 0, out=r[part])

    parallel.over_batch_parts(work, x.shape[0], x.size)
    return passes, r


def _masked(dy, mask):
    """dy * mask (mask: bool, dy's shape), in parallel parts when big."""
    dx = np.empty_like(dy)

    def work(part):
        np.multiply(dy[part], mask[part], out=dx[part])

    parallel.over_batch_parts(work, dy.shape[0], dy.size)
    return dx


class LeakyReLU(ActivationFunction):
    """y = x for x > 0, else negative_slope * x; dy/dx = 1 or negative_slope."""

    __name__ = "leaky_relu"

    def forward(self, x, negative_slope=0.2):
        _check_number("negative_slope", negative_slope, self.__name__)
        # TensorFlow's LeakyRelu stores its slope as a float32, also for float64 inputs.
        negative_slope = float(np.float32(negative_slope))
        positive = x > 0
        y = np.where(positive, x, negative_slope * x).astype(x.dtype)
        return y, (positive, negative_slope)

    def backward(self, dy, cache):
        positive, negative_slope = cache
        return np.where(positive, dy, negative_slope * dy).astype(dy.dtype)


class ReLU6(ActivationFunction):
    """y = min(max(x, 0), 6); dy/dx = 1 for 0 < x < 6, else 0."""

    __name__ = "relu6"

    def forward(self, x):
        y = np.clip(x, 0, 6).astype(x.dtype)
        return y, (x > 0) & (x < 6)

    def backward(self, dy, inside):
        return dy * inside


class ELU(ActivationFunction):
    """y = x for x > 0, else alpha * (exp(x) - 1); dy/dx = 1, else alpha * exp(x)."""

    __name__ = "elu"

    def forward(self, x, alpha=1.0):
        _check_number("alpha", alpha, self.__name__)
        positive = x > 0
        # exp(x) - 1 rather than expm1(x): TensorFlow's kernel rounds the same way, and its
        # derivative is read back from that output as (exp(x) - 1) + 1.
        exp_minus_1 = np.exp(np.minimum(x, 0)) - 1.0
        y = np.where(positive, x, alpha * exp_minus_1).astype(x.dtype)
        slope = np.where(positive, 1.0, alpha * (exp_minus_1 + 1.0)).astype(x.dtype)
        return y, slope

    def backward(self, dy, slope):
        return dy * slope


class SELU(ActivationFunction):
    """y = scale * x for x > 0, else scale * alpha * (exp(x) - 1), with Klambauer et al.'s
    alpha ~ 1.6733 and scale ~ 1.0507; dy/dx = scale, else y + scale * alpha."""

    __name__ = "selu"
    alpha = 1.6732632423543772848170429916717
    scale = 1.0507009873554804934193349852946

    def forward(self, x):
        positive = x > 0
        y = np.where(positive, self.scale * x,
                     self.scale * self.alpha * (np.exp(np.minimum(x, 0)) - 1.0)).astype(x.dtype)
        return y, y

    def backward(self, dy, y):
        slope = np.where(y < 0, y + self.scale * self.alpha, self.scale).astype(y.dtype)
        return dy * slope


class CELU(ActivationFunction):
    """y = max(x, 0) + alpha * (exp(min(x, 0) / alpha) - 1).

    dy/dx = [x >= 0] + exp(min(x, 0) / alpha) * [x <= 0]: both terms count at x = 0, where
    TensorFlow's gradient (of Keras's formula) is 2.
    """

    __name__ = "celu"

    def forward(self, x, alpha=1.0):
        _check_number("alpha", alpha, self.__name__)
        if alpha == 0:
            raise ValueError("Activation 'celu': `alpha` must not be 0. Received: alpha=0")
        negative_part = np.minimum(x, 0) / alpha
        y = (np.maximum(x, 0) + alpha * np.expm1(negative_part)).astype(x.dtype)
        slope = ((x >= 0) + np.exp(negative_part) * (x <= 0)).astype(x.dtype)
        return y, slope

    def backward(self, dy, slope):
        return dy * slope


# ------------------------------------------------------------------- smooth family


class Softplus(ActivationFunction):
    """y = log(1 + exp(x)); dy/dx = sigmoid(x)."""

    __name__ = "softplus"

    def forward(self, x):
        return _softplus(x), x

    def backward(self, dy, x):
        return dy * _sigmoid(x)


class Softsign(ActivationFunction):
    """y = x / (1 + |x|); dy/dx = 1 / (1 + |x|)^2."""

    __name__ = "softsign"

    def forward(self, x):
        denominator = 1.0 + np.abs(x)
        return x / denominator, denominator

    def backward(self, dy, denominator):
        return dy / (denominator * denominator)


class SiLU(ActivationFunction):
    """silu (swish): y = x * sigmoid(x); dy/dx = s + x s (1 - s), with s = sigmoid(x)."""

    __name__ = "silu"

    def forward(self, x):
        s = _sigmoid(x)
        return x * s, (x, s)

    def backward(self, dy, cache):
        x, s = cache
        return dy * (s * (1.0 + x * (1.0 - s)))


class Squareplus(ActivationFunction):
    """y = (x + sqrt(x^2 + b)) / 2; dy/dx = (1 + x / sqrt(x^2 + b)) / 2."""

    __name__ = "squareplus"

    def forward(self, x, b=4):
        _check_number("b", b, self.__name__)
        root = np.sqrt(x * x + x.dtype.type(b))
        return (x + root) / 2, (x, root)

    def backward(self, dy, cache):
        x, root = cache
        # Grouped as TensorFlow's chain rule groups it, for the same float32 rounding.
        half = dy * 0.5
        return half + (half * 0.5 / root) * (x * 2.0)


class GELU(ActivationFunction):
    """Gaussian error linear unit, y = x * Phi(x), Phi the standard normal CDF.

    approximate=False (Keras's default): Phi(x) = (1 + erf(x / sqrt(2))) / 2 and
        dy/dx = Phi(x) + x * exp(-x^2 / 2) / sqrt(2 pi).
    approximate=True: Phi(x) ~ (1 + tanh(u)) / 2 with u = sqrt(2/pi) (x + 0.044715 x^3), and
        dy/dx = (1 + t) / 2 + x (1 - t^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2) / 2, t = tanh(u).
    """

    __name__ = "gelu"
    # TensorFlow rounds two of its constants to float32 (also in float64 runs): the cubic
    # coefficient and, in the exact form, 1/sqrt(2) (it computes erf(x * 0.70710677)).
    _cubic = float(np.float32(0.044715))
    _sqrt_2_over_pi = 0.7978845608028654
    _inv_sqrt_2 = float(np.float32(1.0 / math.sqrt(2.0)))

    def forward(self, x, approximate=False):
        if not isinstance(approximate, (bool, np.bool_)):
            raise TypeError(
                "Activation 'gelu': `approximate` must be True or False. "
                f"Received: approximate={approximate!r}"
            )
        if approximate:
            t = _tanh(self._sqrt_2_over_pi * (x + self._cubic * x * x * x))
            return 0.5 * x * (1.0 + t), (True, x, t)
        # Computed in float64 and rounded once, so the far negative tail stays accurate.
        cdf = _half_one_plus_erf(x.astype(np.float64) * self._inv_sqrt_2)
        return (x * cdf).astype(x.dtype), (False, x, cdf)

    def backward(self, dy, cache):
        approximate, x, saved = cache
        if approximate:
            t = saved
            du_dx = self._sqrt_2_over_pi * (1.0 + 3.0 * self._cubic * x * x)
            return dy * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * du_dx)
        cdf = saved
        # d/dx of (1 + erf(c x)) / 2 is c exp(-(c x)^2) / sqrt(pi), with c ~ 1/sqrt(2).
        cx = x.astype(np.float64) * self._inv_sqrt_2
        density = self._inv_sqrt_2 * np.exp(-cx * cx) / math.sqrt(math.pi)
        return dy * (cdf + x * density).astype(x.dtype)


class Mish(ActivationFunction):
    """y = x * tanh(softplus(x)); dy/dx = t + x (1 - t^2) sigmoid(x), t = tanh(softplus(x))."""

    __name__ = "mish"

    def forward(self, x):
        t = _tanh(_softplus(x))
        return x * t, (x, t)

    def backward(self, dy, cache):
        x, t = cache
        return dy * (t + x * (1.0 - t * t) * _sigmoid(x))


# ---------------------------------------------------------- sigmoid / tanh family


class Sigmoid(ActivationFunction):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    __name__ = "sigmoid"
    outputs_probabilities = True

    def forward(self, x):
        y = _sigmoid(x)
        return y, y

    def backward(self, dy, y):
        return dy * y * (1.0 - y)


class LogSigmoid(ActivationFunction):
    """y = log(sigmoid(x)) = -softplus(-x); dy/dx = sigmoid(-x)."""

    __name__ = "log_sigmoid"

    def forward(self, x):
        return -_softplus(-x), x

    def backward(self, dy, x):
        return dy * _sigmoid(-x)


class HardSigmoid(ActivationFunction):
    """y = relu6(x + 3) / 6, i.e. 0 below -3, 1 above 3, x/6 + 1/2 in between (Keras 3);
    dy/dx = 1/6 for -3 < x < 3, else 0."""

    __name__ = "hard_sigmoid"

    def forward(self, x):
        shifted = x + 3.0
        y = (np.clip(shifted, 0, 6) / 6.0).astype(x.dtype)
        return y, (shifted > 0) & (shifted < 6)

    def backward(self, dy, inside):
        return dy * inside / 6.0


class HardSiLU(ActivationFunction):
    """hard_silu (hard_swish): y = x * hard_sigmoid(x);
    dy/dx = hard_sigmoid(x) + x / 6 for -3 < x < 3, else hard_sigmoid(x)."""

    __name__ = "hard_silu"

    def forward(self, x):
        h, inside = HARD_SIGMOID.forward(x)
        return x * h, (x, h, inside)

    def backward(self, dy, cache):
        x, h, inside = cache
        return dy * (h + x * inside / 6.0)


class SparseSigmoid(ActivationFunction):
    """y = 0 for x <= -1, 1 for x >= 1, (x + 1) / 2 in between; dy/dx = 1/2 in between."""

    __name__ = "sparse_sigmoid"

    def forward(self, x):
        inside = (x > -1) & (x < 1)
        y = np.where(x <= -1, 0.0, np.where(x >= 1, 1.0, 0.5 * (x + 1.0))).astype(x.dtype)
        return y, inside

    def backward(self, dy, inside):
        return dy * inside * 0.5


class Tanh(ActivationFunction):
    """y = tanh(x); dy/dx = 1 - y^2."""

    __name__ = "tanh"

    def forward(self, x):
        y = _tanh(x)
        return y, y

    def backward(self, dy, y):
        return dy * (1.0 - y * y)


class TanhShrink(ActivationFunction):
    """y = x - tanh(x); dy/dx = tanh(x)^2."""

    __name__ = "tanh_shrink"

    def forward(self, x):
        t = _tanh(x)
        return x - t, t

    def backward(self, dy, t):
        return dy * (t * t)


class HardTanh(ActivationFunction):
    """y = clip(x, -1, 1); dy/dx = 1 for -1 <= x <= 1 (ends included, as TF's clip), else 0."""

    __name__ = "hard_tanh"

    def forward(self, x):
        return np.clip(x, -1, 1).astype(x.dtype), (x >= -1) & (x <= 1)

    def backward(self, dy, inside):
        return dy * inside


# ---------------------------------------------------------------- shrink family


class SoftShrink(ActivationFunction):
    """y = x - threshold above threshold, x + threshold below -threshold, else 0;
    dy/dx = 1 outside [-threshold, threshold], else 0."""

    __name__ = "soft_shrink"

    def forward(self, x, threshold=0.5):
        _check_number("threshold", threshold, self.__name__)
        above = x > threshold
        below = x < -threshold
        y = np.where(above, x - threshold, np.where(below, x + threshold, 0.0)).astype(x.dtype)
        return y, above | below

    def backward(self, dy, outside):
        return dy * outside


class HardShrink(ActivationFunction):
    """y = x where |x| > threshold, else 0; dy/dx = [|x| > threshold]."""

    __name__ = "hard_shrink"

    def forward(self, x, threshold=0.5):
        _check_number("threshold", threshold, self.__name__)
        keep = np.abs(x) > threshold
        return np.where(keep, x, 0.0).astype(x.dtype), keep

    def backward(self, dy, keep):
        return dy * keep


class Threshold(ActivationFunction):
    """y = x where x > threshold, else default_value; dy/dx = [x > threshold].

    Both arguments are required, as in Keras, so it cannot be used by name in a layer.
    """

    __name__ = "threshold"

    def forward(self, x, threshold=None, default_value=None):
        if threshold is None or default_value is None:
            raise TypeError(
                "Activation 'threshold' needs both `threshold` and `default_value` (it has no "
                "defaults, so it cannot be used by name in a layer). Received: "
                f"threshold={threshold!r}, default_value={default_value!r}"
            )
        _check_number("threshold", threshold, self.__name__)
        _check_number("default_value", default_value, self.__name__)
        keep = x > threshold
        return np.where(keep, x, default_value).astype(x.dtype), keep

    def backward(self, dy, keep):
        return dy * keep


class SparsePlus(ActivationFunction):
    """y = 0 for x <= -1, (x + 1)^2 / 4 for -1 < x < 1, x for x >= 1;
    dy/dx = 0, (x + 1) / 2, 1."""

    __name__ = "sparse_plus"

    def forward(self, x):
        middle = (x > -1) & (x < 1)
        y = np.where(x <= -1, 0.0, np.where(middle, 0.25 * (x + 1.0) ** 2, x)).astype(x.dtype)
        slope = np.where(x <= -1, 0.0, np.where(middle, 0.5 * (x + 1.0), 1.0)).astype(x.dtype)
        return y, slope

    def backward(self, dy, slope):
        return dy * slope


# --------------------------------------------------- along an axis (non-diagonal)


class Softmax(ActivationFunction):
    """y_i = exp(x_i) / sum_j exp(x_j) along `axis` (None: over all entries);
    dL/dx = y * (dy - sum(dy * y))."""

    __name__ = "softmax"
    outputs_probabilities = True

    def forward(self, x, axis=-1):
        axis = _check_axis(axis, x, self.__name__)
        shifted = x - x.max(axis=axis, keepdims=True)  # same result, no overflow
        e = np.exp(shifted)
        y = e / e.sum(axis=axis, keepdims=True)
        return y, (y, axis)

    def backward(self, dy, cache):
        y, axis = cache
        return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


class LogSoftmax(ActivationFunction):
    """y_i = x_i - log(sum_j exp(x_j)) along `axis`; dL/dx = dy - softmax(x) * sum(dy)."""

    __name__ = "log_softmax"

    def forward(self, x, axis=-1):
        axis = _check_axis(axis, x, self.__name__)
        shifted = x - x.max(axis=axis, keepdims=True)
        y = shifted - np.log(np.exp(shifted).sum(axis=axis, keepdims=True))
        return y, (y, axis)

    def backward(self, dy, cache):
        y, axis = cache
        return dy - np.exp(y) * dy.sum(axis=axis, keepdims=True)


class GLU(ActivationFunction):
    """Gated linear unit: x = [a, b] split in halves along `axis`, y = a * sigmoid(b).

    The output is half as wide as the input along `axis`.
    dL/da = dy * sigmoid(b); dL/db = dy * a * s (1 - s), with s = sigmoid(b).
    """

    __name__ = "glu"

    def forward(self, x, axis=-1):
        axis = _check_axis(axis, x, self.__name__)
        if axis is None or x.shape[axis] % 2:
            raise ValueError(
                "Activation 'glu': the size of `axis` must be divisible by 2. "
                f"Received: x.shape={x.shape} with axis={axis}"
            )
        a, b = np.split(x, 2, axis=axis)
        s = _sigmoid(b)
        return a * s, (a, s, axis)

    def backward(self, dy, cache):
        a, s, axis = cache
        return np.concatenate([dy * s, dy * a * s * (1.0 - s)], axis=axis)

    def compute_output_shape(self, input_shape):
        shape = list(input_shape)
        if shape[-1] is not None:
            shape[-1] //= 2
        return tuple(shape)


class Sparsemax(ActivationFunction):
    """Sparsemax as Keras computes it: y = max(x - tau, 0) along `axis`, where, with x sorted
    decreasingly into s and c_m = s_1 + ... + s_m,

        support: the first k positions with s_m - (c_m - 1) / m > 0
        tau = (c_1 + c_2 + ... + c_k - 1) / k

    Keras's tau sums the partial sums c_1..c_k where Martins & Astudillo's sparsemax takes
    c_k alone, so for k > 1 the outputs do not sum to 1; minikeras follows Keras.
    Derivative (TensorFlow's, through the sort): with active = [x >= tau],
        dL/dx_i = dy_i active_i - (sum_j dy_j active_j) dtau/dx_i,
        dtau/ds_m = (k - m + 1) / k for m <= k, else 0.
    """

    __name__ = "sparsemax"

    def forward(self, x, axis=-1):
        axis = _check_axis(axis, x, self.__name__)
        if axis is None:
            raise ValueError("Activation 'sparsemax' needs an integer `axis`. Received: None")
        moved = np.moveaxis(x, axis, -1)                          # (..., n)
        n = moved.shape[-1]
        order = np.argsort(-moved, axis=-1, kind="stable")        # decreasing
        s = np.take_along_axis(moved, order, axis=-1)
        c = np.cumsum(s, axis=-1)
        m = np.arange(1, n + 1, dtype=x.dtype)
        support = s - (c - 1.0) / m > 0
        k = support.sum(axis=-1, keepdims=True).astype(x.dtype)
        tau = (np.where(support, c, 0.0).sum(axis=-1, keepdims=True) - 1.0) / k
        shifted = moved - tau
        y = np.maximum(shifted, 0).astype(x.dtype)
        # dtau/ds_m in sorted order, then scattered back to x's positions.
        dtau_sorted = np.where(support, (k - m + 1.0) / k, 0.0).astype(x.dtype)
        dtau = np.empty_like(dtau_sorted)
        np.put_along_axis(dtau, order, dtau_sorted, axis=-1)
        return np.moveaxis(y, -1, axis), (shifted >= 0, dtau, axis)

    def backward(self, dy, cache):
        active, dtau, axis = cache
        g = np.moveaxis(dy, axis, -1) * active
        dx = g - g.sum(axis=-1, keepdims=True) * dtau
        return np.moveaxis(dx, -1, axis)


# ------------------------------------------------------------------ the instances

linear = Linear()
exponential = Exponential()
relu = ReLU()
leaky_relu = LeakyReLU()
relu6 = ReLU6()
elu = ELU()
selu = SELU()
celu = CELU()
softplus = Softplus()
softsign = Softsign()
silu = swish = SiLU()
squareplus = Squareplus()
gelu = GELU()
mish = Mish()
sigmoid = Sigmoid()
log_sigmoid = LogSigmoid()
hard_sigmoid = HARD_SIGMOID = HardSigmoid()
hard_silu = hard_swish = HardSiLU()
sparse_sigmoid = SparseSigmoid()
tanh = Tanh()
tanh_shrink = TanhShrink()
hard_tanh = HardTanh()
soft_shrink = SoftShrink()
hard_shrink = HardShrink()
threshold = Threshold()
sparse_plus = SparsePlus()
softmax = Softmax()
log_softmax = LogSoftmax()
glu = GLU()
sparsemax = Sparsemax()

ALL_ACTIVATIONS = [
    celu, elu, exponential, gelu, glu, hard_shrink, hard_sigmoid, hard_silu, hard_tanh,
    leaky_relu, linear, log_sigmoid, log_softmax, mish, relu, relu6, selu, sigmoid, silu,
    soft_shrink, softmax, softplus, softsign, sparse_plus, sparse_sigmoid, sparsemax,
    squareplus, tanh, tanh_shrink, threshold,
]

__all__ = sorted(fn.__name__ for fn in ALL_ACTIVATIONS) + ["hard_swish", "swish"]
