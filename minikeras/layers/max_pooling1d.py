"""`MaxPooling1D`: the maximum of each window of steps, channel by channel."""

from minikeras.layers.base_pooling1d import BasePooling1D


class MaxPooling1D(BasePooling1D):
    """out[n, t, c] = max over the window's steps; see BasePooling1D for the arguments.

    "same" padding pads with -inf, so a padded step never wins. The gradient goes to the
    first maximum of each window, as TensorFlow's does.
    """

    _mode = "max"
    # relu(max(window)) == max(relu(window)): a conv's relu may run after this (models/fusion.py)
    commutes_with_relu = True
