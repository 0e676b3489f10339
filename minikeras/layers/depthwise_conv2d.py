"""`DepthwiseConv2D`: each input channel convolved with its own `depth_multiplier` filters.

With kernel (kh, kw, C, M), output channel c * M + m (TensorFlow's order) is

    out[n, y, x, c, m] = sum_{i, j} xpad[n, y*sh + i*dh, x*sw + j*dw, c] * kernel[i, j, c, m]

a grouped convolution with one group per channel: kernels/depthwise.py computes it, one
multiply-add per kernel offset (kernels/depthwise_reference.py is the version to read).
"""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.kernels.conv import conv2d_bias_gradient
from minikeras.kernels.depthwise import depthwise_backward, depthwise_forward
from minikeras.kernels.workspace import Workspace
from minikeras.layers import base_conv
from minikeras.layers.layer import ActivationMixin, Layer, activation_of, maybe_serialize
from minikeras.utils.argument_validation import positive_int


def check_conv_geometry(owner, strides, dilation_rate):
    """Keras refuses strides > 1 together with dilation_rate > 1."""
    if max(strides) > 1 and max(dilation_rate) > 1:
        raise ValueError(
            f"`strides > 1` is not supported together with `dilation_rate > 1` ({owner}). "
            f"Received: strides={strides} and dilation_rate={dilation_rate}"
        )


def check_depthwise_input(layer, input_shape):
    """Rank, known channel count (fixed once built) and window size; returns the channels."""
    base_conv.check_rank(layer, input_shape)
    _, _, channels = base_conv.spatial_dims(input_shape, layer.data_format)
    if channels is None:
        raise ValueError(
            f"The channel dimension of the input to layer {layer.name!r} must be known. "
            f"Received: input_shape={tuple(input_shape)}"
        )
    if layer._input_channels is not None and channels != layer._input_channels:
        axis = 1 if layer.data_format == "channels_first" else -1
        raise ValueError(
            f"Input 0 of layer {layer.name!r} is incompatible with the layer: expected axis "
            f"{axis} of input shape to have value {layer._input_channels}, but received "
            f"input with shape {tuple(input_shape)}"
        )
    base_conv.check_window_fits(layer, input_shape, layer.kernel_size, layer.strides,
                                layer.padding, layer.data_format, layer.dilation_rate)
    return channels


class DepthwiseConv2D(ActivationMixin, Layer):
    """Depthwise 2-D convolution: no mixing between channels.

    Args:
        kernel_size, strides, dilation_rate: int or pair (strides > 1 and dilation_rate > 1
            cannot go together).
        padding: "valid" or "same".
        depth_multiplier: filters per input channel; the output has in * depth_multiplier
            channels.
        data_format, activation, use_bias: as Conv2D.
        depthwise_initializer/regularizer/constraint, bias_initializer/regularizer/constraint,
        activity_regularizer: as in Keras.

    Weights: kernel (kh, kw, in_channels, depth_multiplier) (Keras names the depthwise kernel
    "kernel" here), bias (in_channels * depth_multiplier,).
    """

    splits_batches = True  # its big batches run in parallel parts (kernels/parallel.py)

    def __init__(self, kernel_size, strides=(1, 1), padding="valid", depth_multiplier=1,
                 data_format=None, dilation_rate=(1, 1), activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", bias_initializer="zeros",
                 depthwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"layer {self.name!r}"
        self.kernel_size = base_conv.standardize_pair("kernel_size", kernel_size, owner)
        self.strides = base_conv.standardize_pair("strides", strides, owner)
        self.padding = base_conv.standardize_padding(padding)
        self.depth_multiplier = positive_int("depth_multiplier", depth_multiplier, owner=owner)
        self.data_format = base_conv.standardize_data_format(data_format)
        self.dilation_rate = base_conv.standardize_pair("dilation_rate", dilation_rate, owner)
        check_conv_geometry(owner, self.strides, self.dilation_rate)
        self.activation = activation_of(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._input_channels = None
        self._workspace = Workspace()  # big arrays reused from step to step (kernels/workspace.py)

    def build(self, input_shape):
        channels = check_depthwise_input(self, input_shape)
        self._input_channels = channels
        self.kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            name="kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (channels * self.depth_multiplier,), self.bias_initializer, name="bias",
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        channels = check_depthwise_input(self, input_shape)
        spatial = base_conv.output_spatial_shape(input_shape, self.kernel_size, self.strides,
                                                 self.padding, self.data_format,
                                                 self.dilation_rate)
        return base_conv.assemble_shape(input_shape[0], spatial,
                                        channels * self.depth_multiplier, self.data_format)

    # -------------------------------------------------------------------- maths

    def forward(self, x, training=False):
        """x: (batch, h, w, in) or channels first. Returns (a, cache), a: (batch, out_h,
        out_w, in * depth_multiplier) in the same layout."""
        check_depthwise_input(self, x.shape)
        x = base_conv.to_channels_last(np.asarray(x, dtype=self.dtype), self.data_format)
        kernel = self.kernel.value.astype(self.dtype, copy=False)
        bias = self.bias.value if self.use_bias else None
        z, conv_cache = depthwise_forward(x, kernel, self.strides, self.padding,
                                          self.dilation_rate, bias, workspace=self._workspace)
        a, act_cache = self._activate(base_conv.from_channels_last(z, self.data_format))
        return a, (conv_cache, act_cache)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        """da: dL/da shaped like the output. Returns (dx, [dkernel, dbias])."""
        conv_cache, act_cache = cache
        dz = self._activation_backward(da, act_cache, from_logits)
        dz = base_conv.to_channels_last(np.asarray(dz, dtype=self.dtype), self.data_format)
        dx, dkernel = depthwise_backward(dz, conv_cache, self.kernel.shape,
                                         need_dx=need_input_gradient)
        if dx is not None:
            dx = base_conv.from_channels_last(dx, self.data_format)
        grads = [dkernel]
        if self.use_bias:
            grads.append(conv2d_bias_gradient(dz))
        return dx, grads if self.trainable else []

    def output_logits(self, cache):
        return self._logits_from(cache[1])

    def get_config(self):
        config = super().get_config()
        config.update({
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "depth_multiplier": self.depth_multiplier,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "activation": self.activation.__name__,
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": maybe_serialize(regularizers.serialize,
                                                     self.depthwise_regularizer),
            "bias_regularizer": maybe_serialize(regularizers.serialize, self.bias_regularizer),
            "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                    self.activity_regularizer),
            "depthwise_constraint": maybe_serialize(constraints.serialize,
                                                    self.depthwise_constraint),
            "bias_constraint": maybe_serialize(constraints.serialize, self.bias_constraint),
        })
        return config
