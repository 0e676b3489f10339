"""`AveragePooling1D`: the mean of each window of steps, channel by channel."""

from minikeras.layers.base_pooling1d import BasePooling1D


class AveragePooling1D(BasePooling1D):
    """out[n, t, c] = mean over the window's steps; see BasePooling1D for the arguments.

    `pool_size` has no default here, as in Keras (MaxPooling1D's is 2). With "same" padding
    a window hanging over the ends averages only its real steps.
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format,
                         **kwargs)
