"""`clone_model`: the same architecture with new layers and freshly initialised weights."""

from minikeras.backend.keras_tensor import KerasTensor
from minikeras.layers.input_layer import InputLayer


def _default_clone(layer):
    """A new layer from the old one's config: same settings and name, new weights."""
    return type(layer).from_config(layer.get_config())


def clone_model(model, input_tensors=None, clone_function=None, call_function=None,
                recursive=False, **kwargs):
    """A new Sequential model with the same layers' configs and new weights.

    As in Keras, the clone is not compiled and its weights are initialised anew (copy them
    with `clone.set_weights(model.get_weights())` if you want them).

    Args:
        model: a minikeras Sequential model.
        input_tensors: optional `Input(...)` (or a list holding one) to build the clone on.
        clone_function: callable(layer) -> new layer, applied to every layer
            (default: `type(layer).from_config(layer.get_config())`).
        call_function, recursive: Keras arguments for functional models; minikeras models are
            Sequential, so call_function must be None.
    """
    from minikeras.models.sequential import Sequential

    if kwargs:
        raise TypeError(f"clone_model() got unexpected keyword arguments: {sorted(kwargs)}")
    if not isinstance(model, Sequential):
        raise ValueError(
            "Expected `model` argument to be a `Sequential` model instance (minikeras models "
            f"are Sequential). Received: model={model!r}"
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
