"""`MaxPooling2D`: the maximum of each pooling window."""

from minikeras.layers.base_pooling import BasePooling2D


class MaxPooling2D(BasePooling2D):
    """Max pooling over (ph, pw) windows; see BasePooling2D for the arguments.

    Padded positions ("same") never win the maximum. When several pixels of a window tie for
    the maximum, the whole gradient goes to the first of them in row-major order, which is
    where TensorFlow sends it.
    """

    _mode = "max"
    # relu(max(window)) == max(relu(window)): a conv's relu may run after this (models/fusion.py)
    commutes_with_relu = True

    def __init__(self, pool_size=(2, 2), strides=None, padding="valid", data_format=None,
                 **kwargs):
        super().__init__(pool_size, strides=strides, padding=padding, data_format=data_format,
                         **kwargs)
