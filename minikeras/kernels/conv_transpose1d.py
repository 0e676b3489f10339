"""1-D transposed convolution on (batch, steps, channels) arrays, forward and backward.

Notation:
    x:      (batch, steps, in_channels)
    kernel: (k, filters, in_channels)                    -- Keras's Conv1DTranspose layout
    out:    (batch, out_steps, filters)

A transposed convolution runs a convolution backwards: every input step t spreads its values
over the k output steps a convolution with the same stride s and dilation d would have read,

    full[n, t*s + i*d, f] += sum_c x[n, t, c] * kernel[i, f, c]        (full: (L-1)*s + k_eff)

and the output is the window full[:, before : before + out_steps] that TensorFlow keeps
(`before` is the "same" padding a convolution of the output would use; steps past the end of
`full`, asked for by output_padding, are zeros).

One GEMM makes every step's k contributions at once, (batch*L, in) @ (in, k*filters); they
are added into `full` with one strided slice per kernel offset (for a fixed offset the slices
never collide, so a plain `+=` is exact). The backward pass gathers the same slices of the
output gradient and runs two GEMMs.
"""

import numpy as np


def conv_transpose1d_output_length(steps, window, stride, padding, output_padding=None,
                                   dilation=1):
    """Output length of a 1-D transposed convolution, as Keras computes it."""
    effective = (window - 1) * dilation + 1
    if padding == "valid":
        if output_padding is None:
            output_padding = max(effective, stride) - effective
        return (steps - 1) * stride + effective + output_padding
    if output_padding is None:
        return steps * stride
    return (steps - 1) * stride + effective % 2 + output_padding


def _geometry(steps, window, stride, padding, out_steps, dilation):
    """(before, buffer length): where the output window starts in `full`, and how long a
    zero buffer must be to hold both `full` and that window."""
    effective = (window - 1) * dilation + 1
    full = (steps - 1) * stride + effective
    before = 0
    if padding == "same":
        before = max(full - out_steps, 0) // 2
    return before, max(full, before + out_steps)


def _offset_slice(i, stride, dilation, steps):
    """The steps of `full` that kernel offset i writes, one for each input step."""
    start = i * dilation
    return slice(start, start + stride * (steps - 1) + 1, stride)


def conv_transpose1d_forward(x, kernel, stride=1, padding="valid", output_padding=None,
                             dilation=1, bias=None):
    """Transposed convolution of `x` with a Keras-layout `kernel`, plus `bias`.

    Args:
        x: (batch, steps, in_channels).
        kernel: (k, filters, in_channels).
        stride, dilation: positive ints; output_padding: int or None (Keras's default).
        padding: "valid" or "same".
        bias: (filters,) or None.

    Returns:
        out: (batch, out_steps, filters), dtype of x; cache for conv_transpose1d_backward.
    """
    batch, steps, in_channels = x.shape
    window, filters, _ = kernel.shape
    kernel = kernel.astype(x.dtype, copy=False)
    out_steps = conv_transpose1d_output_length(steps, window, stride, padding, output_padding,
                                               dilation)
    before, length = _geometry(steps, window, stride, padding, out_steps, dilation)
    # w_mat[c, i*filters + f] = kernel[i, f, c]                           (in, k*filters)
    w_mat = kernel.transpose(2, 0, 1).reshape(in_channels, window * filters)
    # every input step's contribution at every offset                  (batch, L, k, filters)
    contributions = (x.reshape(-1, in_channels) @ w_mat).reshape(batch, steps, window, filters)
    full = np.zeros((batch, length, filters), dtype=x.dtype)
    for i in range(window):
        full[:, _offset_slice(i, stride, dilation, steps)] += contributions[:, :, i]
    out = np.ascontiguousarray(full[:, before : before + out_steps])
    if bias is not None:
        out += bias.astype(x.dtype, copy=False)
    cache = {"x": x, "w_mat": w_mat, "kernel_shape": kernel.shape, "before": before,
             "length": length, "stride": stride, "dilation": dilation}
    return out, cache


def conv_transpose1d_backward(dout, cache, need_dx=True):
    """Gradients of conv_transpose1d_forward (the bias gradient is dout summed over axes 0, 1).

    Args:
        dout: (batch, out_steps, filters).
    Returns:
        dx: (batch, steps, in_channels) or None, dkernel: (k, filters, in_channels).
    """
    x, w_mat = cache["x"], cache["w_mat"]
    window, filters, in_channels = cache["kernel_shape"]
    batch, steps, _ = x.shape
    before, stride, dilation = cache["before"], cache["stride"], cache["dilation"]
    dfull = np.zeros((batch, cache["length"], filters), dtype=x.dtype)
    dfull[:, before : before + dout.shape[1]] = dout
    # the gradient each contribution received                          (batch, L, k, filters)
    dcontributions = np.empty((batch, steps, window, filters), dtype=x.dtype)
    for i in range(window):
        dcontributions[:, :, i] = dfull[:, _offset_slice(i, stride, dilation, steps)]
    d_rows = dcontributions.reshape(batch * steps, window * filters)
    # dW = x.T @ dcontributions                                        (in, k*filters)
    dw_mat = x.reshape(-1, in_channels).T @ d_rows
    dkernel = dw_mat.reshape(in_channels, window, filters).transpose(1, 2, 0)
    dx = None
    if need_dx:
        dx = (d_rows @ w_mat.T).reshape(batch, steps, in_channels)  # dx = dcontrib @ W.T
    return dx, np.ascontiguousarray(dkernel)


__all__ = ["conv_transpose1d_backward", "conv_transpose1d_forward",
           "conv_transpose1d_output_length"]
