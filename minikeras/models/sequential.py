"""`Sequential`: a model whose layers form one chain, each feeding the next."""

import functools
import inspect

from minikeras.layers.input_layer import InputLayer, KerasTensor
from minikeras.layers.layer import Layer
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
        for layer in layers or []:
            self.add(layer)

    # ------------------------------------------------------------- structure

    def add(self, layer, rebuild=True):
        """Appends a layer (or an `Input`) to the stack."""
        if isinstance(layer, KerasTensor):
            layer = layer._input_layer
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
            if not self._layers and self._input_layer is None and \
                    layer._batch_input_shape is not None:
                self._input_layer = InputLayer(batch_shape=layer._batch_input_shape)
            self._layers.append(layer)
        self.built = False
        if rebuild and self._input_layer is not None:
            self.build(self._input_layer.batch_shape)

    def pop(self, rebuild=True):
        """Removes and returns the last layer."""
        if not self._layers:
            raise TypeError("There are no layers in the model.")
        layer = self._layers.pop()
        self.built = False
        if rebuild and self._input_layer is not None and self._layers:
            self.build(self._input_layer.batch_shape)
        return layer

    @property
    def layers(self):
        """The layers, in order (the Input is not listed, as in Keras)."""
        return list(self._layers)

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
            self._input_layer = InputLayer(batch_shape=input_shape)
        shape = input_shape
        for layer in self._layers:
            layer._maybe_build(shape)
            output_shape = tuple(layer.compute_output_shape(shape))
            layer._model_shapes = (shape, output_shape)     # for layer.input / layer.output
            shape = output_shape
        self._output_shape = shape
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
        return [KerasTensor(self._input_layer.batch_shape, self._input_layer.dtype,
                            self._input_layer)]

    @property
    def outputs(self):
        """[the model's symbolic output], once it is built."""
        if not self.built:
            raise AttributeError(f"Sequential model {self.name!r} has no defined outputs yet.")
        return [self._layers[-1].output] if self._layers else self.inputs

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

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    # ----------------------------------------------------------------- maths

    def _forward(self, x, training):
        """x: (batch, *input_shape). Returns (y_pred, tape).

        The tape lists, for each layer, its cache and (when it has an activity regularizer)
        its output, which the penalty's gradient needs.
        """
        tape = []
        penalty = 0.0
        for layer in self._layers:
            x, cache = layer.forward(x, training=training)
            regularized_output = None
            if layer.activity_regularizer is not None:
                # Keras divides the activity penalty by the batch size.
                penalty += layer.activity_regularizer(x) / x.shape[0]
                regularized_output = x
            tape.append((layer, cache, regularized_output))
        return x, {"layers": tape, "penalty": penalty}

    def _penalty(self, tape):
        return tape["penalty"]

    def _output_logits(self, tape):
        if not tape["layers"]:
            return None
        layer, cache, _ = tape["layers"][-1]
        return layer.output_logits(cache)

    def _backward(self, dy, tape, from_logits=False):
        """dy: dL/dy_pred (or dL/d(logits) of the last layer). Returns weight gradients in
        trainable_weights order."""
        grads_by_layer = []
        dout = dy
        last_position = len(tape["layers"]) - 1
        for position, (layer, cache, output) in enumerate(reversed(tape["layers"])):
            if output is not None:
                dout = dout + layer.activity_regularizer.gradient(output) / output.shape[0]
            options = {}
            if position == 0 and from_logits:
                options["from_logits"] = True
            if position == last_position and _can_skip_input_gradient(type(layer).backward):
                # Nothing uses the gradient w.r.t. the model's input: let the first layer
                # skip it when it can (Conv2D saves its input-gradient GEMMs).
                options["need_input_gradient"] = False
            dout, grads = layer.backward(dout, cache, **options)
            grads_by_layer.append((layer, grads))
        grads = []
        for layer, layer_grads in reversed(grads_by_layer):
            if layer.trainable:
                grads.extend(layer_grads)
        return grads

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


@functools.cache
def _can_skip_input_gradient(backward):
    """Whether a layer class's `backward` function takes `need_input_gradient` (asked once per
    function: the signature lookup costs more than a small layer's whole backward pass)."""
    return "need_input_gradient" in inspect.signature(backward).parameters
