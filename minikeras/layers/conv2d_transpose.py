"""`Conv2DTranspose`: the transpose (adjoint) of a 2-D convolution, as in Keras and TensorFlow.

Let C be the convolution that maps an image y of the *output* size, (batch, H_out, W_out,
filters), to an image of the *input* size, (batch, H, W, in_channels), with the layer's kernel
(kh, kw, filters, in_channels), strides, padding and dilation. Conv2DTranspose is its adjoint:

    out = C^T(x)            the input gradient of C at dL/d(C's output) = x
    dL/dx = C(dL/dout)      an ordinary convolution (kernels.conv.conv2d_forward)
    dL/dkernel              C's kernel gradient with input dL/dout and output gradient x
                            (kernels.conv.conv2d_backward)

so the kernel layout (kh, kw, filters, in_channels) Keras uses is exactly C's kernel layout.
"""

import numpy as np

from minikeras.kernels.conv import (
    conv2d_backward,
    conv2d_bias_gradient,
    conv2d_forward,
    conv_output_length,
    pad_amounts,
)
from minikeras.layers import base_conv
from minikeras.layers.conv2d import Conv2D
from minikeras.utils.argument_validation import int_tuple


def transposed_length(length, kernel, stride, padding, output_padding, dilation):
    """Keras's output length of a transposed convolution along one axis (None stays None)."""
    if length is None:
        return None
    effective = (kernel - 1) * dilation + 1
    if padding == "valid":
        extra = max(effective, stride) - effective if output_padding is None else output_padding
        return (length - 1) * stride + effective + extra
    if output_padding is None:
        return length * stride
    return (length - 1) * stride + effective % 2 + output_padding


def conv2d_transpose_forward(x, kernel, out_hw, strides, padding, dilation_rate):
    """C^T(x): the input gradient of the convolution C described in the module docstring.

    Args:
        x: (batch, H, W, in_channels).
        kernel: (kh, kw, filters, in_channels).
        out_hw: (H_out, W_out), the size C reads.
    Returns:
        out: (batch, H_out, W_out, filters).

    C's output pixel (a, b) reads the padded pixel (a*sh + i*dh, b*sw + j*dw) with weight
    kernel[i, j]; the adjoint sends x[a, b] @ kernel[i, j].T back there. For a fixed offset
    (i, j) those targets form one strided slice that never repeats a pixel, so one GEMM and
    one slice += per offset (no np.add.at).
    """
    batch, height, width, in_channels = x.shape
    kh, kw, filters, _ = kernel.shape
    (top, bottom), (left, right) = pad_amounts(*out_hw, (kh, kw), strides, padding,
                                               dilation_rate)
    out_pad = np.zeros((batch, out_hw[0] + top + bottom, out_hw[1] + left + right, filters),
                       dtype=x.dtype)
    x_rows = x.reshape(-1, in_channels)                               # (batch*H*W, in)
    for i in range(kh):
        for j in range(kw):
            top_i, left_j = i * dilation_rate[0], j * dilation_rate[1]
            rows = slice(top_i, top_i + strides[0] * (height - 1) + 1, strides[0])
            cols = slice(left_j, left_j + strides[1] * (width - 1) + 1, strides[1])
            block = x_rows @ kernel[i, j].T                           # (batch*H*W, filters)
            out_pad[:, rows, cols] += block.reshape(batch, height, width, filters)
    return out_pad[:, top:top + out_hw[0], left:left + out_hw[1]]


class Conv2DTranspose(Conv2D):
    """Transposed 2-D convolution ("deconvolution"): upsamples with a learned kernel.

    Args:
        filters: number of output channels.
        kernel_size, strides, dilation_rate: int or pair. strides > 1 cannot go together with
            dilation_rate > 1.
        padding: "valid" or "same".
        output_padding: None, or an int/pair, each strictly less than the stride: the output
            size is then (input - 1) * stride + (kernel % 2 if "same" else dilated kernel)
            + output_padding. None gives input * stride ("same") or
            (input - 1) * stride + max(dilated kernel, stride) ("valid"), as Keras.
        data_format, activation, use_bias, initializers, regularizers, constraints: as Conv2D.

    Weights: kernel (kh, kw, filters, in_channels), bias (filters,) -- Keras's layout.
    """

    def __init__(self, filters, kernel_size, strides=(1, 1), padding="valid",
                 output_padding=None, data_format=None, dilation_rate=(1, 1), activation=None,
                 use_bias=True, kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(filters, kernel_size, strides=strides, padding=padding,
                         data_format=data_format, dilation_rate=dilation_rate, groups=1,
                         activation=activation, use_bias=use_bias,
                         kernel_initializer=kernel_initializer,
                         bias_initializer=bias_initializer,
                         kernel_regularizer=kernel_regularizer,
                         bias_regularizer=bias_regularizer,
                         activity_regularizer=activity_regularizer,
                         kernel_constraint=kernel_constraint, bias_constraint=bias_constraint,
                         **kwargs)
        self.output_padding = None
        if output_padding is not None:
            self.output_padding = int_tuple("output_padding", output_padding, 2,
                                            owner=f"layer {self.name!r}", allow_zero=True)
            if any(p >= s for p, s in zip(self.output_padding, self.strides, strict=True)):
                raise ValueError(
                    f"`output_padding` must be strictly less than `strides` for all "
                    f"dimensions (layer {self.name!r}). Received: "
                    f"output_padding={self.output_padding}, strides={self.strides}"
                )

    # ---------------------------------------------------------------- building

    def _output_hw(self, input_shape):
        height, width, _ = base_conv.spatial_dims(input_shape, self.data_format)
        return tuple(
            transposed_length(length, k, s, self.padding, p, d)
            for length, k, s, p, d in zip(
                (height, width), self.kernel_size, self.strides,
                self.output_padding or (None, None), self.dilation_rate, strict=True)
        )

    def _check_input_shape(self, input_shape):
        """Rank and channel checks, and that the output size maps back onto the input."""
        base_conv.check_rank(self, input_shape)
        height, width, channels = base_conv.spatial_dims(input_shape, self.data_format)
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
        for length, out_length, k, s, d in zip((height, width), self._output_hw(input_shape),
                                               self.kernel_size, self.strides,
                                               self.dilation_rate, strict=True):
            if length is not None and conv_output_length(out_length, k, s, self.padding,
                                                         d) != length:
                raise ValueError(
                    f"Layer {self.name!r}: an output of spatial length {out_length} does not "
                    f"convolve back to the input length {length} with kernel_size="
                    f"{self.kernel_size}, strides={self.strides}, padding={self.padding!r}; "
                    f"choose another output_padding. Received: output_padding="
                    f"{self.output_padding}, input_shape={tuple(input_shape)}"
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

    def compute_output_shape(self, input_shape):
        self._check_input_shape(input_shape)
        return base_conv.assemble_shape(input_shape[0], self._output_hw(input_shape),
                                        self.filters, self.data_format)

    # -------------------------------------------------------------------- maths

    def forward_preactivation(self, x, training=False):
        """x: (batch, h, w, in) or channels first. Returns (z, x_nhwc): z, before the
        activation, (batch, H_out, W_out, filters) in the same layout."""
        self._check_input_shape(x.shape)
        x = np.asarray(x, dtype=self.dtype)
        x_nhwc = base_conv.to_channels_last(x, self.data_format)
        kernel = self.kernel.value.astype(self.dtype, copy=False)
        z = conv2d_transpose_forward(x_nhwc, kernel, self._output_hw(x.shape), self.strides,
                                     self.padding, self.dilation_rate)
        if self.use_bias:
            z = z + self.bias.value.astype(self.dtype, copy=False)
        return base_conv.from_channels_last(np.ascontiguousarray(z), self.data_format), x_nhwc

    def backward_preactivation(self, dz, x_nhwc, need_input_gradient=True):
        """dz: dL/dz for forward_preactivation's z. Returns (dx, [dkernel, dbias])."""
        dz = base_conv.to_channels_last(np.asarray(dz, dtype=self.dtype), self.data_format)
        # dx = C(dz): the convolution whose adjoint the forward pass computed
        dx, conv_cache = conv2d_forward(dz, self.kernel.value.astype(self.dtype, copy=False),
                                        self.strides, self.padding, self.dilation_rate)
        # dkernel[i, j, f, c] = sum dz_pad[a*s + i*d, b*s + j*d, f] * x[a, b, c]: C's kernel
        # gradient when C reads dz and its output gradient is x
        _, dkernel, _ = conv2d_backward(x_nhwc, conv_cache, need_dx=False)
        grads = [dkernel]
        if self.use_bias:
            grads.append(conv2d_bias_gradient(dz))
        if need_input_gradient:
            dx = base_conv.from_channels_last(dx, self.data_format)
        else:
            dx = None
        return dx, grads if self.trainable else []

    # ------------------------------------------------------------ configuration

    def get_config(self):
        config = super().get_config()
        del config["groups"]
        config["output_padding"] = self.output_padding
        return config
