"""`AveragePooling2D`: the mean of each pooling window."""

from minikeras.layers.base_pooling import BasePooling2D


class AveragePooling2D(BasePooling2D):
    """Average pooling over (ph, pw) windows; see BasePooling2D for the arguments.

    `pool_size` has no default, as in Keras 3. With "same" padding a window that hangs over
    the border averages only its real pixels (TensorFlow's rule).
    """

    _mode = "average"

    def __init__(self, pool_size, strides=None, padding="valid", data_format=None, **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format,
                         **kwargs)
