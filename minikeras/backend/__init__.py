"""Global numeric settings, as in `keras.backend` / `keras.config`.

minikeras has one backend, NumPy. This module keeps the settings every other module reads: the
default float type, the fuzz factor epsilon, the image data format, and the counters that give
layers their default names ("dense", "dense_1", ...).
"""

import numpy as np

_FLOATX = "float32"
_EPSILON = 1e-7
_IMAGE_DATA_FORMAT = "channels_last"
_NAME_COUNTS = {}

_VALID_FLOATX = ("float16", "float32", "float64")
_VALID_DATA_FORMATS = ("channels_last", "channels_first")


def backend():
    """The backend name: always "minikeras"."""
    return "minikeras"


def floatx():
    """The default float type, as a string ("float32" unless changed)."""
    return _FLOATX


def set_floatx(value):
    """Sets the default float type: "float16", "float32" or "float64"."""
    global _FLOATX
    value = str(value)
    if value not in _VALID_FLOATX:
        raise ValueError(
            f"Unknown `floatx` value. Expected one of {_VALID_FLOATX}. Received: value={value!r}"
        )
    _FLOATX = value


def epsilon():
    """The fuzz factor used to keep logs and divisions finite (1e-7 by default)."""
    return _EPSILON


def set_epsilon(value):
    """Sets the fuzz factor."""
    global _EPSILON
    _EPSILON = float(value)


def image_data_format():
    """"channels_last" (batch, height, width, channels) or "channels_first"."""
    return _IMAGE_DATA_FORMAT


def set_image_data_format(data_format):
    """Sets the default image layout for convolution and pooling layers."""
    global _IMAGE_DATA_FORMAT
    data_format = str(data_format).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of "
            f"{_VALID_DATA_FORMATS}. Received: data_format={data_format!r}"
        )
    _IMAGE_DATA_FORMAT = data_format


def standardize_data_format(data_format):
    """Returns `data_format`, or the global default when it is None, checking the value."""
    if data_format is None:
        return image_data_format()
    data_format = str(data_format).lower()
    if data_format not in _VALID_DATA_FORMATS:
        raise ValueError(
            "The `data_format` argument must be one of "
            f"{_VALID_DATA_FORMATS}. Received: data_format={data_format!r}"
        )
    return data_format


def standardize_dtype(dtype):
    """Returns a dtype name such as "float32"; None means floatx()."""
    if dtype is None:
        return floatx()
    if hasattr(dtype, "name") and not isinstance(dtype, str):
        return str(np.dtype(dtype.name))
    return str(np.dtype(dtype))


def get_uid(prefix=""):
    """Counts names per prefix: the first call gives 1, then 2, ..."""
    _NAME_COUNTS[prefix] = _NAME_COUNTS.get(prefix, 0) + 1
    return _NAME_COUNTS[prefix]


def unique_name(prefix):
    """Keras's default object names: "dense", then "dense_1", "dense_2", ..."""
    uid = get_uid(prefix)
    return prefix if uid == 1 else f"{prefix}_{uid - 1}"


def clear_session():
    """Resets the default-name counters, as `keras.backend.clear_session()` does."""
    _NAME_COUNTS.clear()


def cast_to_floatx(x):
    """Casts an array to the default float type."""
    return np.asarray(x, dtype=floatx())


def is_float_dtype(dtype):
    """True for float16/32/64 (a dtype or its name)."""
    return np.issubdtype(np.dtype(standardize_dtype(dtype)), np.floating)


def is_int_dtype(dtype):
    """True for signed or unsigned integer dtypes."""
    return np.issubdtype(np.dtype(standardize_dtype(dtype)), np.integer)


def is_keras_tensor(x):
    """True for the symbolic tensors `Input(...)` and `layer.output` return."""
    from minikeras.backend.keras_tensor import KerasTensor

    return isinstance(x, KerasTensor)


__all__ = [
    "backend",
    "cast_to_floatx",
    "clear_session",
    "epsilon",
    "floatx",
    "get_uid",
    "image_data_format",
    "is_float_dtype",
    "is_int_dtype",
    "is_keras_tensor",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
    "standardize_data_format",
    "standardize_dtype",
    "unique_name",
]
