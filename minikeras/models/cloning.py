"""`clone_model`: the same architecture with new layers and freshly initialised weights."""

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.input_layer import InputLayer


def _default_clone(layer):
    """A new layer from the old one's config: same settings and name, new weights."""
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new model with the same architecture: the same layers' configs, new weights.

    As in Keras, the clone is not compiled and its weights are initialised anew (copy them
    with `clone.set_weights(model.get_weights())` if you want them).

    Args:
        model: a Sequential or functional model.
        input_tensors: optional `Input(...)` tensor(s) to build the clone on (one per model
            input).
        clone_function: callable(layer) -> new layer, applied to every layer
            (default: `type(layer).from_config(layer.get_config())`).
        call_function: functional models only: callable(layer, *args, **kwargs) -> outputs,
            how each cloned layer is called (default: `layer(*args, **kwargs)`, the call the
            model recorded).
        recursive: clone nested models with clone_model too (with the same clone_function).
    """
    from minikeras.models.functional import Functional
    from minikeras.models.sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if isinstance(model, Functional):
        return _clone_functional(model, input_tensors, clone_function, call_function,
                                 recursive)
    if not isinstance(model, Sequential):
        raise ValueError(
            "Expected `model` argument to be a `Sequential` or functional model instance. "
            f"Received: model={model!r}"
        )
    if call_function is not None:
        raise ValueError(
            "`call_function` applies to functional models only; minikeras models are "
            f"Sequential. Received: call_function={call_function!r}"
        )
    clone_function = clone_function or _default_clone
    if not callable(clone_function):
        raise ValueError(
            "Expected `clone_function` argument to be a callable. "
            f"Received: clone_function={clone_function!r}"
        )
    new_layers = []
    for layer in model.layers:
        new_layer = clone_function(layer)
        if recursive and isinstance(layer, Sequential):
            new_layer = clone_model(layer, clone_function=clone_function, recursive=True)
        new_layers.append(new_layer)

    input_layer = _clone_input(model, input_tensors)
    if input_layer is not None:
        new_layers = [input_layer] + new_layers
    return Sequential(new_layers, trainable=model.trainable, name=model.name)


def _clone_input(model, input_tensors):
    if input_tensors is not None:
        if isinstance(input_tensors, (list, tuple)):
            if len(input_tensors) != 1:
                raise ValueError(
                    "Argument `input_tensors` must contain a single tensor. "
                    f"Received: {len(input_tensors)} tensors"
                )
            input_tensors = input_tensors[0]
        if not isinstance(input_tensors, KerasTensor):
            raise ValueError(
                "Argument `input_tensors` must be a KerasTensor made by `Input(...)`. "
                f"Received invalid value: input_tensors={input_tensors!r}"
            )
        return input_tensors._keras_history[0]
    old = model._input_layer
    if old is None:
        return None
    return InputLayer(batch_shape=old.batch_shape, dtype=old.dtype, name=old.name)


def _clone_functional(model, input_tensors, clone_function, call_function, recursive):
    """Replays the model's layer calls, in order, on clones of its layers. A layer called
    several times (shared) is cloned once, so the clone shares it the same way."""
    from minikeras.layers.input_layer import Input
    from minikeras.models.graph import order_nodes
    from minikeras.models.model import Model
    from minikeras.saving.serialization import _structure

    for argument, function in (("clone_function", clone_function),
                               ("call_function", call_function)):
        if function is not None and not callable(function):
            raise ValueError(f"Expected `{argument}` argument to be a callable. "
                             f"Received: {argument}={function!r}")
    clone_function = clone_function or _default_clone
    call_function = call_function or (lambda layer, *args, **kwargs: layer(*args, **kwargs))
    old_inputs = model.inputs
    if input_tensors is None:
        new_inputs = [Input(batch_shape=t.shape, dtype=t.dtype, name=t._keras_history[0].name)
                      for t in old_inputs]
    else:
        new_inputs = input_tensors
        if isinstance(new_inputs, dict):
            new_inputs = list(new_inputs.values())
        if not isinstance(new_inputs, (list, tuple)):
            new_inputs = [new_inputs]
        if len(new_inputs) != len(old_inputs) or not all(
                isinstance(t, KerasTensor) for t in new_inputs):
            raise ValueError(
                f"Argument `input_tensors` must hold {len(old_inputs)} KerasTensor(s), one per "
                f"model input. Received: input_tensors={input_tensors!r}"
            )
    tensors = {id(old): new for old, new in zip(old_inputs, new_inputs, strict=True)}
    clones = {}
    nodes, _ = order_nodes(old_inputs, model.outputs)
    for node in nodes:
        if node.is_input:
            continue
        layer = node.layer
        if layer not in clones:
            if recursive and isinstance(layer, Model):
                clones[layer] = clone_model(layer, clone_function=clone_function,
                                            recursive=True)
            else:
                clones[layer] = clone_function(layer)
        args, kwargs = node.call_arguments([tensors[id(t)] for t in node.input_tensors])
        outputs = call_function(clones[layer], *args, **kwargs)
        outputs = outputs if isinstance(outputs, (list, tuple)) else [outputs]
        for old, new in zip(node.output_tensors, outputs, strict=True):
            tensors[id(old)] = new
    new_outputs = [tensors[id(t)] for t in model.outputs]
    return Model(_structure(model, "input", new_inputs), _structure(model, "output", new_outputs),
                 name=model.name, trainable=model.trainable)
