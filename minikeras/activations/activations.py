"""The built-in activations. Each class: forward maths, then the derivative used by backward.

Notation: x is the activation's input (the layer's pre-activation z), y its output, dy the
gradient of the loss with respect to y. Every backward returns dL/dx = dy * dy/dx (softmax,
whose Jacobian is not diagonal, contracts along its axis instead).
"""

import numpy as np

from minikeras.activations.base import ActivationFunction


class Linear(ActivationFunction):
    """y = x."""

    __name__ = "linear"

    def forward(self, x):
        return x, None

    def backward(self, dy, cache):
        return dy


class ReLU(ActivationFunction):
    """y = x where x > threshold (capped at max_value), else negative_slope * (x - threshold)."""

    __name__ = "relu"

    def forward(self, x, negative_slope=0.0, max_value=None, threshold=0.0):
        above = x > threshold
        if negative_slope == 0.0 and threshold == 0.0:
            y = np.maximum(x, 0)
        else:
            y = np.where(above, x, negative_slope * (x - threshold)).astype(x.dtype)
        if max_value is not None:
            below_cap = x < max_value
            y = np.minimum(y, max_value).astype(x.dtype)
        else:
            below_cap = None
        return y, (above, below_cap, negative_slope)

    def backward(self, dy, cache):
        above, below_cap, negative_slope = cache
        # dy/dx = 1 above the threshold, negative_slope below it, 0 above the cap.
        if negative_slope == 0.0:
            dx = dy * above
        else:
            dx = dy * np.where(above, 1.0, negative_slope).astype(dy.dtype)
        if below_cap is not None:
            dx = dx * below_cap
        return dx


class Sigmoid(ActivationFunction):
    """y = 1 / (1 + exp(-x)); dy/dx = y (1 - y)."""

    __name__ = "sigmoid"
    outputs_probabilities = True

    def forward(self, x):
        # exp of a non-positive number never overflows: pick the form by the sign of x.
        e = np.exp(-np.abs(x))
        y = np.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype)
        return y, y

    def backward(self, dy, y):
        return dy * y * (1.0 - y)


class Softmax(ActivationFunction):
    """y_i = exp(x_i) / sum_j exp(x_j) along `axis`; dL/dx = y * (dy - sum(dy * y))."""

    __name__ = "softmax"
    outputs_probabilities = True

    def forward(self, x, axis=-1):
        shifted = x - x.max(axis=axis, keepdims=True)  # same result, no overflow
        e = np.exp(shifted)
        y = e / e.sum(axis=axis, keepdims=True)
        return y, (y, axis)

    def backward(self, dy, cache):
        y, axis = cache
        return y * (dy - (dy * y).sum(axis=axis, keepdims=True))


class Tanh(ActivationFunction):
    """y = tanh(x); dy/dx = 1 - y^2."""

    __name__ = "tanh"

    def forward(self, x):
        y = np.tanh(x)
        return y, y

    def backward(self, dy, y):
        return dy * (1.0 - y * y)


linear = Linear()
relu = ReLU()
sigmoid = Sigmoid()
softmax = Softmax()
tanh = Tanh()

ALL_ACTIVATIONS = [linear, relu, sigmoid, softmax, tanh]
