"""`Conv1DTranspose`: the transposed ("de-") convolution of a sequence."""

import numpy as np

from minikeras.backend import standardize_data_format
from minikeras.kernels.conv_transpose1d import (
    conv_transpose1d_backward,
    conv_transpose1d_forward,
    conv_transpose1d_output_length,
)
from minikeras.layers import base_conv, base_conv1d
from minikeras.layers.layer import ActivationMixin, Layer
from minikeras.utils.argument_validation import int_tuple, one_of, positive_int


class Conv1DTranspose(ActivationMixin, Layer):
    """1-D transposed convolution: each input step spreads over k output steps.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: int or 1-tuple (strides > 1 together with
            dilation_rate > 1 is refused, as in Keras).
        padding: "valid" (output (steps - 1) * stride + max(k_eff, stride)) or "same"
            (output steps * stride).
        output_padding: int, 1-tuple or None: extra output steps, less than the stride.
        data_format, activation, use_bias, initializers, regularizers, constraints: as Keras.

    Weights: kernel (k, filters, in_channels) -- note filters before inputs, Keras's layout --
    and bias (filters,). The maths is in minikeras/kernels/conv_transpose1d.py.
    """

    def __init__(self, filters, kernel_size, strides=1, padding="valid", output_padding=None,
                 data_format=None, dilation_rate=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"layer {self.name!r}"
        self.filters = positive_int("filters", filters, owner=owner)
        self.kernel_size = int_tuple("kernel_size", kernel_size, 1, owner=owner)
        self.strides = int_tuple("strides", strides, 1, owner=owner)
        self.padding = one_of("padding", padding, base_conv1d.PADDINGS)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = int_tuple("output_padding", output_padding, 1, owner=owner,
                                            allow_zero=True)
            if self.output_padding[0] >= self.strides[0]:
                raise ValueError(
                    f"`output_padding` must be strictly less than `strides` ({owner}). "
                    f"Received: output_padding={self.output_padding}, strides={self.strides}"
                )
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = int_tuple("dilation_rate", dilation_rate, 1, owner=owner)
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
            raise ValueError(
                f"`strides > 1` not supported in conjunction with `dilation_rate > 1` "
                f"({owner}). Received: strides={self.strides} and "
                f"dilation_rate={self.dilation_rate}"
            )
        base_conv.set_weight_arguments(
            self, activation, use_bias, kernel_initializer, bias_initializer,
            kernel_regularizer, bias_regularizer, kernel_constraint, bias_constraint)
        self._input_channels = None

    def _check_input_shape(self, input_shape):
        base_conv1d.check_rank(self, input_shape)
        _, channels = base_conv1d.steps_and_channels(input_shape, self.data_format)
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
        return channels

    def build(self, input_shape):
        channels = self._check_input_shape(input_shape)
        self._input_channels = channels
        self.kernel = self.add_weight(
            self.kernel_size + (self.filters, channels), self.kernel_initializer,
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

    def _output_padding(self):
        return None if self.output_padding is None else self.output_padding[0]

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        steps, _ = base_conv1d.steps_and_channels(input_shape, self.data_format)
        out_steps = None
        if steps is not None:
            out_steps = conv_transpose1d_output_length(
                steps, self.kernel_size[0], self.strides[0], self.padding,
                self._output_padding(), self.dilation_rate[0])
        return base_conv1d.assemble_shape(input_shape[0], out_steps, self.filters,
                                          self.data_format)

    def forward(self, x, training=False):
        """x: (batch, steps, in) or (batch, in, steps). Returns (a, cache), a: same layout."""
        self._check_input_shape(x.shape)
        x = base_conv1d.to_steps_last_channels(np.asarray(x, dtype=self.dtype),
                                               self.data_format)
        bias = self.bias.value if self.use_bias else None
        z, conv_cache = conv_transpose1d_forward(
            np.ascontiguousarray(x), self.kernel.value, self.strides[0], self.padding,
            self._output_padding(), self.dilation_rate[0], bias)
        z = base_conv1d.from_steps_last_channels(z, self.data_format)
        a, act_cache = self._activate(z)
        return a, (conv_cache, act_cache)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        """da: dL/da, shaped like the output. Returns (dx, [dkernel, dbias])."""
        conv_cache, act_cache = cache
        dz = self._activation_backward(da, act_cache, from_logits)
        dz = base_conv1d.to_steps_last_channels(np.asarray(dz, dtype=self.dtype),
                                                self.data_format)    # (batch, out_steps, f)
        dx, dkernel = conv_transpose1d_backward(dz, conv_cache, need_dx=need_input_gradient)
        if dx is not None:
            dx = base_conv1d.from_steps_last_channels(dx, self.data_format)
        grads = [dkernel]
        if self.use_bias:
            grads.append(dz.sum(axis=(0, 1)))                          # db = sum of dz
        return dx, grads if self.trainable else []

    def output_logits(self, cache):
        return self._logits_from(cache[1])

    def get_config(self):
        config = super().get_config()
        config.update(base_conv.conv_config(
            self, "filters", "kernel_size", "strides", "padding",
            "output_padding", "data_format", "dilation_rate"))
        return config
