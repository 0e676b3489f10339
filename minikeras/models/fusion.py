"""Two rewrites of pairs of steps that save passes over big arrays without changing what
the model computes.

1. Pooling before relu: a convolution's relu applied after the max pooling that follows it.

relu and max pooling commute: relu is increasing, so the largest of some relu'd numbers is
the relu of the largest,

    max(relu(a), relu(b), ...) == relu(max(a, b, ...)),

and the gradients agree too: both send a window's gradient to the pixel holding its maximum
when that maximum is positive, and nothing otherwise. So for `Conv2D(32, 3,
activation="relu")` followed by `MaxPooling2D(2)`, the graph executor may skip the conv's
relu and apply it to the pooled output: a quarter of the values with 2x2 pooling (forward
and backward), and one pass over the conv's big output less. The results are identical (max
and relu round nothing). The same holds for a `ReLU()` or `Activation("relu")` layer
followed by max pooling: that layer then has nothing left to do.

The executor (models/graph.py) fuses a pair when

    - the first layer can run without its activation (it has `forward_preactivation` and
      `backward_preactivation`), and its activation is the plain relu;
    - its output goes to that pooling layer only (not also to another layer or a model
      output: they must see the relu'd values);
    - the pooling layer takes a maximum (its class sets `commutes_with_relu`);
    - neither has an activity regularizer (it would see the other values), and neither
      uses or passes on a mask (so a graph with masks elsewhere can still fuse them: their
      outputs have no mask).

2. Normalization statistics from the im2col matrix: a Conv2D or Conv1D with few taps (a
first layer: kh*kw*in_channels <= MAX_TAPS) and no activation, followed by
BatchNormalization over its filters, while training. The normalization's mean, variance and
gradients follow from the convolution's small im2col matrix and kernel
(kernels/conv_batch_norm.py has the algebra), so neither layer reads or writes the big
output more than once. Both layers keep their own weights, moving statistics and outputs;
outside training, with a frozen BatchNormalization or with the reference kernels, the two
run as written. Exact up to floating-point rounding (not bit-identical: sums are grouped
differently), as tests/test_fusion.py checks.
"""

import inspect

import numpy as np

from minikeras.activations.activations import relu
from minikeras.kernels import conv_batch_norm, conv_fast

PREACTIVATION = "preactivation"     # the convolution, run without its relu
RELU_MOVED = "relu moved"           # a ReLU layer: nothing to do, its relu runs after pooling
RELU_AFTER = "relu after"           # the max pooling, followed by the convolution's relu
CONV_BEFORE_NORMALIZATION = "conv before normalization"
NORMALIZATION_AFTER_CONV = "normalization after conv"

# The most taps (kh * kw * in_channels) for which the normalization's statistics come from the
# im2col matrix: its Gram matrix costs M * taps^2 operations, against the F passes over the
# output it saves.
MAX_TAPS = 80


def mark(steps, users, output_slots):
    """Sets step.fusion on the pairs of steps that can be fused (see the module docstring).

    Args:
        steps: the graph's steps, in the order they run.
        users: {slot: number of steps (and model outputs) using that tensor}.
        output_slots: the model outputs' slots.
    """
    maker = {step.out_slot: step for step in steps if step.single_output}
    for step in steps:
        if not (step.simple and getattr(step.layer, "commutes_with_relu", False)):
            continue
        first = maker.get(step.in_slot)
        if first is None or not first.simple or first.fusion is not None:
            continue
        layer = first.layer
        if not (users.get(first.out_slot) == 1 and first.out_slot not in output_slots
                and layer.activity_regularizer is None
                and step.layer.activity_regularizer is None and not _masks_matter(step.layer)):
            continue
        if (getattr(layer, "activation", None) is relu
                and hasattr(layer, "forward_preactivation") and not _masks_matter(layer)):
            first.fusion, step.fusion = PREACTIVATION, RELU_AFTER
            first.simple = step.simple = False
        elif _is_plain_relu_layer(layer):
            # (its mask, if any, would reach only the pooling, which ignores masks)
            first.fusion, step.fusion = RELU_MOVED, RELU_AFTER
            first.simple = step.simple = False
    for first, step in zip(steps, steps[1:]):
        if (step.in_slots == [first.out_slot] and step.simple and first.simple
                and _is_normalization_of_conv(first.layer, step.layer)
                and users.get(first.out_slot) == 1 and first.out_slot not in output_slots):
            first.fusion, step.fusion = CONV_BEFORE_NORMALIZATION, NORMALIZATION_AFTER_CONV
            first.partner = step.layer              # the conv step folds the normalization in
            first.simple = step.simple = False


def _is_plain_relu_layer(layer):
    """ReLU() with its defaults, or Activation("relu")."""
    from minikeras.layers.activation import Activation
    from minikeras.layers.relu import ReLU

    if type(layer) is Activation:
        return layer.activation is relu
    return (type(layer) is ReLU and layer.max_value is None and layer.negative_slope == 0
            and layer.threshold == 0)


def _is_normalization_of_conv(conv, normalization):
    """Whether conv (a step's layer) and the normalization after it fit rewrite 2."""
    from minikeras.activations.activations import linear
    from minikeras.layers.batch_normalization import BatchNormalization
    from minikeras.layers.conv1d import Conv1D
    from minikeras.layers.conv2d import Conv2D

    if type(conv) not in (Conv2D, Conv1D) or type(normalization) is not BatchNormalization:
        return False
    rank = 4 if type(conv) is Conv2D else 3
    return (conv.activation is linear and conv.groups == 1
            and conv.data_format == "channels_last" and conv.built
            and conv.kernel.value.size // conv.filters <= MAX_TAPS
            and normalization.built and normalization._feature_axis == rank - 1
            and conv.activity_regularizer is None
            and normalization.activity_regularizer is None and not _masks_matter(conv))


def _masks_matter(layer):
    """Whether the layer reads a mask or may give its output one (the executor asks a layer
    for its output's mask only when it supports masking or has its own compute_mask)."""
    from minikeras.layers.layer import Layer

    own_compute_mask = type(layer).compute_mask is not Layer.compute_mask
    return (layer.supports_masking
            or "mask" in inspect.signature(type(layer).forward).parameters
            or (own_compute_mask and layer.compute_mask(None, np.ones(1, bool)) is not None))


def forward(step, x, training, caches):
    """(out, cache) of a fused step; caches: the caches of the steps run before it."""
    if step.fusion == PREACTIVATION:
        return step.layer.forward_preactivation(x, training=training)
    if step.fusion == RELU_MOVED:
        return x, None
    if step.fusion == RELU_AFTER:
        out, cache = step.layer.forward(x, training=training)       # max pooling
        return relu_in_place(out), cache
    if step.fusion == CONV_BEFORE_NORMALIZATION:
        return _conv_forward(step.layer, step.partner, x, training)
    if caches[-1]["folded"] is None:                  # the pair runs as written
        y, bn_cache = step.layer.forward(x, training=training)
        return y, ("plain", bn_cache)
    return x, ("folded", caches[-1]["folded"])        # x is already normalized


def backward(step, dout, cache, out, need_input_gradient):
    """(dx, weight gradients) of a fused step; `out` is the step's forward output."""
    if step.fusion == PREACTIVATION:
        return step.layer.backward_preactivation(dout, cache,
                                                 need_input_gradient=need_input_gradient)
    if step.fusion == RELU_MOVED:
        return dout, []
    if step.fusion == RELU_AFTER:
        return step.layer.backward(relu_gradient(dout, out), cache)   # then the pooling's own
    if step.fusion == CONV_BEFORE_NORMALIZATION:
        return _conv_backward(step.layer, dout, cache, need_input_gradient)
    return _normalization_backward(step.layer, dout, cache)


# ------------------------------------------------------- 2. conv, then BatchNormalization


class _NormalizedGradient:
    """What the normalization's backward hands the convolution's instead of dL/dz: the
    convolution's kernel gradient, already found, and how to make dL/dz if it is wanted
    (for an input gradient): dz = a * dy + u + v * z."""

    __slots__ = ("dkernel", "dy", "a", "u", "v")

    def __init__(self, dkernel, dy, a, u, v):
        self.dkernel, self.dy, self.a, self.u, self.v = dkernel, dy, a, u, v


def _conv_forward(conv, bn, x, training):
    """The convolution step of the pair: (z, cache), z normalized already (the
    BatchNormalization folded into the product) when the pair can run fused."""
    from minikeras import kernels

    if not (training and bn.trainable and kernels.kernels() == "fast"):
        z, conv_cache = conv.forward_preactivation(x, training=training)
        return z, {"x": x, "conv": conv_cache, "folded": None}
    folded = {}
    bias = conv.bias.value.astype(np.float64) if conv.use_bias else None

    def normalize(cols):
        """From the im2col matrix: the batch statistics, and W * a, b * a + c for the product
        (kernels/conv_batch_norm.py's module docstring)."""
        kernel = conv.kernel.value.reshape(cols.shape[1], -1)           # (K, F)
        m = cols.shape[0]
        t, s, gram = conv_batch_norm.cols_moments(cols)
        mean, var, z0 = conv_batch_norm.statistics(t, s, gram, m, kernel, bias)
        bn._update_moving_statistics(mean.astype(cols.dtype), var.astype(cols.dtype))
        rstd = 1.0 / np.sqrt(var + bn.epsilon)
        a = rstd * bn.gamma.value if bn.scale else rstd
        c = (bn.beta.value if bn.center else 0.0) - mean * a
        folded.update(cols=cols, kernel=kernel, t=t, s=s, gram=gram, z0=z0, mean=mean,
                      rstd=rstd, a=a)
        shift = c if bias is None else bias * a + c
        return kernel * a, shift                              # y = C (W a) + (b a + c)

    y, conv_cache = conv.forward_preactivation(x, training=training, normalize=normalize)
    # A first layer on one channel stores its im2col matrix with a row of ones: the
    # backward's product can use it as it is.
    folded["with_ones"] = conv_fast.taps_with_ones(conv_cache[1])
    return y, {"x": x, "conv": conv_cache, "folded": folded}


def _normalization_backward(bn, dout, cache):
    """(what the conv step gets, [dgamma, dbeta]) for the normalization step."""
    if cache[0] == "plain":
        return bn.backward(dout, cache[1], need_input_gradient=True)
    folded = cache[1]
    cols, kernel, t, s, gram, z0, mean, rstd, a = (
        folded[name] for name in ("cols", "kernel", "t", "s", "gram", "z0", "mean", "rstd", "a"))
    m = cols.shape[0]
    drows = np.ascontiguousarray(dout, dtype=cols.dtype).reshape(m, -1)
    product, dbeta = conv_batch_norm.product_and_sum(cols, t, drows, folded["with_ones"], gram)
    dgamma, dkernel, u, v = conv_batch_norm.backward(product, dbeta, s, gram, m, kernel, z0,
                                                     mean, rstd, a)
    grads = []
    if bn.scale:
        grads.append(dgamma.astype(bn.gamma.value.dtype))
    if bn.center:
        grads.append(dbeta.astype(bn.beta.value.dtype))
    return _NormalizedGradient(dkernel, drows, a, u, v), grads


def _conv_backward(conv, dout, cache, need_input_gradient):
    """(dx, [dkernel, dbias]) for the convolution step of the pair."""
    if type(dout) is not _NormalizedGradient:                   # the pair ran as written
        return conv.backward_preactivation(dout, cache["conv"],
                                           need_input_gradient=need_input_gradient)
    if need_input_gradient:
        # dz itself is needed: make it (z again from the input), then the plain backward
        z, conv_cache = conv.forward_preactivation(cache["x"], training=True)
        rows = z.reshape(dout.dy.shape).astype(np.float64)
        dz = (dout.a * dout.dy + dout.u + dout.v * rows).astype(z.dtype).reshape(z.shape)
        return conv.backward_preactivation(dz, conv_cache, need_input_gradient=True)
    if not conv.trainable:
        return None, []
    grads = [dout.dkernel.reshape(conv.kernel.shape).astype(conv.kernel.value.dtype)]
    if conv.use_bias:
        # the normalization removes any shift of z: the conv bias's gradient is exactly 0
        grads.append(np.zeros_like(conv.bias.value))
    return None, grads


def relu_in_place(pooled):
    """relu of the pooled output, written over it: it is the pooling step's own new array,
    and the pooling keeps no reference to it in its cache."""
    return np.maximum(pooled, 0, out=pooled)


def relu_gradient(dout, out):
    """dL/d(pooled) from dL/d(relu(pooled)): dout where the output is positive, else 0."""
    return dout * (out > 0)


__all__ = ["PREACTIVATION", "RELU_AFTER", "backward", "forward", "mark"]
