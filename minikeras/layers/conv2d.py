"""`Conv2D`: out = activation(conv2d(x, kernel) + bias)."""

import numpy as np

from minikeras.kernels.conv import conv2d_backward, conv2d_forward
from minikeras.kernels.workspace import Workspace
from minikeras.layers import base_conv
from minikeras.layers.layer import ActivationMixin, Layer
from minikeras.utils.argument_validation import positive_int


class Conv2D(base_conv.PreactivationMixin, ActivationMixin, Layer):
    """2-D convolution layer (a cross-correlation, as in Keras and TensorFlow).

    Args:
        filters: number of output channels.
        kernel_size: int or (kh, kw).
        strides: int or (sh, sw). Cannot exceed 1 together with a dilation rate above 1.
        padding: "valid" (no padding) or "same" (output size ceil(input / stride); when the
            padding is odd the extra row/column goes at the bottom/right, as in TensorFlow).
        data_format: "channels_last" (batch, h, w, c) or "channels_first" (batch, c, h, w);
            None means backend.image_data_format().
        dilation_rate: int or (dh, dw); the kernel taps are dh/dw pixels apart.
        groups: splits input channels and filters into `groups` independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in Keras.

    Weights: kernel (kh, kw, in_channels // groups, filters), bias (filters,) -- Keras's layout,
    so get_weights()/set_weights() copy across. The maths runs in NHWC (minikeras.kernels.conv);
    channels_first inputs are transposed in and out.
    """

    splits_batches = True  # its big batches run in parallel parts (kernels/parallel.py)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"layer {self.name!r}"
        self.filters = positive_int("filters", filters, owner=owner)
        self.kernel_size = base_conv.standardize_pair("kernel_size", kernel_size, owner)
        self.strides = base_conv.standardize_pair("strides", strides, owner)
        self.padding = base_conv.standardize_padding(padding)
        self.data_format = base_conv.standardize_data_format(data_format)
        self.dilation_rate = base_conv.standardize_pair("dilation_rate", dilation_rate, owner)
        self.groups = positive_int("groups", groups, owner=owner)
        if self.filters % self.groups:
            raise ValueError(
                f"The number of filters must be evenly divisible by the number of groups "
                f"({owner}). Received: groups={self.groups}, filters={self.filters}"
            )
        if max(self.strides) > 1 and max(self.dilation_rate) > 1:
            raise ValueError(
                f"`strides > 1` is not supported together with `dilation_rate > 1` ({owner}). "
                f"Received: strides={self.strides} and dilation_rate={self.dilation_rate}"
            )
        base_conv.set_weight_arguments(
            self, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint)
        self._input_channels = None
        self._workspace = Workspace()  # big arrays reused from step to step (kernels/workspace.py)

    # ---------------------------------------------------------------- building

    def _check_input_shape(self, input_shape):
        """Rank, channel count and window size checks; every message names this layer."""
        base_conv.check_rank(self, input_shape)
        _, _, channels = base_conv.spatial_dims(input_shape, self.data_format)
        if channels is None:
            raise ValueError(
                f"The channel dimension of the input to layer {self.name!r} must be known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        if self._input_channels is not None and channels != self._input_channels:
            axis = 1 if self.data_format == "channels_first" else -1
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected axis "
                f"{axis} of input shape to have value {self._input_channels}, but received "
                f"input with shape {tuple(input_shape)}"
            )
        if channels % self.groups:
            raise ValueError(
                f"The number of input channels must be evenly divisible by the number of "
                f"groups (layer {self.name!r}). Received groups={self.groups}, but the input "
                f"has {channels} channels (full input shape is {tuple(input_shape)})."
            )
        base_conv.check_window_fits(self, input_shape, self.kernel_size, self.strides,
                                    self.padding, self.data_format, self.dilation_rate)
        return channels

    def build(self, input_shape):
        channels = self._check_input_shape(input_shape)
        self._input_channels = channels
        self.kernel = self.add_weight(
            self.kernel_size + (channels // self.groups, self.filters), self.kernel_initializer,
            name="kernel", regularizer=self.kernel_regularizer,
            constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (self.filters,), self.bias_initializer, name="bias",
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        spatial = base_conv.output_spatial_shape(input_shape, self.kernel_size, self.strides,
                                                 self.padding, self.data_format,
                                                 self.dilation_rate)
        return base_conv.assemble_shape(input_shape[0], spatial, self.filters, self.data_format)

    # -------------------------------------------------------------------- maths

    def forward_preactivation(self, x, training=False, normalize=None):
        """The convolution plus bias, without the activation: (z, conv_cache). The graph
        executor calls it directly when it applies a relu after the next layer's max
        pooling instead, or folds the BatchNormalization after it in (`normalize`: see
        kernels/conv_fast.conv2d_forward; models/fusion.py)."""
        self._check_input_shape(x.shape)
        x = np.asarray(x, dtype=self.dtype)
        x_nhwc = base_conv.to_channels_last(x, self.data_format)
        bias = self.bias.value if self.use_bias else None
        z, conv_cache = conv2d_forward(x_nhwc, self.kernel.value, self.strides, self.padding,
                                       self.dilation_rate, self.groups, bias,
                                       workspace=self._workspace, normalize=normalize)
        return base_conv.from_channels_last(z, self.data_format), conv_cache

    def backward_preactivation(self, dz, conv_cache, need_input_gradient=True):
        """dz: dL/dz for forward_preactivation's z. Returns (dx, [dkernel, dbias])."""
        dz = base_conv.to_channels_last(np.asarray(dz, dtype=self.dtype), self.data_format)
        # dx: (batch, h, w, in) or None, dkernel: kernel shape
        dx, dkernel, dbias = conv2d_backward(dz, conv_cache, need_dx=need_input_gradient)
        if dx is not None:
            dx = base_conv.from_channels_last(dx, self.data_format)
        grads = [dkernel]
        if self.use_bias:
            grads.append(dbias)
        return dx, grads if self.trainable else []

    # ------------------------------------------------------------ configuration

    def get_config(self):
        config = super().get_config()
        config.update(base_conv.conv_config(
            self, "filters", "kernel_size", "strides", "padding",
            "data_format", "dilation_rate", "groups"))
        return config

