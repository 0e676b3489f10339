"""The graph executor: forward and backward through a network of layer calls.

Every model (Sequential, functional, a model nested in another) runs here. A model is a set of
nodes, each one call of a layer on some tensors (backend/keras_tensor.py records them when a
layer is called on `Input(...)`). To run it:

    forward:   visit the nodes in topological order (every input before its users); each layer
               computes `out, cache = layer.forward(x)`; the cache is kept per node.
    backward:  visit the nodes in reverse; each layer turns dL/d(out) into dL/dx and its weight
               gradients with `layer.backward(dout, cache)`.

Two sums make this backpropagation on a graph rather than on a chain, and both happen in
`_add` below:

    a tensor used by several nodes (fan-out) gets the SUM of the gradients its users send back,
        dL/dt = sum over users u of dL/du * du/dt         (the multivariable chain rule);
    a layer called at several nodes (a shared layer) gets the SUM of its weight gradients,
        dL/dW = sum over calls c of dL/dW at c             (the same weights used c times).

A node none of whose outputs reaches the loss gets no gradient and is skipped.

One rewrite saves time without changing any result: a convolution's relu followed by max
pooling runs after the pooling instead, on fewer values (models/fusion.py says why that
is exact).
"""

import functools
import inspect

import numpy as np

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.models import fusion
from minikeras.ops.tape import CallRecord


class Graph:
    """The nodes between `inputs` and `outputs`, in the order they run.

    Args:
        inputs: list of KerasTensor (the model's inputs).
        outputs: list of KerasTensor (the model's outputs).

    Each tensor gets a slot number; `forward` keeps the tensors' values in a list indexed by
    slot, so each step only looks up integers.
    """

    def __init__(self, inputs, outputs):
        self.inputs = list(inputs)
        self.outputs = list(outputs)
        nodes, self.layers = order_nodes(self.inputs, self.outputs)
        slots = {}
        for tensor in self.inputs:
            slots.setdefault(id(tensor), len(slots))
        self.steps = []
        for node in nodes:
            if node.is_input:
                continue
            in_slots = [slots[id(t)] for t in node.input_tensors]
            for tensor in node.output_tensors:
                slots[id(tensor)] = len(slots)
            self.steps.append(_Step(node, in_slots, [slots[id(t)] for t in node.output_tensors],
                                    input_slots=range(len(self.inputs))))
        self.n_slots = len(slots)
        called = {id(step.layer) for step in self.steps}
        self.called_layers = [layer for layer in self.layers if id(layer) in called]
        # A layer used both here and inside a nested model: its weights appear twice.
        weight_ids = [id(w) for layer in self.called_layers for w in layer.weights]
        self.repeats_weights = len(weight_ids) != len(set(weight_ids))
        self.input_slots = [slots[id(t)] for t in self.inputs]
        self.output_slots = [slots[id(t)] for t in self.outputs]
        # Masks cost a little on every step: track them only when some layer can make one.
        self.uses_masks = any(_makes_masks(step.layer) for step in self.steps)
        # The step making each output, if the loss may take its logits (see output_logits).
        users = {}
        for step in self.steps:
            for slot in step.in_slots:
                users[slot] = users.get(slot, 0) + 1
        for slot in self.output_slots:
            users[slot] = users.get(slot, 0) + 1
        maker = {step.out_slots[0]: i for i, step in enumerate(self.steps)
                 if len(step.out_slots) == 1}
        self.logits_step = [maker.get(slot) if users[slot] == 1 else None
                            for slot in self.output_slots]
        fusion.mark(self.steps, users, self.output_slots)

    # ----------------------------------------------------------------- forward

    def forward(self, inputs, training=False, input_masks=None):
        """inputs: list of arrays, one per model input. Returns (outputs, tape).

        outputs: list of arrays, one per model output. The tape keeps what backward needs:
        each node's cache, and the outputs of layers with an activity regularizer.
        """
        values = [None] * self.n_slots
        for slot, value in zip(self.input_slots, inputs):
            values[slot] = value
        masks = None
        if self.uses_masks or input_masks is not None:
            masks = [None] * self.n_slots
            for slot, mask in zip(self.input_slots, input_masks or ()):
                masks[slot] = mask
        caches = []
        penalty = 0.0
        for step in self.steps:
            if step.simple and masks is None:
                # The common case, kept short: one tensor in, one tensor out.
                values[step.out_slot], cache = step.layer.forward(values[step.in_slot],
                                                                  training=training)
                caches.append(cache)
                if type(cache) is CallRecord:
                    penalty += cache.loss
                if step.layer.activity_regularizer is None:
                    continue
            else:
                if step.list_input:
                    x = [values[slot] for slot in step.in_slots]
                else:
                    x = values[step.in_slot]
                if step.fusion is not None:
                    out, cache = fusion.forward(step, x, training, caches)
                    if masks is not None:
                        masks[step.out_slot] = None     # neither layer passes a mask on
                elif masks is None:
                    out, cache = step.layer.forward(x, training=training, **step.options)
                else:
                    out, cache = self._forward_with_masks(step, x, masks, training)
                if step.single_output:
                    values[step.out_slot] = out
                else:
                    for slot, value in zip(step.out_slots, out):
                        values[slot] = value
                caches.append(cache)
                if type(cache) is CallRecord:
                    # A layer written with keras.ops may add_loss; its backward adds the
                    # gradient.
                    penalty += cache.loss
            if step.layer.activity_regularizer is not None:
                # Keras divides the activity penalty by the batch size.
                for slot in step.out_slots:
                    penalty += step.layer.activity_regularizer(values[slot]) / \
                        values[slot].shape[0]
        outputs = [values[slot] for slot in self.output_slots]
        return outputs, Tape(values, caches, penalty, masks)

    @staticmethod
    def _forward_with_masks(step, x, masks, training):
        """Runs one step passing its input mask, and sets the mask of its outputs:
        layer.compute_mask(x, input_mask) for layers that support masking, else none."""
        if step.list_input:
            in_mask = [masks[slot] for slot in step.in_slots]
            if all(m is None for m in in_mask):
                in_mask = None
        else:
            in_mask = masks[step.in_slot]
        layer = step.layer
        if _accepts(type(layer).forward, "mask"):
            out, cache = layer.forward(x, training=training, mask=in_mask, **step.options)
        else:
            out, cache = layer.forward(x, training=training, **step.options)
        out_mask = None
        if layer.supports_masking or _makes_masks(layer):
            out_mask = layer.compute_mask(x, in_mask)
        if step.single_output:
            masks[step.out_slot] = out_mask
        else:
            out_mask = out_mask if isinstance(out_mask, (list, tuple)) else [out_mask] * len(out)
            for slot, mask in zip(step.out_slots, out_mask):
                masks[slot] = mask
        return out, cache

    def output_masks(self, tape):
        """The mask of each model output (None where there is none)."""
        if tape.masks is None:
            return [None] * len(self.output_slots)
        return [tape.masks[slot] for slot in self.output_slots]

    def output_logits(self, tape, index):
        """The logits behind output `index` (the input of its final sigmoid/softmax), or None.

        Only offered when the loss is that output's only user: another user would send back
        dL/d(output), which cannot be added to dL/d(logits).
        """
        step_index = self.logits_step[index]
        if step_index is None:
            return None
        return self.steps[step_index].layer.output_logits(tape.caches[step_index])

    # ---------------------------------------------------------------- backward

    def backward(self, output_grads, tape, from_logits=None, need_input_gradient=False):
        """Backpropagation through the graph.

        Args:
            output_grads: one array (or None: no loss on it) per model output, dL/d(output),
                or dL/d(logits) for the outputs flagged in `from_logits`.
            tape: from forward.
            from_logits: list of bools, one per output: True when its gradient is with
                respect to the logits that output_logits returned.
            need_input_gradient: whether to compute dL/d(model inputs) (a nested model's
                caller needs them; a top-level model does not).

        Returns:
            (input_grads, layer_grads): input_grads, one array or None per model input;
            layer_grads, {layer: gradients aligned with its trainable_weights}.
        """
        grads = [None] * self.n_slots
        logits_steps = set()
        for index, (slot, grad) in enumerate(zip(self.output_slots, output_grads)):
            if grad is None:
                continue
            _add(grads, slot, grad)
            if from_logits is not None and from_logits[index]:
                logits_steps.add(self.logits_step[index])
        layer_grads = {}
        values = tape.values
        for index in range(len(self.steps) - 1, -1, -1):
            step = self.steps[index]
            layer = step.layer
            if step.single_output:
                dout = grads[step.out_slot]
                if dout is None and layer.activity_regularizer is None:
                    continue    # nothing downstream of this node reaches the loss
            else:
                dout = [grads[slot] for slot in step.out_slots]
                if all(d is None for d in dout) and layer.activity_regularizer is None:
                    continue
                dout = [np.zeros_like(values[slot]) if d is None else d
                        for slot, d in zip(step.out_slots, dout)]
            if layer.activity_regularizer is not None:
                dout = _add_activity_gradient(layer, dout, step, values)
            need_dx = need_input_gradient or step.needs_input_gradient
            if step.fusion is not None:
                dx, weight_grads = fusion.backward(step, dout, tape.caches[index],
                                                   values[step.out_slot], need_dx)
            elif need_dx and index not in logits_steps:
                dx, weight_grads = layer.backward(dout, tape.caches[index])
            else:
                options = {}            # only what differs from the defaults
                if index in logits_steps:
                    options["from_logits"] = True
                if not need_dx and _accepts(type(layer).backward, "need_input_gradient"):
                    options["need_input_gradient"] = False
                dx, weight_grads = layer.backward(dout, tape.caches[index], **options)
            # A shared layer: its weight gradients from every call add up.
            previous = layer_grads.get(layer)
            if previous is None:
                layer_grads[layer] = weight_grads
            else:
                layer_grads[layer] = [a + b for a, b in zip(previous, weight_grads)]
            if not need_dx:
                continue
            # Fan-out: a tensor used by several nodes sums the gradients they send back.
            if step.list_input:
                if not isinstance(dx, (list, tuple)):
                    dx = [dx]           # a list of one tensor: a model with one input
                for slot, d in zip(step.in_slots, dx):
                    _add(grads, slot, d)
            else:
                _add(grads, step.in_slot, dx)
        input_grads = [grads[slot] for slot in self.input_slots]
        return input_grads, layer_grads


def _add(grads, slot, grad):
    """grads[slot] += grad, without touching the array already there (a layer may still hold
    it, and the STYLE rule is never to modify an incoming gradient in place)."""
    if grad is None:
        return
    grads[slot] = grad if grads[slot] is None else grads[slot] + grad


def _add_activity_gradient(layer, dout, step, values):
    """dL/d(out) plus the activity penalty's gradient (penalty / batch size, as Keras)."""
    def with_penalty(d, value):
        penalty_grad = layer.activity_regularizer.gradient(value) / value.shape[0]
        return penalty_grad if d is None else d + penalty_grad

    if step.single_output:
        return with_penalty(dout, values[step.out_slot])
    return [with_penalty(d, values[slot]) for d, slot in zip(dout, step.out_slots)]


class Tape:
    """What forward leaves for backward: every tensor's value (by slot), every node's cache,
    the activity penalty, and the masks (None when the graph has none)."""

    __slots__ = ("values", "caches", "penalty", "masks")

    def __init__(self, values, caches, penalty, masks):
        self.values = values
        self.caches = caches
        self.penalty = penalty
        self.masks = masks


class _Step:
    """One node, ready to run: its layer, and where its inputs and outputs live."""

    __slots__ = ("layer", "in_slots", "out_slots", "in_slot", "out_slot", "list_input",
                 "single_output", "simple", "needs_input_gradient", "options", "fusion",
                 "partner")

    def __init__(self, node, in_slots, out_slots, input_slots):
        self.layer = node.layer
        self.in_slots = in_slots
        self.out_slots = out_slots
        self.in_slot = in_slots[0] if in_slots else None      # for one-input layers
        self.out_slot = out_slots[0]
        self.list_input = node.list_input
        # The call's keywords besides x (mha(q, v, return_attention_scores=True)): usually {}.
        self.options = node.forward_options()
        self.single_output = len(out_slots) == 1
        self.simple = self.single_output and not self.list_input and not self.options
        # dL/dx is wanted unless every input is a model input (nothing upstream to train).
        self.needs_input_gradient = any(slot not in input_slots for slot in in_slots)
        self.fusion = None      # or a kind of models/fusion.py: set by fusion.mark
        self.partner = None     # the other layer of a fused pair, for the step that needs it


@functools.cache
def _accepts(function, parameter):
    """Whether a layer class's forward/backward takes `parameter` (asked once per function:
    the signature lookup costs more than a small layer's whole backward pass)."""
    return parameter in inspect.signature(function).parameters


def _makes_masks(layer):
    """Whether the layer has its own compute_mask (Embedding(mask_zero=True), Masking...).
    Layers that only combine their inputs' masks (the merge layers: `combines_masks`) make
    none where no input has one, so they alone do not make a graph track masks."""
    from minikeras.layers.layer import Layer

    return (type(layer).compute_mask is not Layer.compute_mask
            and not getattr(layer, "combines_masks", False))


# ------------------------------------------------------------------- ordering


def order_nodes(inputs, outputs):
    """The nodes from `inputs` to `outputs` in the order Keras runs them, and the layers in
    Keras's order (which fixes the order of `model.weights`).

    A depth-first walk back from the outputs lists the nodes, inputs first. Each node's depth
    is then its longest distance to an output; nodes run by decreasing depth. Layers are listed
    by decreasing depth too (a shared layer at its greatest depth), ties broken by the order
    the walk first met them.
    """
    input_ids = {id(t) for t in inputs}
    walked = []             # nodes, every node after the nodes making its inputs
    first_seen = {}         # layer -> position in the walk
    finished = set()
    in_progress = set()

    def walk(tensor):
        node = tensor.node
        if node is None or id(node) in finished:
            return
        if id(tensor) in input_ids and not node.is_input:
            return          # an intermediate tensor given as a model input: start here
        if id(node) in in_progress:
            raise ValueError(f"Tensor {tensor} from layer {node.layer.name!r} is part of a "
                             "cycle.")
        first_seen.setdefault(node.layer, len(first_seen))
        in_progress.add(id(node))
        for parent in node.input_tensors:
            walk(parent)
        in_progress.discard(id(node))
        finished.add(id(node))
        walked.append(node)

    for tensor in outputs:
        _check_tensor(tensor, "outputs")
        walk(tensor)
    for tensor in inputs:
        _check_tensor(tensor, "inputs")

    in_graph = {id(node) for node in walked}
    node_depth = {}
    layer_depth = {}
    for node in reversed(walked):
        depth = max(node_depth.setdefault(id(node), 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth
        node_depth[id(node)] = depth
        for parent in node.parent_nodes:
            if id(parent) in in_graph:
                node_depth[id(parent)] = max(depth + 1, node_depth.get(id(parent), 0))
    for tensor in inputs:   # an input no output uses still belongs to the model
        node = tensor.node
        if node.is_input and node.layer not in layer_depth:
            layer_depth[node.layer] = 0
            first_seen[node.layer] = -1
            node_depth[id(node)] = 0
            walked.append(node)

    order = {id(node): i for i, node in enumerate(walked)}
    nodes = sorted(walked, key=lambda n: (-node_depth[id(n)], order[id(n)]))
    layers = sorted(layer_depth, key=lambda layer: (-layer_depth[layer], first_seen[layer]))

    computable = set(input_ids)
    ran = []
    for node in nodes:
        for tensor in node.input_tensors:
            if id(tensor) not in computable:
                raise ValueError(
                    f"Graph disconnected: cannot find parent for tensor {tensor} at layer "
                    f"{node.layer.name!r}. The following previous layers were accessed "
                    f"without issue: {ran}"
                )
        if node.is_input and id(node.output_tensors[0]) not in computable:
            raise ValueError(
                f"Graph disconnected: cannot find parent for tensor {node.output_tensors[0]} "
                f"at layer {node.layer.name!r}: it is an Input that is not among the "
                f"model's inputs. The following previous layers were accessed without "
                f"issue: {ran}"
            )
        ran.append(node.layer.name)
        computable.update(id(t) for t in node.output_tensors)

    names = [layer.name for layer in layers]
    for name in names:
        if names.count(name) > 1:
            raise ValueError(
                f'The name "{name}" is used {names.count(name)} times in the model. All '
                "layer names should be unique."
            )
    return nodes, layers


def _check_tensor(tensor, argument):
    if not isinstance(tensor, KerasTensor):
        raise ValueError(
            f"All `{argument}` of a Model must be symbolic tensors (KerasTensor, made by "
            f"`Input(...)` or by calling a layer on one). Received: {tensor!r} "
            f"(of type {type(tensor).__name__})"
        )
    if tensor.node is None:
        raise ValueError(
            f"The tensor {tensor!r} given in `{argument}` was not made by a layer: it has no "
            "history to build a model from."
        )
