"""`Lambda`: a layer wrapping any function written with keras.ops.

    layers.Lambda(lambda x: ops.concatenate([x, ops.square(x)], axis=-1))

The function is the layer's `call`, so its gradient comes from the tape (ops/tape.py).
A file never gives back a Lambda's code: Keras refuses it unless `safe_mode=False`, and
minikeras, which never runs code from a file, refuses it always, unless the function is
registered by name (`register_keras_serializable`).
"""

from minikeras.layers.layer import Layer


class Lambda(Layer):
    """Args:
        function: fn(inputs, **arguments) -> outputs, written with keras.ops.
        output_shape: accepted for Keras compatibility (the shape is found by running fn).
        mask: accepted for Keras compatibility.
        arguments: dict of keyword arguments passed to fn.
    """

    def __init__(self, function, output_shape=None, mask=None, arguments=None, **kwargs):
        if not callable(function):
            raise ValueError(f"`function` must be callable. Received: function={function!r}")
        super().__init__(**kwargs)
        self.function = function
        self.output_shape = output_shape
        self.mask = mask
        self.arguments = dict(arguments or {})

    def call(self, inputs, training=None):
        return self.function(inputs, **self.arguments)

    def get_config(self):
        config = super().get_config()
        config.update({"function": getattr(self.function, "__name__", "<lambda>"),
                       "output_shape": self.output_shape, "arguments": self.arguments})
        return config

    @classmethod
    def from_config(cls, config):
        from minikeras.saving import object_registration

        name = config.get("function")
        function = object_registration.get_registered_object(name) if isinstance(
            name, str) else None
        if function is None:
            raise ValueError(
                "Requested the deserialization of a Lambda layer whose `function` is Python "
                "code. minikeras never runs code from a file (Keras allows it only with "
                "safe_mode=False): register the function with "
                "keras.saving.register_keras_serializable and save again, or rebuild the "
                f"layer in code. Received: function={name!r}"
            )
        config = dict(config)
        config["function"] = function
        return cls(**config)
