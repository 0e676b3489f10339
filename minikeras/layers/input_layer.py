"""`Input` and `InputLayer`: declare the shape and dtype of a model's input.

`Input(...)` returns the symbolic tensor (backend/keras_tensor.py) that layers are called on
to build a functional model.
"""

import numpy as np

from minikeras.backend.keras_tensor import KerasTensor, Node
from minikeras.layers.layer import Layer


class InputLayer(Layer):
    """Holds a model's input shape; passes data through unchanged.

    Args:
        shape: input shape without the batch axis, e.g. (2,) or (28, 28, 1).
        batch_size: optional fixed batch size.
    """

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, ragged=None,
                 batch_shape=None, input_tensor=None, optional=False, name=None, **kwargs):
        _only_defaults(sparse=sparse, ragged=ragged, input_tensor=input_tensor,
                       optional=optional)
        if "input_shape" in kwargs and shape is None:
            shape = kwargs.pop("input_shape")
        super().__init__(name=name, dtype=dtype, **kwargs)
        if batch_shape is not None:
            batch_shape = tuple(batch_shape)
        else:
            if shape is None:
                raise ValueError("You must pass a `shape` argument to Input.")
            if isinstance(shape, (int, np.integer)):
                shape = (int(shape),)
            try:
                shape = tuple(shape)
            except TypeError:
                raise ValueError(f"`shape` must be a tuple. Received: shape={shape!r}") from None
            batch_shape = (batch_size,) + shape
        for dim in batch_shape[1:]:
            if dim is not None and (not isinstance(dim, (int, np.integer)) or dim <= 0):
                raise ValueError(
                    "Input shape dimensions must be positive integers or None. "
                    f"Received: shape={batch_shape[1:]}"
                )
        self.batch_shape = tuple(None if d is None else int(d) for d in batch_shape)
        self.built = True
        # The symbolic tensor this layer stands for; its node has no inputs (Keras's too).
        Node(self, [], [KerasTensor(self.batch_shape, self.dtype, name=self.name)])

    @property
    def shape(self):
        return self.batch_shape

    def forward(self, x, training=False):
        return x, None

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        return dout, []

    def get_config(self):
        return {"batch_shape": self.batch_shape, "dtype": self.dtype, "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, sparse=None, ragged=None, batch_shape=None,
          name=None, tensor=None, optional=False):
    """A symbolic input of the given shape (without the batch axis).

    sparse, ragged, tensor and optional are Keras's; minikeras supports only their defaults.
    """
    _only_defaults(sparse=sparse, ragged=ragged, tensor=tensor, optional=optional)
    layer = InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, batch_shape=batch_shape,
                       name=name)
    return layer.output


def _only_defaults(**arguments):
    """Keras's sparse/ragged/optional inputs have no minikeras counterpart: refuse them."""
    for arg_name, value in arguments.items():
        if value:
            raise ValueError(
                f"minikeras inputs are dense NumPy arrays: `{arg_name}` is not supported. "
                f"Received: {arg_name}={value!r}"
            )
