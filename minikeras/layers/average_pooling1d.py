"""`AveragePooling1D`: the mean of each window of steps, channel by channel."""

from minikeras.layers.base_pooling1d import BasePooling1D


class AveragePooling1D(BasePooling1D):
    """out[n, t, c] = mean over the window's steps; see BasePooling1D for the arguments.

    With "same" padding a window hanging over the ends averages only its real steps.
    """

    _mode = "average"
