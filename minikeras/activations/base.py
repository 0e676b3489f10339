"""`ActivationFunction`: an activation's forward rule and its backward rule side by side.

A built-in activation is an object you can call like Keras's function (`relu(x)`), and that
layers use through `forward(x) -> (y, cache)` and `backward(dy, cache) -> dx`.
"""

import numpy as np

from minikeras import backend


class ActivationFunction:
    """Base class of the built-in activations.

    Subclasses set `__name__` and implement `forward` and `backward`. Extra keyword arguments
    (such as relu's `max_value`) are passed to `forward` when the function is called directly;
    a layer uses the defaults.
    """

    __name__ = "activation"
    # True for sigmoid and softmax: a cross-entropy loss after them is computed from the
    # logits (their input), as Keras's TensorFlow backend does, for numerical stability.
    outputs_probabilities = False

    def __call__(self, x, *args, **kwargs):
        """Keras's functional form: `relu(x, max_value=6.0)` -> y, of x's shape."""
        return self.forward(as_float_array(x), *args, **kwargs)[0]

    def forward(self, x, **kwargs):
        """x: any shape. Returns (y, cache), y of x's shape."""
        raise NotImplementedError

    def backward(self, dy, cache):
        """dy: dL/dy, shape of y. Returns dL/dx, shape of x."""
        raise NotImplementedError

    def compute_output_shape(self, input_shape):
        """The output shape for an input shape. Every activation keeps it except glu."""
        return tuple(input_shape)

    def get_config(self):
        return self.__name__

    def __repr__(self):
        return f"<activation {self.__name__}>"


def as_float_array(x):
    """x as a NumPy float array: integer and boolean inputs become floatx, as in Keras."""
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx())
    return x
