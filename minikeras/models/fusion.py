"""Pooling before relu: a convolution's relu applied after the max pooling that follows it.

relu and max pooling commute: relu is increasing, so the largest of some relu'd numbers is
the relu of the largest,

    max(relu(a), relu(b), ...) == relu(max(a, b, ...)),

and the gradients agree too: both send a window's gradient to the pixel holding its maximum
when that maximum is positive, and nothing otherwise. So for `Conv2D(32, 3,
activation="relu")` followed by `MaxPooling2D(2)`, the graph executor may skip the conv's
relu and apply it to the pooled output: a quarter of the values with 2x2 pooling (forward
and backward), and one pass over the conv's big output less. The results are identical (max
and relu round nothing).

The executor (models/graph.py) fuses a pair when

    - the first layer can run without its activation (it has `forward_preactivation` and
      `backward_preactivation`), and its activation is the plain relu;
    - its output goes to that pooling layer only (not also to another layer or a model
      output: they must see the relu'd values);
    - the pooling layer takes a maximum (its class sets `commutes_with_relu`);
    - neither has an activity regularizer (it would see the other values), and neither
      uses or passes on a mask (so a graph with masks elsewhere can still fuse them: their
      outputs have no mask).
"""

import inspect

import numpy as np

from minikeras.activations.activations import relu

PREACTIVATION = "preactivation"     # the convolution, run without its relu
RELU_AFTER = "relu after"           # the max pooling, followed by the convolution's relu


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
        if (getattr(layer, "activation", None) is relu
                and hasattr(layer, "forward_preactivation")
                and users.get(first.out_slot) == 1 and first.out_slot not in output_slots
                and layer.activity_regularizer is None
                and step.layer.activity_regularizer is None
                and not _masks_matter(layer) and not _masks_matter(step.layer)):
            first.fusion, step.fusion = PREACTIVATION, RELU_AFTER
            first.simple = step.simple = False


def _masks_matter(layer):
    """Whether the layer reads a mask or may give its output one (the executor asks a layer
    for its output's mask only when it supports masking or has its own compute_mask)."""
    from minikeras.layers.layer import Layer

    own_compute_mask = type(layer).compute_mask is not Layer.compute_mask
    return (layer.supports_masking
            or "mask" in inspect.signature(type(layer).forward).parameters
            or (own_compute_mask and layer.compute_mask(None, np.ones(1, bool)) is not None))


def forward(step, x, training):
    """(out, cache) of a fused step."""
    if step.fusion == PREACTIVATION:
        return step.layer.forward_preactivation(x, training=training)
    out, cache = step.layer.forward(x, training=training)       # max pooling
    return relu_in_place(out), cache


def backward(step, dout, cache, out, need_input_gradient):
    """(dx, weight gradients) of a fused step; `out` is the step's forward output."""
    if step.fusion == PREACTIVATION:
        return step.layer.backward_preactivation(dout, cache,
                                                 need_input_gradient=need_input_gradient)
    return step.layer.backward(relu_gradient(dout, out), cache)   # then the pooling's own


def relu_in_place(pooled):
    """relu of the pooled output, written over it: it is the pooling step's own new array,
    and the pooling keeps no reference to it in its cache."""
    return np.maximum(pooled, 0, out=pooled)


def relu_gradient(dout, out):
    """dL/d(pooled) from dL/d(relu(pooled)): dout where the output is positive, else 0."""
    return dout * (out > 0)


__all__ = ["PREACTIVATION", "RELU_AFTER", "backward", "forward", "mark"]
