"""2-D convolution (cross-correlation, as in Keras) on NHWC arrays: the public entry points.

Two implementations compute the same thing:

- conv_reference.py: im2col and one matrix product per group, short, with shapes commented:
  read it first (docs/guide.md walks through it);
- conv_fast.py: the same maths split over threads, with reused buffers (the default).

`minikeras.config.set_kernels("reference" | "fast")` chooses which one the functions below
call; tests/test_kernels_agree.py checks the two agree for every argument combination. A
cache remembers which implementation made it, so switching between a forward and its
backward is harmless.

Notation:
    x:      (batch, height, width, in_channels)
    kernel: (kh, kw, in_channels // groups, filters)      -- Keras's layout
    out:    (batch, out_height, out_width, filters)
"""

from minikeras import kernels as _switch
from minikeras.kernels import conv_fast, conv_reference
from minikeras.kernels.geometry import conv_output_length, pad_amounts, same_padding_amounts


def conv2d_forward(x, kernel, strides=(1, 1), padding="valid", dilation_rate=(1, 1), groups=1,
                   bias=None, workspace=None, normalize=None):
    """Convolve NHWC input `x` with a Keras-layout `kernel`, plus `bias`; no activation.

    Args:
        x: (batch, height, width, in_channels) array.
        kernel: (kh, kw, in_channels // groups, filters) array.
        strides, dilation_rate: pairs of positive ints.
        padding: "valid" or "same" (TensorFlow's split: the extra row/column goes bottom/right).
        groups: number of channel groups; in_channels and filters must both divide by it.
        bias: (filters,) array or None.
        workspace: a kernels.workspace.Workspace whose buffers the fast kernel reuses from
            call to call (a layer keeps one), or None.
        normalize: see conv_fast.conv2d_forward (fast kernels only).

    Returns:
        out: (batch, out_height, out_width, filters), dtype of `x`.
        cache: what conv2d_backward needs.
    """
    batch, height, width, in_channels = x.shape
    kh, kw, group_channels, filters = kernel.shape
    strides = tuple(strides)
    dilation_rate = tuple(dilation_rate)
    if group_channels * groups != in_channels or filters % groups:
        raise ValueError(
            f"Kernel shape {kernel.shape} with groups={groups} does not fit input shape {x.shape}."
        )
    out_h = conv_output_length(height, kh, strides[0], padding, dilation_rate[0])
    out_w = conv_output_length(width, kw, strides[1], padding, dilation_rate[1])
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"Kernel {(kh, kw)} with dilation {dilation_rate} is larger than the input {x.shape} "
            f"with padding={padding!r}."
        )
    kernel = kernel.astype(x.dtype, copy=False)
    if bias is not None:
        bias = bias.astype(x.dtype, copy=False)
    if _switch.kernels() == "reference":
        out, cache = conv_reference.conv2d_forward(x, kernel, strides, padding, dilation_rate,
                                                   groups, bias)
        return out, ("reference", cache)
    out, cache = conv_fast.conv2d_forward(x, kernel, strides, padding, dilation_rate, groups,
                                          bias, workspace, normalize)
    return out, ("fast", cache)


def conv2d_backward(dout, cache, need_dx=True):
    """Gradients of conv2d_forward.

    Args:
        dout: (batch, out_height, out_width, filters) gradient of the loss w.r.t. `out`.
        cache: from conv2d_forward.
        need_dx: False skips the input gradient (a model's first layer has no use for it).

    Returns:
        dx: (batch, height, width, in_channels) or None when need_dx is False,
        dkernel: (kh, kw, in_channels // groups, filters),
        dbias: (filters,), or None when conv2d_forward had no bias.
    """
    which, cache = cache
    if which == "reference":
        return conv_reference.conv2d_backward(dout, cache, need_dx)
    return conv_fast.conv2d_backward(dout, cache, need_dx)


def conv2d_bias_gradient(dout):
    """db = sum of dout (batch, h, w, filters) over batch, rows and columns -> (filters,):
    the bias gradient of layers that add their bias outside conv2d_forward."""
    if _switch.kernels() == "reference":
        return conv_reference.conv2d_bias_gradient(dout)
    return conv_fast.conv2d_bias_gradient(dout)


def conv2d_flops(x_shape, kernel_shape, out_shape):
    """Multiply-add FLOPs (2 per MAC) of one conv2d_forward; the backward costs twice that."""
    batch, out_h, out_w, filters = out_shape
    kh, kw, group_channels, _ = kernel_shape
    return 2 * batch * out_h * out_w * filters * kh * kw * group_channels


__all__ = [
    "conv2d_backward",
    "conv2d_bias_gradient",
    "conv2d_flops",
    "conv2d_forward",
    "conv_output_length",
    "pad_amounts",
    "same_padding_amounts",
]
