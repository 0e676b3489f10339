"""Depthwise 2-D convolution (DepthwiseConv2D, and SeparableConv2D's first step) on NHWC
arrays: the entry points.

As for convolution (conv.py), two implementations give the same results: the short
depthwise_reference.py to read, and depthwise_fast.py (the default), chosen with
`minikeras.config.set_kernels("reference" | "fast")`.

    x:      (batch, height, width, C)
    kernel: (kh, kw, C, M)                  M = depth_multiplier
    out:    (batch, out_height, out_width, C * M)
"""

from minikeras import kernels as _switch
from minikeras.kernels import depthwise_fast, depthwise_reference


def depthwise_forward(x, kernel, strides, padding, dilation_rate, bias=None, workspace=None):
    """Returns (out, cache). bias: (C * M,) or None; workspace: a kernels.workspace.Workspace
    the fast kernel reuses buffers from (a layer keeps one), or None."""
    if _switch.kernels() == "reference":
        out, cache = depthwise_reference.depthwise_forward(x, kernel, strides, padding,
                                                           dilation_rate, bias)
        return out, ("reference", cache)
    out, cache = depthwise_fast.depthwise_forward(x, kernel, strides, padding, dilation_rate,
                                                  bias, workspace)
    return out, ("fast", cache)


def depthwise_backward(dout, cache, kernel_shape, need_dx=True):
    """(dx or None, dkernel (kh, kw, C, M)) from dout (batch, out_h, out_w, C * M)."""
    which, cache = cache
    module = depthwise_reference if which == "reference" else depthwise_fast
    return module.depthwise_backward(dout, cache, kernel_shape, need_dx)


__all__ = ["depthwise_backward", "depthwise_forward"]
