"""2-D max and average pooling on NHWC arrays: the public entry points.

As for convolution (conv.py), two implementations give the same results: the short
pooling_reference.py to read, and pooling_fast.py (the default), chosen with
`minikeras.config.set_kernels("reference" | "fast")`.

    x:   (batch, height, width, channels)
    out: (batch, out_height, out_width, channels)
"""

from minikeras import kernels as _switch
from minikeras.kernels import pooling_fast, pooling_reference
from minikeras.kernels.geometry import conv_output_length


def pool2d_forward(x, pool_size=(2, 2), strides=None, padding="valid", mode="max",
                   workspace=None):
    """Max or average pooling of NHWC input `x`.

    Args:
        x: (batch, height, width, channels) float array.
        pool_size: (ph, pw) window.
        strides: (sh, sw); None means pool_size.
        padding: "valid" or "same" (TensorFlow's: the odd row/column goes bottom/right).
        mode: "max" or "average".
        workspace: a kernels.workspace.Workspace the fast kernel reuses buffers from, or None.

    Returns:
        out: (batch, out_height, out_width, channels), dtype of `x`.
        cache: for pool2d_backward.
    """
    if mode not in ("max", "average"):
        raise ValueError(f"Expected mode to be 'max' or 'average'. Received: mode={mode!r}")
    pool_size = tuple(pool_size)
    strides = pool_size if strides is None else tuple(strides)
    height, width = x.shape[1:3]
    out_h = conv_output_length(height, pool_size[0], strides[0], padding)
    out_w = conv_output_length(width, pool_size[1], strides[1], padding)
    if out_h <= 0 or out_w <= 0:
        raise ValueError(
            f"Pool window {pool_size} is larger than the input {x.shape} with padding={padding!r}."
        )
    if _switch.kernels() == "reference":
        out, cache = pooling_reference.pool2d_forward(x, pool_size, strides, padding, mode)
        return out, ("reference", cache)
    out, cache = pooling_fast.pool2d_forward(x, pool_size, strides, padding, mode, workspace)
    return out, ("fast", cache)


def pool2d_backward(dout, cache):
    """dx (batch, height, width, channels) from dout, the gradient w.r.t. the pooled output."""
    which, cache = cache
    if which == "reference":
        return pooling_reference.pool2d_backward(dout, cache)
    return pooling_fast.pool2d_backward(dout, cache)


__all__ = ["pool2d_backward", "pool2d_forward"]
