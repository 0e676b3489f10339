"""Output sizes and padding of a window sliding over an image axis, as TensorFlow computes them.

Shared by the convolution and pooling kernels, reference and fast alike.
"""


def conv_output_length(length, window, stride, padding, dilation=1):
    """Output length of a convolution/pooling along one axis, as TensorFlow computes it.

    "valid": floor((length - effective_window) / stride) + 1  (0 or less means no output).
    "same":  ceil(length / stride).
    """
    effective = (window - 1) * dilation + 1
    if padding == "same":
        return -(-length // stride)
    if padding == "valid":
        return (length - effective) // stride + 1
    raise ValueError(f"Expected padding to be 'valid' or 'same'. Received: padding={padding!r}")


def same_padding_amounts(length, window, stride, dilation=1):
    """(before, after) zero padding TensorFlow uses for "same": the odd element goes after."""
    effective = (window - 1) * dilation + 1
    out_length = -(-length // stride)
    total = max((out_length - 1) * stride + effective - length, 0)
    return total // 2, total - total // 2


def pad_amounts(height, width, window, strides, padding, dilation=(1, 1)):
    """((top, bottom), (left, right)) padding for a 2-D window under `padding`."""
    if padding == "valid":
        return (0, 0), (0, 0)
    return (
        same_padding_amounts(height, window[0], strides[0], dilation[0]),
        same_padding_amounts(width, window[1], strides[1], dilation[1]),
    )


def offset_slices(i, j, strides, dilation, out_hw):
    """Index (batch, rows, columns) of the input pixels that window offset (i, j) reads, for
    every output pixel at once: one strided slice (for one offset, no two output pixels read
    the same input pixel, so `dx[offset_slices(...)] += ...` needs no np.add.at)."""
    top = i * dilation[0]
    left = j * dilation[1]
    return (
        slice(None),
        slice(top, top + strides[0] * (out_hw[0] - 1) + 1, strides[0]),
        slice(left, left + strides[1] * (out_hw[1] - 1) + 1, strides[1]),
    )


__all__ = ["conv_output_length", "offset_slices", "pad_amounts", "same_padding_amounts"]
