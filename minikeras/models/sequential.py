"""`Sequential`: a model whose layers form one chain, each feeding the next.

Once its input shape is known, the chain is built as a graph (each layer called on the
previous one's output) and runs on the same executor as every other model (models/graph.py).
"""

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.input_layer import InputLayer
from minikeras.layers.layer import Layer
from minikeras.models.graph import Graph
from minikeras.models.model import Model


class Sequential(Model):
    """A linear stack of layers.

    Args:
        layers: list of layers; the first may be `Input(shape)` (or carry `input_shape=` /
            `input_dim=`), which builds the model right away.
        name: model name ("sequential", "sequential_1", ... by default).

    Shapes: x (batch, *input_shape) -> y (batch, *output_shape).
    """

    def __init__(self, layers=None, trainable=True, name=None):
        super().__init__(name=name, trainable=trainable)
        self._layers = []
        self._input_layer = None
        self._own_nodes = []    # the nodes the last build() added to the layers
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------- structure

    def add(self, layer, rebuild=True):
        """Appends a layer (or an `Input`) to the stack."""
        if isinstance(layer, KerasTensor):
            layer = layer._keras_history[0]
        if not isinstance(layer, Layer):
            raise ValueError(
                "Only instances of `minikeras.layers.Layer` can be added to a Sequential "
                f"model. Received: {layer!r} (of type {type(layer).__name__})"
            )
        if isinstance(layer, InputLayer):
            if self._layers or self._input_layer is not None:
                raise ValueError(
                    "An Input can only be the first element of a Sequential model. "
                    f"Received: {layer.name!r} after other layers"
                )
            self._input_layer = layer
        else:
            if any(existing is layer for existing in self._layers):
                raise ValueError(f"Layer {layer.name!r} is already in model {self.name!r}.")
            _check_single_output(layer)
            if not self._layers and self._input_layer is None and \
                    layer._batch_input_shape is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
            self._layers.append(layer)
        self.built = False
        self._graph = None
        if rebuild and self._input_layer is not None:
            self.build(self._input_layer.batch_shape)

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        self._graph = None
        if rebuild and self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)
        return layer

    @property
    def layers(self):
        """The layers, in order (the Input is not listed, as in Keras)."""
        return list(getattr(self, "_layers", []))

    def build(self, input_shape=None):
        """Builds every layer in turn, each from the previous one's output shape."""
        if input_shape is None:
            if self._input_layer is None:
                raise ValueError(
                    f"Model {self.name!r} cannot be built without an input shape. Call "
                    "build(input_shape) or start the model with Input(shape)."
                )
            input_shape = self._input_layer.batch_shape
        input_shape = tuple(input_shape)
        if self._input_layer is None or self._input_layer.batch_shape != input_shape:
            dtype = None if self._input_layer is None else self._input_layer.dtype
            self._input_layer = InputLayer(batch_shape=input_shape, dtype=dtype)
        # Calling each layer on the previous output builds it, checks the shapes and records
        # the chain as nodes; a rebuild (after add/pop) first forgets the old chain's nodes.
        for node in self._own_nodes:
            if node in node.layer._inbound_nodes:
                node.layer._inbound_nodes.remove(node)
        tensor = self._input_layer.output
        own_nodes = []
        for layer in self._layers:
            tensor = layer(tensor)
            if isinstance(tensor, list):
                _check_single_output(layer, len(tensor))
            own_nodes.append(tensor.node)
        self._own_nodes = own_nodes
        self._graph = Graph([self._input_layer.output], [tensor])
        self._output_shape = tensor.shape
        self.built = True

    @property
    def input_shape(self):
        if self._input_layer is None:
            raise AttributeError(
                f"Sequential model {self.name!r} has no defined input shape yet."
            )
        return self._input_layer.batch_shape

    @property
    def output_shape(self):
        if not self.built:
            raise AttributeError(f"Sequential model {self.name!r} has not been built yet.")
        return self._output_shape

    @property
    def inputs(self):
        """[the model's symbolic input], once its input shape is known."""
        if self._input_layer is None:
            raise AttributeError(f"Sequential model {self.name!r} has no defined inputs yet.")
        return [self._input_layer.output]

    @property
    def outputs(self):
        """[the model's symbolic output], once it is built."""
        if not self.built:
            raise AttributeError(f"Sequential model {self.name!r} has no defined outputs yet.")
        return list(self._graph.outputs)

    @property
    def input(self):
        return self.inputs[0]

    @property
    def output(self):
        return self.outputs[0]

    def compute_output_shape(self, input_shape):
        shape = tuple(input_shape)
        for layer in self._layers:
            shape = tuple(layer.compute_output_shape(shape))
        return shape

    # ---------------------------------------------------------- configuration

    def get_config(self):
        from minikeras.saving.serialization import serialize_layer

        layers = []
        if self._input_layer is not None:
            layers.append({"class_name": "InputLayer",
                           "config": self._input_layer.get_config()})
        layers += [serialize_layer(layer) for layer in self._layers]
        return {"name": self.name, "trainable": self.trainable, "layers": layers}

    @classmethod
    def from_config(cls, config, custom_objects=None):
        from minikeras.saving.serialization import deserialize_layer

        model = cls(name=config.get("name"), trainable=config.get("trainable", True))
        for layer_config in config["layers"]:
            model.add(deserialize_layer(layer_config, custom_objects=custom_objects))
        return model


def _check_single_output(layer, outputs=None):
    """Keras's rule: each layer of a Sequential model gives one tensor. A recurrent layer with
    return_state=True (or Bidirectional with merge_mode=None) gives several."""
    if outputs is None:
        several = getattr(layer, "return_state", False) is True or (
            hasattr(layer, "merge_mode") and layer.merge_mode is None)
        if not several:
            return
    raise ValueError(
        "All layers in a Sequential model should have a single output tensor. For "
        "multi-output layers, use the functional API. Received: layer "
        f"{layer.name!r} ({type(layer).__name__}"
        + (", return_state=True" if getattr(layer, "return_state", False) else "")
        + (", merge_mode=None" if getattr(layer, "merge_mode", "") is None else "")
        + ")"
    )
