"""`Dense`: out = activation(x @ kernel + bias)."""


from minikeras import constraints, initializers, regularizers
from minikeras.kernels import parallel
from minikeras.layers.layer import ActivationMixin, Layer, activation_of, maybe_serialize
from minikeras.utils.argument_validation import positive_int


class Dense(ActivationMixin, Layer):
    """A fully connected layer.

    Args:
        units: output width.
        activation: name or minikeras activation; None means linear.
        use_bias: whether to add a bias vector.
        kernel_initializer, bias_initializer, kernel_regularizer, bias_regularizer,
        activity_regularizer, kernel_constraint, bias_constraint: as in Keras.
        lora_rank, lora_alpha, quantization_config: accepted for Keras compatibility; they
            must be None.

    Shapes: x (batch, ..., in) -> out (batch, ..., units). Weights: kernel (in, units),
    bias (units,). Inputs of rank > 2 are multiplied along their last axis, as Keras does.
    """

    supports_masking = True     # passes its input's mask on, as in Keras

    def __init__(self, units, activation=None, use_bias=True,
                 kernel_initializer="glorot_uniform", bias_initializer="zeros",
                 kernel_regularizer=None, bias_regularizer=None, activity_regularizer=None,
                 kernel_constraint=None, bias_constraint=None, lora_rank=None, lora_alpha=None,
                 quantization_config=None, **kwargs):
        super().__init__(activity_regularizer=activity_regularizer, **kwargs)
        for arg_name, value in (("lora_rank", lora_rank), ("lora_alpha", lora_alpha),
                                ("quantization_config", quantization_config)):
            if value is not None:
                raise ValueError(
                    f"`{arg_name}` must be None. Received: {arg_name}={value!r}, which "
                    "minikeras's Dense does not support (it has no LoRA or quantization)."
                )
        self.units = positive_int("units", units, owner=f"layer {self.name!r}")
        self.activation = activation_of(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = initializers.get(kernel_initializer)
        self.bias_initializer = initializers.get(bias_initializer)
        self.kernel_regularizer = regularizers.get(kernel_regularizer)
        self.bias_regularizer = regularizers.get(bias_regularizer)
        self.kernel_constraint = constraints.get(kernel_constraint)
        self.bias_constraint = constraints.get(bias_constraint)

    def build(self, input_shape):
        input_dim = input_shape[-1]
        if input_dim is None:
            raise ValueError(
                f"The last dimension of the input to layer {self.name!r} must be known. "
                f"Received: input_shape={tuple(input_shape)}"
            )
        self._expected_last_dim = int(input_dim)
        self.kernel = self.add_weight(
            (input_dim, self.units), self.kernel_initializer, name="kernel",
            regularizer=self.kernel_regularizer, constraint=self.kernel_constraint,
        )
        self.bias = None
        if self.use_bias:
            self.bias = self.add_weight(
                (self.units,), self.bias_initializer, name="bias",
                regularizer=self.bias_regularizer, constraint=self.bias_constraint,
            )
        self.built = True

    def compute_output_shape(self, input_shape):
        # The activation keeps the shape, except glu, which halves the last axis.
        return self.activation.compute_output_shape(tuple(input_shape[:-1]) + (self.units,))

    def forward(self, x, training=False):
        """x: (batch, ..., in). Returns (a, cache), a: (batch, ..., units)."""
        if x.dtype.kind in "biu":
            x = x.astype(self.dtype)    # integers (a lookup's one-hot) times float32 -> float32
        z = parallel.matmul(x, self.kernel.value)   # (batch, ..., units); big ones in parts
        if self.use_bias:
            z += self.bias.value
        a, act_cache = self._activate(z)
        return a, (x, act_cache)

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        """da: dL/da (batch, ..., units). Returns (dx, [dkernel, dbias]).

        need_input_gradient=False (the model's first layer: nothing uses dL/dx) returns
        dx=None and skips its product. A frozen layer returns no weight gradients ([]).
        """
        x, act_cache = cache
        dz = self._activation_backward(da, act_cache, from_logits)
        dx = None
        if need_input_gradient:
            dx = parallel.matmul(dz, self.kernel.value.T)        # (batch, ..., in)
        if not self.trainable:
            return dx, []                            # frozen: no weight gradients
        x2 = x.reshape(-1, x.shape[-1])             # (N, in): N = batch x inner positions
        dz2 = dz.reshape(-1, self.units)             # (N, units)
        dkernel = parallel.matmul_transposed_a(x2, dz2)               # (in, units) = x2.T @ dz2
        grads = [dkernel]
        if self.use_bias:
            grads.append(dz2.sum(axis=0))            # (units,)
        return dx, grads

    def output_logits(self, cache):
        return self._logits_from(cache[1])

    def get_config(self):
        config = super().get_config()
        config.update({
            "units": self.units,
            "activation": self.activation.__name__,
            "use_bias": self.use_bias,
            "kernel_initializer": initializers.serialize(self.kernel_initializer),
            "bias_initializer": initializers.serialize(self.bias_initializer),
            "kernel_regularizer": maybe_serialize(regularizers.serialize, self.kernel_regularizer),
            "bias_regularizer": maybe_serialize(regularizers.serialize, self.bias_regularizer),
            "kernel_constraint": maybe_serialize(constraints.serialize, self.kernel_constraint),
            "bias_constraint": maybe_serialize(constraints.serialize, self.bias_constraint),
        })
        return config
