"""`Conv1D`: out = activation(conv1d(x, kernel) + bias), over the steps of a sequence."""

import numpy as np

from minikeras.backend import standardize_data_format
from minikeras.kernels.conv import conv2d_backward, conv2d_forward
from minikeras.kernels.workspace import Workspace
from minikeras.layers import base_conv, base_conv1d
from minikeras.layers.layer import ActivationMixin, Layer
from minikeras.utils.argument_validation import int_tuple, one_of, positive_int


class Conv1D(base_conv.PreactivationMixin, ActivationMixin, Layer):
    """1-D convolution layer (a cross-correlation along the steps, as in Keras).

        out[n, t, f] = sum_{i, c} xpad[n, t*stride + i*dilation, g(f)*cg + c] * kernel[i, c, f]

    Args:
        filters: number of output channels.
        kernel_size: int or (k,).
        strides: int or (s,). Cannot exceed 1 together with a dilation rate above 1.
        padding: "valid" (none), "same" (output length ceil(steps / stride), the odd zero
            after the sequence) or "causal" ((k - 1) * dilation zeros before the sequence only,
            so out[t] never depends on x[t + 1:]).
        data_format: "channels_last" (batch, steps, c) or "channels_first" (batch, c, steps);
            None means backend.image_data_format().
        dilation_rate: int or (d,); the kernel taps are d steps apart.
        groups: splits input channels and filters into `groups` independent convolutions.
        activation, use_bias, kernel_initializer, bias_initializer, kernel_regularizer,
        bias_regularizer, activity_regularizer, kernel_constraint, bias_constraint: as in Keras.

    Weights: kernel (k, in_channels // groups, filters), bias (filters,): Keras's layout. The
    maths is minikeras.kernels.conv's 2-D convolution on a sequence seen as an image one pixel
    high, (batch, 1, steps, channels), with a (1, k, cg, filters) kernel.
    """

    splits_batches = True  # its big batches run in parallel parts (kernels/parallel.py)

    def __init__(self, filters, kernel_size, strides=1, padding="valid", data_format=None,
                 dilation_rate=1, groups=1, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        owner = f"layer {self.name!r}"
        self.filters = positive_int("filters", filters, owner=owner)
        self.kernel_size = int_tuple("kernel_size", kernel_size, 1, owner=owner)
        self.strides = int_tuple("strides", strides, 1, owner=owner)
        self.padding = one_of("padding", padding, base_conv1d.CONV_PADDINGS)
        self.data_format = standardize_data_format(data_format)
        self.dilation_rate = int_tuple("dilation_rate", dilation_rate, 1, owner=owner)
        self.groups = positive_int("groups", groups, owner=owner)
        if self.filters % self.groups:
            raise ValueError(
                f"The number of filters must be evenly divisible by the number of groups "
                f"({owner}). Received: groups={self.groups}, filters={self.filters}"
            )
        if self.strides[0] > 1 and self.dilation_rate[0] > 1:
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
        """Rank, channel count and window length checks; every message names this layer."""
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
        if channels % self.groups:
            raise ValueError(
                f"The number of input channels must be evenly divisible by the number of "
                f"groups (layer {self.name!r}). Received groups={self.groups}, but the input "
                f"has {channels} channels (full input shape is {tuple(input_shape)})."
            )
        base_conv1d.check_window_fits(self, input_shape, self.kernel_size[0], self.strides[0],
                                      self.padding, self.data_format, self.dilation_rate[0])
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
        steps, _ = base_conv1d.steps_and_channels(input_shape, self.data_format)
        out_steps = base_conv1d.output_steps(steps, self.kernel_size[0], self.strides[0],
                                             self.padding, self.dilation_rate[0])
        return base_conv1d.assemble_shape(input_shape[0], out_steps, self.filters,
                                          self.data_format)

    # -------------------------------------------------------------------- maths

    @property
    def _causal_pad(self):
        """Zeros put before the sequence by "causal" padding: (k - 1) * dilation."""
        return (self.kernel_size[0] - 1) * self.dilation_rate[0]

    def forward_preactivation(self, x, training=False, normalize=None):
        """The convolution plus bias, without the activation: (z, conv_cache). The graph
        executor calls it directly when it applies a relu after the next layer's max
        pooling instead, or folds the BatchNormalization after it in (`normalize`: see
        kernels/conv_fast.conv2d_forward; models/fusion.py)."""
        self._check_input_shape(x.shape)
        x = np.asarray(x, dtype=self.dtype)
        x = base_conv1d.to_steps_last_channels(x, self.data_format)   # (batch, steps, in)
        padding = self.padding
        if padding == "causal":
            x = np.pad(x, ((0, 0), (self._causal_pad, 0), (0, 0)))
            padding = "valid"
        bias = self.bias.value if self.use_bias else None
        # (batch, 1, steps, in) * (1, k, in // groups, filters) -> (batch, 1, out_steps, filters)
        z, conv_cache = conv2d_forward(base_conv1d.as_image(x), self.kernel.value[None],
                                       (1, self.strides[0]), padding,
                                       (1, self.dilation_rate[0]), self.groups, bias,
                                       workspace=self._workspace, normalize=normalize)
        return base_conv1d.from_steps_last_channels(z[:, 0], self.data_format), conv_cache

    def backward_preactivation(self, dz, conv_cache, need_input_gradient=True):
        """dz: dL/dz for forward_preactivation's z. Returns (dx, [dkernel, dbias])."""
        dz = base_conv1d.to_steps_last_channels(np.asarray(dz, dtype=self.dtype),
                                                self.data_format)   # (batch, out_steps, f)
        dx, dkernel, dbias = conv2d_backward(base_conv1d.as_image(dz), conv_cache,
                                             need_dx=need_input_gradient)
        if dx is not None:
            dx = dx[:, 0]                                          # (batch, padded steps, in)
            if self.padding == "causal":                           # the causal zeros' share
                dx = dx[:, self._causal_pad:]
            dx = np.ascontiguousarray(base_conv1d.from_steps_last_channels(dx,
                                                                           self.data_format))
        grads = [dkernel[0]]
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
