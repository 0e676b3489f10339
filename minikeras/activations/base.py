"""`ActivationFunction`: an activation's forward rule and its backward rule side by side.

A built-in activation is an object you can call like Keras's function (`relu(x)`), and that
layers use through `forward(x) -> (y, cache)` and `backward(dy, cache) -> dx`.
"""


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

    def __call__(self, x, **kwargs):
        return self.forward(x, **kwargs)[0]

    def forward(self, x, **kwargs):
        """x: any shape. Returns (y, cache), y of x's shape."""
        raise NotImplementedError

    def backward(self, dy, cache):
        """dy: dL/dy, shape of y. Returns dL/dx."""
        raise NotImplementedError

    def get_config(self):
        return self.__name__

    def __repr__(self):
        return f"<activation {self.__name__}>"
