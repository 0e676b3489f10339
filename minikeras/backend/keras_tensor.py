"""Symbolic tensors and the nodes that connect them, as Keras's `KerasTensor` and `Node`.

Calling a layer on a `KerasTensor` computes nothing: it works out the output's shape and
records the call as a `Node` (which layer, on which tensors, giving which tensors). A model
is then the graph of those nodes between its inputs and its outputs; models/graph.py runs it.

This module imports nothing from minikeras, so layers, models and the backend can all use it.
"""

_TENSOR_COUNT = [0]


class KerasTensor:
    """A placeholder for an array: its shape (batch axis first, None when unknown), its dtype,
    and its history, the node that made it.

    Args:
        shape: tuple, e.g. (None, 28, 28, 1).
        dtype: dtype name, e.g. "float32".
        name: defaults to "keras_tensor", "keras_tensor_1", ...
    """

    def __init__(self, shape, dtype="float32", name=None):
        self.shape = tuple(shape)
        self.dtype = dtype
        if name is None:
            count = _TENSOR_COUNT[0]
            _TENSOR_COUNT[0] += 1
            name = "keras_tensor" if count == 0 else f"keras_tensor_{count}"
        self.name = name
        # (layer, node_index, tensor_index): the node of `layer._inbound_nodes` that made this
        # tensor and which of that node's outputs it is. Keras calls it `_keras_history`.
        self._keras_history = None
        self._node = None

    @property
    def ndim(self):
        return len(self.shape)

    @property
    def node(self):
        """The node that made this tensor (None for a tensor no layer has made)."""
        return self._node

    def __repr__(self):
        return f"<KerasTensor shape={self.shape}, dtype={self.dtype}, name={self.name}>"

    def __iter__(self):
        raise NotImplementedError("Iterating over a symbolic KerasTensor is not supported.")

    def __bool__(self):
        raise TypeError("A symbolic KerasTensor has no truth value: it holds no data.")


class Node:
    """One call of a layer on symbolic tensors.

    Args:
        layer: the layer called.
        input_tensors: the KerasTensors it was called on ([] for an InputLayer's node).
        output_tensors: the KerasTensors it returned.
        list_input: whether the layer was called on a list (merge layers), so that forward
            gets a list even when the list holds one tensor.
        tensor_names: for a call with several tensor arguments, `mha(query, value,
            attention_mask=m)`, their names in input_tensors' order ("query", "value",
            "attention_mask"); the first `positional` were given by position. None otherwise.
        call_kwargs: the call's other keywords (`return_attention_scores=True`), repeated
            when the call is run, saved or cloned.

    Creating a node registers it: it is appended to `layer._inbound_nodes`, and each output
    tensor's history points at it.
    """

    def __init__(self, layer, input_tensors, output_tensors, list_input=False,
                 tensor_names=None, positional=1, call_kwargs=None):
        self.layer = layer
        self.input_tensors = list(input_tensors)
        self.output_tensors = list(output_tensors)
        self.list_input = bool(list_input) or tensor_names is not None
        self.tensor_names = None if tensor_names is None else tuple(tensor_names)
        self.positional = positional
        self.call_kwargs = dict(call_kwargs or {})
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        node = self
        for tensor_index, tensor in enumerate(self.output_tensors):
            tensor._keras_history = (layer, node_index, tensor_index)
            tensor._node = node

    @property
    def is_input(self):
        """True for the node of an InputLayer (it has no inputs)."""
        return not self.input_tensors

    def forward_options(self):
        """The keywords the layer's forward gets at this call besides x and training."""
        if self.tensor_names is None:
            return dict(self.call_kwargs)
        return {**self.call_kwargs, "tensor_names": self.tensor_names}

    def call_arguments(self, tensors=None):
        """(args, kwargs) that repeat this call, on `tensors` (one per input tensor, in the
        same order) or on its own input tensors."""
        tensors = list(self.input_tensors if tensors is None else tensors)
        if self.tensor_names is None:
            args = [tensors if self.list_input else tensors[0]]
            kwargs = {}
        else:
            args = tensors[:self.positional]
            kwargs = dict(zip(self.tensor_names[self.positional:], tensors[self.positional:]))
        kwargs.update(self.call_kwargs)
        return args, kwargs

    @property
    def parent_nodes(self):
        """The nodes that made this node's inputs."""
        return [tensor.node for tensor in self.input_tensors if tensor.node is not None]

    def __repr__(self):
        return (f"<Node {self.layer.name}: {[t.name for t in self.input_tensors]} -> "
                f"{[t.name for t in self.output_tensors]}>")
