"""`SeparableConv2D`: a depthwise convolution, then a 1x1 ("pointwise") convolution.

    d = depthwise(x, depthwise_kernel)                      (batch, oh, ow, in * multiplier)
    z = d @ pointwise_kernel[0, 0] + bias                   (batch, oh, ow, filters)

Backward, the pointwise step is a Dense layer applied at every pixel:

    dpointwise = d.T @ dz       dbias = sum of dz       dd = dz @ pointwise_kernel[0, 0].T

and dd goes through the depthwise convolution's backward (layers/depthwise_conv2d.py).
"""

import numpy as np

from minikeras import constraints, initializers, regularizers
from minikeras.kernels import parallel
from minikeras.kernels.conv import conv2d_bias_gradient
from minikeras.kernels.depthwise import depthwise_backward, depthwise_forward
from minikeras.kernels.workspace import Workspace
from minikeras.layers import base_conv
from minikeras.layers.depthwise_conv2d import check_conv_geometry, check_depthwise_input
from minikeras.layers.layer import ActivationMixin, Layer, activation_of, maybe_serialize
from minikeras.utils.argument_validation import positive_int


class SeparableConv2D(ActivationMixin, Layer):
    """Depthwise separable 2-D convolution.

    Args:
        filters: output channels of the pointwise step.
        kernel_size, strides, padding, dilation_rate, depth_multiplier: of the depthwise step,
            as DepthwiseConv2D.
        data_format, activation, use_bias: as Conv2D.
        depthwise_/pointwise_/bias_ initializer, regularizer, constraint and
        activity_regularizer: as in Keras.

    Weights (Keras's names and layout): depthwise_kernel (kh, kw, in, depth_multiplier),
    pointwise_kernel (1, 1, in * depth_multiplier, filters), bias (filters,).
    """

    splits_batches = True  # its big batches run in parallel parts (kernels/parallel.py)

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid", data_format=None,
                 dilation_rate=(1, 1), depth_multiplier=1, activation=None, use_bias=True,
                 depthwise_initializer="glorot_uniform", pointwise_initializer="glorot_uniform",
                 bias_initializer="zeros", depthwise_regularizer=None,
                 pointwise_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 depthwise_constraint=None, pointwise_constraint=None, bias_constraint=None,
                 **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"layer {self.name!r}"
        self.filters = positive_int("filters", filters, owner=owner)
        self.kernel_size = base_conv.standardize_pair("kernel_size", kernel_size, owner)
        self.strides = base_conv.standardize_pair("strides", strides, owner)
        self.padding = base_conv.standardize_padding(padding)
        self.data_format = base_conv.standardize_data_format(data_format)
        self.dilation_rate = base_conv.standardize_pair("dilation_rate", dilation_rate, owner)
        self.depth_multiplier = positive_int("depth_multiplier", depth_multiplier, owner=owner)
        check_conv_geometry(owner, self.strides, self.dilation_rate)
        self.activation = activation_of(activation)
        self.use_bias = bool(use_bias)
        self.depthwise_initializer = initializers.get(depthwise_initializer)
        self.pointwise_initializer = initializers.get(pointwise_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.depthwise_regularizer = regularizers.get(depthwise_regularizer)
        self.pointwise_regularizer = regularizers.get(pointwise_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.depthwise_constraint = constraints.get(depthwise_constraint)
        self.pointwise_constraint = constraints.get(pointwise_constraint)
        self.bias_constraint = constraints.get(bias_constraint)
        self._input_channels = None
        self._workspace = Workspace()  # big arrays reused from step to step (kernels/workspace.py)

    def build(self, input_shape):
        channels = check_depthwise_input(self, input_shape)
        self._input_channels = channels
        self.depthwise_kernel = self.add_weight(
            self.kernel_size + (channels, self.depth_multiplier), self.depthwise_initializer,
            name="depthwise_kernel", regularizer=self.depthwise_regularizer,
            constraint=self.depthwise_constraint,
        )
        self.pointwise_kernel = self.add_weight(
            (1, 1, channels * self.depth_multiplier, self.filters), self.pointwise_initializer,
            name="pointwise_kernel", regularizer=self.pointwise_regularizer,
            constraint=self.pointwise_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (self.filters,), self.bias_initializer, name="bias",
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        check_depthwise_input(self, input_shape)
        spatial = base_conv.output_spatial_shape(input_shape, self.kernel_size, self.strides,
                                                 self.padding, self.data_format,
                                                 self.dilation_rate)
        return base_conv.assemble_shape(input_shape[0], spatial, self.filters, self.data_format)

    # -------------------------------------------------------------------- maths

    def forward(self, x, training=False):
        """x: (batch, h, w, in) or channels first. Returns (a, cache), a: (batch, out_h,
        out_w, filters) in the same layout."""
        check_depthwise_input(self, x.shape)
        x = base_conv.to_channels_last(np.asarray(x, dtype=self.dtype), self.data_format)
        depthwise = self.depthwise_kernel.value.astype(self.dtype, copy=False)
        pointwise = self.pointwise_kernel.value[0, 0].astype(self.dtype, copy=False)
        d, depthwise_cache = depthwise_forward(x, depthwise, self.strides, self.padding,
                                               self.dilation_rate, workspace=self._workspace)
        z = parallel.matmul(d, pointwise)               # (batch, oh, ow, filters)
        if self.use_bias:
            z += self.bias.value.astype(self.dtype, copy=False)
        a, act_cache = self._activate(base_conv.from_channels_last(z, self.data_format))
        return a, (depthwise_cache, d, act_cache)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        """da: dL/da shaped like the output. Returns (dx, [ddepthwise, dpointwise, dbias])."""
        depthwise_cache, d, act_cache = cache
        dz = self._activation_backward(da, act_cache, from_logits)
        dz = base_conv.to_channels_last(np.asarray(dz, dtype=self.dtype), self.data_format)
        pointwise = self.pointwise_kernel.value[0, 0].astype(self.dtype, copy=False)
        dz_rows = dz.reshape(-1, self.filters)                     # (pixels, filters)
        d_rows = d.reshape(-1, d.shape[-1])                        # (pixels, in * multiplier)
        dpointwise = parallel.matmul_transposed_a(d_rows, dz_rows).reshape(
            self.pointwise_kernel.shape)
        dd = parallel.matmul(dz_rows, pointwise.T).reshape(d.shape)
        dx, ddepthwise = depthwise_backward(dd, depthwise_cache, self.depthwise_kernel.shape,
                                            need_dx=need_input_gradient)
        if dx is not None:
            dx = base_conv.from_channels_last(dx, self.data_format)
        grads = [ddepthwise, dpointwise]
        if self.use_bias:
            grads.append(conv2d_bias_gradient(dz))
        return dx, grads if self.trainable else []

    def output_logits(self, cache):
        return self._logits_from(cache[2])

    def get_config(self):
        config = super().get_config()
        config.update({
            "filters": self.filters,
            "kernel_size": self.kernel_size,
            "strides": self.strides,
            "padding": self.padding,
            "data_format": self.data_format,
            "dilation_rate": self.dilation_rate,
            "depth_multiplier": self.depth_multiplier,
            "activation": self.activation.__name__,
            "use_bias": self.use_bias,
            "depthwise_initializer": initializers.serialize(self.depthwise_initializer),
            "pointwise_initializer": initializers.serialize(self.pointwise_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "depthwise_regularizer": maybe_serialize(regularizers.serialize,
                                                     self.depthwise_regularizer),
            "pointwise_regularizer": maybe_serialize(regularizers.serialize,
                                                     self.pointwise_regularizer),
            "bias_regularizer": maybe_serialize(regularizers.serialize, self.bias_regularizer),
            "activity_regularizer": maybe_serialize(regularizers.serialize,
                                                    self.activity_regularizer),
            "depthwise_constraint": maybe_serialize(constraints.serialize,
                                                    self.depthwise_constraint),
            "pointwise_constraint": maybe_serialize(constraints.serialize,
                                                    self.pointwise_constraint),
            "bias_constraint": maybe_serialize(constraints.serialize, self.bias_constraint),
        })
        return config
