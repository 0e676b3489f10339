"""`Functional`: a model built by calling layers on `Input(...)` tensors.

    inputs = keras.Input((784,))
    hidden = layers.Dense(64, activation="relu")(inputs)
    outputs = layers.Dense(10, activation="softmax")(hidden)
    model = keras.Model(inputs, outputs)

`keras.Model(inputs, outputs)` returns one (see Model.__new__). The model is the graph of
layer calls between its inputs and outputs; models/graph.py runs it.
"""

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.models.graph import Graph
from minikeras.models.model import Model


class Functional(Model):
    """A model over the graph of layer calls from `inputs` to `outputs`.

    Args:
        inputs: a KerasTensor (from `Input`), a list of them, or a dict {name: tensor}.
        outputs: KerasTensor(s) computed from the inputs: one, a list or a dict.
        name: model name ("functional", "functional_1", ... by default).

    Data for fit / predict follows the same structure: one array, a list in the order of
    `inputs`, or a dict keyed by input name (by output name for `y`).
    """

    def __init__(self, inputs, outputs, name=None, trainable=True, **kwargs):
        super().__init__(name=name, trainable=trainable, **kwargs)
        self._input_keys = list(inputs) if isinstance(inputs, dict) else None
        self._output_keys = list(outputs) if isinstance(outputs, dict) else None
        self._inputs_as_list = isinstance(inputs, (list, tuple, dict))
        self._outputs_as_list = isinstance(outputs, (list, tuple, dict))
        self._graph = Graph(_flat("inputs", inputs), _flat("outputs", outputs))
        self.built = True

    @property
    def _layers(self):
        """The layers, InputLayers included: the list the weights file follows (saving)."""
        return self.layers

    @property
    def inputs(self):
        """The model's input tensors, as a list."""
        return list(self._graph.inputs)

    @property
    def outputs(self):
        """The model's output tensors, as a list."""
        return list(self._graph.outputs)

    @property
    def input(self):
        """The input tensor, or the list of them when the model has several."""
        inputs = self.inputs
        return inputs if self._inputs_as_list and len(inputs) > 1 else inputs[0]

    @property
    def output(self):
        outputs = self.outputs
        return outputs if self._outputs_as_list and len(outputs) > 1 else outputs[0]

    @property
    def input_shape(self):
        shapes = [t.shape for t in self.inputs]
        return shapes if len(shapes) > 1 else shapes[0]

    @property
    def output_shape(self):
        shapes = [t.shape for t in self.outputs]
        return shapes if len(shapes) > 1 else shapes[0]

    def build(self, input_shape=None):
        self.built = True       # built by construction

    def compute_output_shape(self, input_shape):
        """The output shape(s) for input shape(s): the model's own, with the caller's batch
        size."""
        first = input_shape[0] if isinstance(input_shape, list) else input_shape
        batch = first[0] if first else None
        shapes = [(batch,) + tuple(t.shape[1:]) for t in self.outputs]
        return shapes if len(shapes) > 1 else shapes[0]

    def _output_dtype(self, index):
        return self.outputs[index].dtype


def _flat(argument, structure):
    """One tensor, a list/tuple or a dict of tensors -> a list of tensors."""
    if isinstance(structure, dict):
        tensors = list(structure.values())
    elif isinstance(structure, (list, tuple)):
        tensors = list(structure)
    else:
        tensors = [structure]
    if not tensors:
        raise ValueError(f"A Model needs at least one tensor in `{argument}`. "
                         f"Received: {argument}={structure!r}")
    for tensor in tensors:
        if not isinstance(tensor, KerasTensor):
            raise ValueError(
                f"All `{argument}` of a Model must be KerasTensors (from `Input(...)` or a "
                f"layer called on one). Received: {tensor!r} (of type "
                f"{type(tensor).__name__})"
            )
    return tensors
