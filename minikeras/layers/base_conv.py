"""Helpers shared by the 2-D convolution, pooling and padding layers.

They normalise constructor arguments (padding strings, data formats), move channels between
"channels_first" and the NHWC layout the kernels in minikeras.kernels use, and check input shapes
once the layer sees them, with errors that name the layer, the input shape and the window.
"""

import numpy as np

from minikeras import backend, constraints, initializers, regularizers
from minikeras.kernels.conv import conv_output_length
from minikeras.layers.layer import activation_of, maybe_serialize
from minikeras.utils.argument_validation import int_tuple, one_of

PADDINGS = ("valid", "same")


def set_weight_arguments(layer, activation, use_bias, kernel_initializer, bias_initializer,
                         kernel_regularizer, bias_regularizer, kernel_constraint,
                         bias_constraint):
    """The constructor arguments every convolution layer with a kernel and a bias shares, each
    turned into its object (an unknown name raises Keras's error for it)."""
    layer.activation = activation_of(activation)
    layer.use_bias = bool(use_bias)
    layer.kernel_initializer = initializers.get(kernel_initializer)
    layer.bias_initializer = initializers.get(bias_initializer)
    layer.kernel_regularizer = regularizers.get(kernel_regularizer)
    layer.bias_regularizer = regularizers.get(bias_regularizer)
    layer.kernel_constraint = constraints.get(kernel_constraint)
    layer.bias_constraint = constraints.get(bias_constraint)


class PreactivationMixin:
    """forward/backward for a convolution layer ending in its activation.

    The layer supplies the convolution itself, without the activation:

        forward_preactivation(x, training) -> (z, conv_cache)
        backward_preactivation(dz, conv_cache, need_input_gradient) -> (dx, grads)

    and this adds the activation on top. The graph executor calls the two halves directly
    when it moves a relu after the max pooling that follows (models/fusion.py).
    """

    def forward(self, x, training=False):
        """Returns (a, cache): a = activation(z), shaped like z."""
        z, conv_cache = self.forward_preactivation(x, training)
        a, act_cache = self._activate(z)
        return a, (conv_cache, act_cache)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        """da: dL/da, shaped like the output. Returns (dx, [dkernel, dbias]).

        need_input_gradient=False returns dx=None and saves the input-gradient GEMMs (a
        model's first layer: nothing upstream uses dL/dx).
        """
        conv_cache, act_cache = cache
        dz = self._activation_backward(da, act_cache, from_logits)
        return self.backward_preactivation(dz, conv_cache, need_input_gradient)

    def output_logits(self, cache):
        return self._logits_from(cache[1])


def standardize_padding(padding):
    """ "valid"/"same" (any case) -> lower case; anything else raises ValueError."""
    return one_of("padding", padding, PADDINGS)


def standardize_data_format(data_format):
    """None -> backend.image_data_format(); checks the value."""
    return backend.standardize_data_format(data_format)


def standardize_pair(name, value, owner=None):
    """An int or a pair of positive ints -> (int, int)."""
    return int_tuple(name, value, 2, owner=owner)


def to_channels_last(x, data_format):
    """(batch, channels, h, w) -> (batch, h, w, channels) when data_format is channels_first."""
    if data_format == "channels_first":
        return np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x


def from_channels_last(x, data_format):
    """(batch, h, w, channels) -> (batch, channels, h, w) when data_format is channels_first."""
    if data_format == "channels_first":
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x


def spatial_dims(input_shape, data_format):
    """(height, width, channels) of a 4-D shape in either layout."""
    if data_format == "channels_first":
        return input_shape[2], input_shape[3], input_shape[1]
    return input_shape[1], input_shape[2], input_shape[3]


def check_rank(layer, input_shape):
    """Raises the Keras-style error for an input that is not (batch, h, w, channels)-like."""
    input_shape = tuple(input_shape)
    if len(input_shape) != 4:
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected ndim=4, "
            f"found ndim={len(input_shape)}. Full shape received: {input_shape}"
        )


def check_window_fits(layer, input_shape, window, strides, padding, data_format,
                      dilation_rate=(1, 1), window_name="kernel_size"):
    """With "valid" padding, a window (after dilation) larger than the input has no output."""
    height, width, _ = spatial_dims(input_shape, data_format)
    for length, size, stride, dilation in zip((height, width), window, strides, dilation_rate,
                                              strict=True):
        if length is None:
            continue
        if conv_output_length(length, size, stride, padding, dilation) <= 0:
            effective = tuple((k - 1) * d + 1 for k, d in zip(window, dilation_rate, strict=True))
            dilated = f" (dilated to {effective})" if effective != tuple(window) else ""
            raise ValueError(
                f"Layer {layer.name!r}: the window {window_name}={tuple(window)}{dilated} is "
                f"larger than the input with padding={padding!r}: its spatial size is "
                f"{(height, width)}. Received: input_shape={tuple(input_shape)}"
            )


def output_spatial_shape(input_shape, window, strides, padding, data_format,
                         dilation_rate=(1, 1)):
    """(out_height, out_width) of a convolution/pooling; None where the input size is None."""
    height, width, _ = spatial_dims(input_shape, data_format)
    return tuple(
        None if length is None else conv_output_length(length, size, stride, padding, dilation)
        for length, size, stride, dilation in zip((height, width), window, strides,
                                                  dilation_rate, strict=True)
    )


def assemble_shape(batch, spatial, channels, data_format):
    """(batch, h, w, c) or (batch, c, h, w) from its parts."""
    if data_format == "channels_first":
        return (batch, channels, *spatial)
    return (batch, *spatial, channels)


def conv_config(layer, *names):
    """get_config's entries shared by the convolution layers: the geometry attributes named
    (filters, kernel_size, strides, ...) in that order, then the activation, use_bias and the
    kernel and bias initializers, regularizers and constraints."""
    config = {name: getattr(layer, name) for name in names}
    config.update({
        "activation": layer.activation.__name__,
        "use_bias": layer.use_bias,
        "kernel_initializer": initializers.serialize(layer.kernel_initializer),
        "bias_initializer": initializers.serialize(layer.bias_initializer),
        "kernel_regularizer": maybe_serialize(regularizers.serialize, layer.kernel_regularizer),
        "bias_regularizer": maybe_serialize(regularizers.serialize, layer.bias_regularizer),
        "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                layer.activity_regularizer),
        "kernel_constraint": maybe_serialize(constraints.serialize, layer.kernel_constraint),
        "bias_constraint": maybe_serialize(constraints.serialize, layer.bias_constraint),
    })
    return config
