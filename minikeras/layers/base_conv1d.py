"""Helpers shared by the 1-D convolution, pooling, padding and resampling layers.

A sequence is (batch, steps, channels) ("channels_last") or (batch, channels, steps)
("channels_first"). The convolution and pooling maths reuse the 2-D kernels in
minikeras.kernels: a sequence is an image of height 1, (batch, 1, steps, channels).
"""

import numpy as np

from minikeras.kernels.conv import conv_output_length

PADDINGS = ("valid", "same")
CONV_PADDINGS = ("valid", "same", "causal")


def to_steps_last_channels(x, data_format):
    """(batch, channels, steps) -> (batch, steps, channels) when data_format is channels_first."""
    if data_format == "channels_first":
        return np.ascontiguousarray(x.transpose(0, 2, 1))
    return x


from_steps_last_channels = to_steps_last_channels  # the same swap of the last two axes


def as_image(x):
    """(batch, steps, channels) -> (batch, 1, steps, channels), a view for the 2-D kernels."""
    return x[:, None]


def steps_and_channels(input_shape, data_format):
    """(steps, channels) of a 3-D shape in either layout."""
    if data_format == "channels_first":
        return input_shape[2], input_shape[1]
    return input_shape[1], input_shape[2]


def assemble_shape(batch, steps, channels, data_format):
    """(batch, steps, channels) or (batch, channels, steps) from its parts."""
    if data_format == "channels_first":
        return (batch, channels, steps)
    return (batch, steps, channels)


def check_rank(layer, input_shape):
    """Raises the Keras-style error for an input that is not (batch, steps, channels)-like."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected ndim=3, "
            f"found ndim={len(input_shape)}. Full shape received: {input_shape}"
        )


def output_steps(steps, window, stride, padding, dilation=1):
    """Output length of a 1-D convolution/pooling ("causal" is as long as "same")."""
    if steps is None:
        return None
    if padding == "causal":
        padding = "same"
    return conv_output_length(steps, window, stride, padding, dilation)


def check_window_fits(layer, input_shape, window, stride, padding, data_format, dilation=1,
                      window_name="kernel_size"):
    """With "valid" padding, a window (after dilation) longer than the input has no output."""
    steps, _ = steps_and_channels(input_shape, data_format)
    if steps is None or output_steps(steps, window, stride, padding, dilation) > 0:
        return
    effective = (window - 1) * dilation + 1
    dilated = f" (dilated to {effective})" if effective != window else ""
    raise ValueError(
        f"Layer {layer.name!r}: the window {window_name}=({window},){dilated} is longer than "
        f"the input with padding={padding!r}: it has {steps} steps. Received: "
        f"input_shape={tuple(input_shape)}"
    )
