"""Image array helpers that need only NumPy (Keras's `img_to_array`)."""

import numpy as np

from minikeras import backend


def img_to_array(img, data_format=None, dtype=None):
    """An image (a PIL image or any array-like, (height, width[, channels])) -> a 3-D array.

    Args:
        img: (height, width) or (height, width, channels) array-like; a PIL image also works
            (NumPy reads it through its array interface).
        data_format: "channels_last" -> (height, width, channels), "channels_first" ->
            (channels, height, width); None means backend.image_data_format().
        dtype: the result's dtype; None means backend.floatx().
    """
    data_format = backend.standardize_data_format(data_format)
    x = np.asarray(img, dtype=dtype or backend.floatx())
    if x.ndim == 2:
        x = x[None] if data_format == "channels_first" else x[:, :, None]
    elif x.ndim == 3:
        if data_format == "channels_first":
            x = x.transpose(2, 0, 1)
    else:
        raise ValueError(f"Unsupported image shape: {x.shape}")
    return x


__all__ = ["img_to_array"]
