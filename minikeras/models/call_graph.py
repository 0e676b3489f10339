"""The graph of a subclassed model: its `call`, run on the tape.

`class MyModel(keras.Model)` sets its layers in `__init__` and wires them in `call`; there are
no symbolic tensors to build a graph from. `CallGraph` gives the training loop (models/model.py)
the same face as the graph executor (models/graph.py): forward runs `call` on the tape, which
records every op and layer call; backward walks that record in reverse (ops/tape.py), each
built-in layer through its own backward.
"""

import numpy as np

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.layer import Layer
from minikeras.models.graph import Tape
from minikeras.ops.tape import unwrap


class CallGraph:
    """A subclassed model's call, seen as a graph with inputs, outputs and layers.

    Args:
        model: the Model whose `call` is run.
        input_shape: the shape of its input (batch axis first), or a list of them.

    Building runs the call once on zeros (unknown sizes taken as 1), which builds the layers
    and gives the output shapes.
    """

    def __init__(self, model, input_shape):
        self.model = model
        shapes = input_shape if isinstance(input_shape, list) else [input_shape]
        self.list_input = isinstance(input_shape, list)
        self.inputs = [KerasTensor((None,) + tuple(shape[1:]), model.dtype)
                       for shape in shapes]
        self.outputs = []
        self.several_outputs = False
        if not model._has_call():
            return      # a model trained only by its own train_step (keras.io's VAE)
        zeros = [np.zeros((1,) + tuple(1 if d is None else d for d in shape[1:]),
                          dtype=model.dtype) for shape in shapes]
        out, _ = Layer.forward(model, zeros if self.list_input else zeros[0], training=False)
        outs = out if isinstance(out, list) else [out]
        for index, value in enumerate(outs):
            tensor = KerasTensor((None,) + np.shape(value)[1:], model.dtype)
            tensor._keras_history = (model, 0, index)
            self.outputs.append(tensor)
        self.several_outputs = isinstance(out, list)

    @property
    def layers(self):
        return self.model._sublayers()

    @property
    def called_layers(self):
        # Every layer the call may use; one it did not use this time gets zero gradients.
        return self.layers

    @property
    def repeats_weights(self):
        """Whether a weight is reached through two sublayers (the graph executor's flag)."""
        ids = [id(w) for layer in self.layers for w in layer.weights]
        return len(ids) != len(set(ids))

    def forward(self, inputs, training=False, input_masks=None):
        """inputs: list of arrays, one per model input. Returns (outputs list, tape)."""
        x = inputs if self.list_input else inputs[0]
        out, record = Layer.forward(self.model, x, training=training)
        outputs = out if isinstance(out, list) else [out]
        return outputs, Tape(None, [record], record.loss or 0.0, None)

    def backward(self, output_grads, tape, from_logits=None, need_input_gradient=False):
        """Returns (input_grads, {layer: gradients aligned with its trainable_weights})."""
        douts = [np.zeros_like(unwrap(o)) if d is None else d
                 for d, o in zip(output_grads, self._outputs_of(tape))]
        dout = douts if self.several_outputs else douts[0]
        weights = self.model.trainable_weights
        dx, grads = Layer.backward(self.model, dout, tape.caches[0],
                                   need_input_gradient=need_input_gradient)
        by_id = {id(w): g for w, g in zip(weights, grads)}
        # A weight reached through two sublayers is listed twice (see repeats_weights) and
        # the model sums the two entries: its whole gradient goes to the first only.
        layer_grads = {}
        seen = set()
        for layer in self.layers:
            layer_grads[layer] = [np.zeros_like(w.value) if id(w) in seen else by_id[id(w)]
                                  for w in layer.trainable_weights]
            seen.update(id(w) for w in layer.trainable_weights)
        input_grads = dx if isinstance(dx, list) else [dx]
        return input_grads, layer_grads

    def _outputs_of(self, tape):
        record = tape.caches[0]
        if record.replay is not None:
            raise ValueError("This forward pass ran without the tape (training=False outside "
                             "a training step): run it with training=True to backpropagate.")
        out = record.output
        return out if isinstance(out, (list, tuple)) else [out]

    def output_masks(self, tape):
        return [None] * len(self.outputs)

    def output_logits(self, tape, index):
        return None
