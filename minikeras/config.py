"""`keras.config`: global settings (float type, epsilon, image data format), plus minikeras's
choice of convolution/pooling/batch normalization kernels (`set_kernels("reference" |
"fast")`)."""

from minikeras.backend import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from minikeras.kernels import kernels, set_kernels

__all__ = [
    "backend",
    "epsilon",
    "floatx",
    "image_data_format",
    "kernels",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "set_kernels",
]
