"""`Layer`: the base class every minikeras layer derives from.

A layer is three things, kept apart as in Keras:

- settings, checked and stored by `__init__`;
- weights, created by `build(input_shape)` once the input shape is known;
- maths: `forward(x, training) -> (out, cache)` and `backward(dout, cache) -> (dx, grads)`.

`forward` returns its cache instead of keeping it on `self`, so the same layer can be applied
twice in one model (a shared layer) and each call gets its own backward pass. The model that
runs the layers hands each cache back to `backward` and adds up the weight gradients.
"""

import functools
import inspect
import warnings

import numpy as np

from minikeras import activations, backend, initializers, regularizers
from minikeras.backend.eager_tensor import as_tensor
from minikeras.backend.keras_tensor import KerasTensor, Node
from minikeras.ops import tape
from minikeras.utils.naming import to_snake_case
from minikeras.variables import Variable

_LEGACY_INPUT_ARGS = ("input_shape", "input_dim", "batch_input_shape", "batch_size")


class Layer:
    """Base class of all layers.

    Args:
        name: the layer's name; by default the class name in snake case, made unique
            ("dense", "dense_1", ...).
        trainable: whether its weights are updated by `fit`.
        dtype: the float type of its weights and outputs (default `backend.floatx()`).
        activity_regularizer: a penalty on the layer's output, added to the loss.
        autocast: accepted for Keras compatibility (inputs are always cast to floatx).
        input_shape / input_dim / batch_input_shape / batch_size: Keras's legacy way to give the
            first layer of a `Sequential` its input shape (without the batch dimension).
    """

    # True for layers whose big batches run in parallel parts (kernels/parallel.py): a model
    # holding one trains with BLAS pinned to one thread (Model._all_cores).
    splits_batches = False
    # Whether the layer passes on (or computes) a mask: Keras's attribute. A layer with its own
    # compute_mask makes masks whatever this says (models/graph.py).
    supports_masking = False

    def __init__(self, name=None, trainable=True, dtype=None, activity_regularizer=None,
                 autocast=True, **kwargs):
        unknown = [key for key in kwargs if key not in _LEGACY_INPUT_ARGS]
        if unknown:
            # ValueError, not Python's usual TypeError: Keras raises ValueError here.
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: "
                f"{ {key: kwargs[key] for key in unknown} }"
            )
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name or backend.unique_name(to_snake_case(type(self).__name__))
        self.trainable = bool(trainable)
        self.dtype = backend.standardize_dtype(dtype)
        self.activity_regularizer = regularizers.get(activity_regularizer)
        self.built = False
        # Set by build() in layers whose weights fix the input's last axis (Dense: the kernel's
        # rows); __call__ checks it so a wrong width is reported, not a NumPy matmul error.
        self._expected_last_dim = None
        self._weights = []
        self._inbound_nodes = []    # one Node per call on symbolic tensors
        self._batch_input_shape = _legacy_batch_input_shape(self.name, kwargs)
        if kwargs.get("input_dim") is not None or kwargs.get("input_shape") is not None:
            # Keras's warning, word for word, so that a script's filters treat both alike;
            # stacklevel 2 points at the subclass's super().__init__ call, as in Keras.
            warnings.warn(
                "Do not pass an `input_shape`/`input_dim` argument to a layer. When using "
                "Sequential models, prefer using an `Input(shape)` object as the first layer "
                "in the model instead.",
                stacklevel=2,
            )

    # ----------------------------------------------------------------- weights

    def add_weight(self, shape, initializer="glorot_uniform", name=None, dtype=None,
                   trainable=True, regularizer=None, constraint=None):
        """Creates a weight, initialises it and registers it with the layer."""
        from minikeras.saving import build_limits

        shape = tuple(int(dim) for dim in shape)
        dtype = backend.standardize_dtype(dtype or self.dtype)
        name = name or f"variable_{len(self._weights)}"
        # While a model file is loaded, the file's size caps what its layers may allocate.
        with build_limits.allocating(self, name, shape, dtype):
            initial_value = initializers.get(initializer)(shape, dtype=dtype)
        variable = Variable(
            initial_value,
            name=name,
            trainable=trainable,
            dtype=dtype,
            regularizer=regularizer,
            constraint=constraint,
            path=f"{self.name}/{name}",
        )
        self._weights.append(variable)
        return variable

    @property
    def weights(self):
        """Trainable weights first, then non-trainable ones, as Keras orders them (for a
        layer with sublayers: its own so, then each sublayer's weights, as Keras)."""
        if not self._has_call():
            return self.trainable_weights + self.non_trainable_weights
        own = [w for w in self._weights if w.trainable] + [
            w for w in self._weights if not w.trainable]
        return own + [w for layer in self._sublayers() for w in layer.weights]

    @property
    def trainable_weights(self):
        if not self.trainable:
            return []
        own = [w for w in self._weights if w.trainable]
        if not self._has_call():
            return own
        return own + [w for layer in self._sublayers() for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        own = list(self._weights) if not self.trainable else [
            w for w in self._weights if not w.trainable]
        if not self._has_call():
            return own
        sub = [w for layer in self._sublayers() for w in
               (layer.weights if not self.trainable else layer.non_trainable_weights)]
        return own + sub

    @property
    def trainable_variables(self):
        return self.trainable_weights

    @property
    def non_trainable_variables(self):
        return self.non_trainable_weights

    def _has_call(self):
        """Whether this layer is written as a `call` (a custom layer or subclassed model)
        rather than as forward/backward maths."""
        return type(self).call is not Layer.call

    def __setattr__(self, name, value):
        # A new attribute may hold a layer: find the sublayers again next time.
        if not name.startswith("_"):
            self.__dict__.pop("_sublayer_cache", None)
        object.__setattr__(self, name, value)

    def _sublayers(self):
        """The layers set as attributes (directly, or in a list, tuple or dict), in the order
        they were set: Keras tracks these, and their weights are this layer's too. (Found
        once, then again after an attribute is set or the layer is built: a training step
        asks for them several times.)"""
        cached = self.__dict__.get("_sublayer_cache")
        if cached is not None:
            return cached
        found = []
        for name, value in vars(self).items():
            if name.startswith("_") and name != "_layers":
                continue
            values = value.values() if isinstance(value, dict) else (
                value if isinstance(value, (list, tuple)) else (value,))
            for item in values:
                if isinstance(item, Layer) and item is not self and \
                        all(item is not f for f in found):
                    found.append(item)
        self.__dict__["_sublayer_cache"] = found
        return found

    def add_loss(self, loss):
        """Adds `loss` (a scalar written with keras.ops) to the loss being minimised: inside a
        training step it joins the total and its gradient flows back through the ops that
        made it (Keras's endpoint-layer and regulariser pattern)."""
        tape.add_loss(loss)

    @property
    def variables(self):
        return self.weights

    def get_weights(self):
        """The weights as a list of NumPy arrays (copies), in `weights` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights):
        """Overwrites the weights from a list of arrays in `weights` order."""
        params = self.weights
        weights = list(weights)
        if len(params) != len(weights):
            raise ValueError(
                f"Layer {self.name!r} expects {len(params)} weight arrays, with shapes "
                f"{[p.shape for p in params]}. Received: {len(weights)} arrays"
            )
        for param, value in zip(params, weights):
            value = np.asarray(value)
            if param.shape != value.shape:
                raise ValueError(
                    f"Layer {self.name!r} weight shape {param.shape} is not compatible with "
                    f"provided weight shape {value.shape}."
                )
        for param, value in zip(params, weights):
            param.assign(value)

    def count_params(self):
        if not self.built:
            raise ValueError(
                f"Layer {self.name!r} has not been built yet, so its weights do not exist. "
                "Call it on data or build it first."
            )
        return int(sum(np.prod(w.shape, dtype=np.int64) for w in self.weights))

    @property
    def losses(self):
        """The current weight-regularization penalties of this layer, as floats."""
        return [float(w.regularizer(w.value)) for w in self.trainable_weights
                if w.regularizer is not None]

    # ---------------------------------------------------------------- building

    def build(self, input_shape):
        """Creates the weights. input_shape includes the batch dimension (may be None)."""
        self.built = True

    def compute_output_shape(self, input_shape):
        """Output shape for an input shape (batch dimension included). Default: unchanged;
        for a layer written as a call, found by running it on zeros (as Keras traces it)."""
        if self._has_call():
            return self._inferred_output_shape(input_shape)
        return tuple(input_shape)

    def compute_mask(self, inputs, previous_mask):
        """The mask of the output. Keras's default: the input's mask, unchanged (used only
        when `supports_masking` is True; other layers drop the mask)."""
        return previous_mask

    @property
    def input(self):
        """The symbolic tensor(s) this layer was first called on."""
        return self._node_attribute("input")

    @property
    def output(self):
        """The symbolic tensor(s) this layer's first call returned."""
        return self._node_attribute("output")

    def _node_attribute(self, word):
        if not self._inbound_nodes:
            raise AttributeError(
                f"The layer {self.name} has never been called and thus has no defined {word}."
            )
        node = self._inbound_nodes[0]
        if word == "input" and not node.is_input:
            tensors, as_list = node.input_tensors, node.list_input
        else:
            tensors = node.output_tensors
            as_list = len(tensors) > 1
        return list(tensors) if as_list else tensors[0]

    def _maybe_build(self, input_shape):
        if not self.built:
            if isinstance(input_shape, dict):       # several named tensor arguments
                input_shape = {name: tuple(shape) for name, shape in input_shape.items()}
            elif isinstance(input_shape, list):     # a layer called on several tensors
                input_shape = [tuple(shape) for shape in input_shape]
            else:
                input_shape = tuple(input_shape)
            self.build(input_shape)
            self.built = True
            self.__dict__.pop("_sublayer_cache", None)   # build may have added layers
            # Kept for the summary of a subclassed model, whose layers have no nodes.
            self._built_on_shape = input_shape

    def _check_input_shape(self, shape):
        """A wrong last axis is reported with Keras's message, not as a NumPy matmul error."""
        if self._expected_last_dim is not None and (
                len(shape) < 2 or shape[-1] != self._expected_last_dim):
            raise ValueError(
                f"Input 0 of layer {self.name!r} is incompatible with the layer: expected axis "
                f"-1 of input shape to have value {self._expected_last_dim}, but received "
                f"input with shape {tuple(shape)}"
            )

    # -------------------------------------------------------------------- maths

    # The contract every layer keeps, and the only way the graph executor talks to a layer:
    #
    #   forward(x, training=False[, mask=None]) -> (out, cache)
    #       x is one array, or a list of arrays for a layer called on several tensors (merge
    #       layers). A layer that uses masks declares a `mask` parameter and receives the mask
    #       of its input (None when there is none).
    #   backward(dout, cache, from_logits=False, need_input_gradient=True) -> (dx, grads)
    #       dx: dL/dx, shaped like x (a list for a list input); None is allowed when
    #       need_input_gradient is False (nothing upstream uses it).
    #       grads: one array per weight in `self.trainable_weights`, in that order. A frozen
    #       layer (trainable=False) therefore returns [] and may skip that work.
    #       from_logits: True only for a layer whose output_logits() was used by the loss;
    #       dout is then dL/d(logits).

    def forward(self, x, training=False, mask=None):
        """Computes the output. Returns (out, cache); the cache is what backward needs.

        A layer written as `call(inputs, training=None, mask=None)` with keras.ops (a custom
        layer) gets both from the tape: its call runs on tracked values, and backward walks
        the ops it recorded (ops/tape.py). `mask` (the input's mask) reaches a call that
        takes one."""
        if not self._has_call():
            raise NotImplementedError(
                f"{type(self).__name__} does not implement forward() or call().")
        record = bool(training) or tape.active_trace() is not None
        return tape.trace_call(self._bound_call(training, mask), x, record)

    def backward(self, dout, cache, from_logits=False, need_input_gradient=True):
        """dout: dL/d(out). Returns (dL/dx, grads), grads aligned with trainable_weights."""
        if not self._has_call():
            raise NotImplementedError(
                f"{type(self).__name__} does not implement backward() or call().")
        return tape.backprop_call(lambda: self._bound_call(True), cache, dout,
                                  self.trainable_weights, need_input_gradient)

    def call(self, inputs, *args, **kwargs):
        """The layer's computation written with keras.ops (subclasses override it)."""
        raise NotImplementedError(f"{type(self).__name__} does not implement call().")

    def _bound_call(self, training, mask=None):
        """call as a function of the inputs alone, given `training` if it takes it."""
        options = {}
        if _call_accepts(type(self).call, "training"):
            options["training"] = training
        if mask is not None and _call_accepts(type(self).call, "mask"):
            options["mask"] = mask
        return lambda inputs: self.call(inputs, **options)

    def output_logits(self, cache):
        """The pre-activation of a sigmoid/softmax output, else None (see ActivationMixin)."""
        return None

    # A layer whose call takes more than one tensor argument names the ones after the first
    # (MultiHeadAttention: "value", "key", "attention_mask"), and its other call keywords
    # (return_attention_scores, use_causal_mask). `mha(q, v, attention_mask=m)` then runs
    # forward([q, v, m], tensor_names=("query", "value", "attention_mask")), and a symbolic
    # call records the same in its Node; see _split_call.
    call_tensor_arguments = ()
    call_options = ()

    def __call__(self, x, *args, training=None, **kwargs):
        """On symbolic tensors (`Input(...)` or another layer's output): records the call and
        returns symbolic output(s), see _call_symbolic. Inside a training step or a
        GradientTape block: runs forward and records the call on the tape (its backward is
        the layer's). On arrays: computes the output. Extra tensor arguments and call
        keywords of layers that declare them go through _call_with_arguments."""
        symbolic = isinstance(x, KerasTensor) or (
            isinstance(x, (list, tuple)) and any(isinstance(t, KerasTensor) for t in x))
        if args or (kwargs and (symbolic or self.call_tensor_arguments or self.call_options)):
            # (on symbolic tensors this also refuses keywords the layer does not take)
            out = self._call_with_arguments(x, args, kwargs, bool(training))
            return out if symbolic else as_tensor(out)
        if symbolic:
            return self._call_symbolic(x)
        training = bool(training)
        if tape.active_trace() is not None or tape.any_tracked(x):
            self._maybe_build_from_values(x)
            return tape.record_layer(self, x, training, kwargs)
        if isinstance(x, (list, tuple)):     # a layer taking several arrays (merge layers)
            x = [self._as_input_array(a) for a in x]
            self._maybe_build([a.shape for a in x])
        else:
            x = self._as_input_array(x)
            self._maybe_build(x.shape)
            self._check_input_shape(x.shape)
        if kwargs:
            out = self.forward(x, training=training, **kwargs)[0]
        else:
            out = self.forward(x, training=training)[0]
        return as_tensor(out)       # `.numpy()` on the result, as on TensorFlow

    def _maybe_build_from_values(self, x):
        if isinstance(x, (list, tuple)):
            self._maybe_build([tuple(np.shape(tape.unwrap(a))) for a in x])
        else:
            self._maybe_build(tuple(np.shape(tape.unwrap(x))))

    def _call_with_arguments(self, x, args, kwargs, training):
        """A call with more than x: extra tensor arguments and/or call keywords."""
        inputs, names, positional, options, mask = self._split_call(x, args, kwargs)
        flat = inputs if isinstance(inputs, list) else [inputs]
        if any(isinstance(t, KerasTensor) for t in flat):
            if mask is not None:
                raise ValueError(
                    f"Layer {self.name!r}: in a call on symbolic tensors the masks come from "
                    f"the tensors themselves. Received: mask={mask!r}"
                )
            return self._call_symbolic(inputs, tensor_names=names, positional=positional,
                                       call_kwargs=options)
        if isinstance(inputs, list):
            inputs = [self._as_input_array(a) for a in inputs]
            shapes = [a.shape for a in inputs]
            self._maybe_build(dict(zip(names, shapes)) if names else shapes)
        else:
            inputs = self._as_input_array(inputs)
            self._maybe_build(inputs.shape)
            self._check_input_shape(inputs.shape)
        if names is not None:
            options = {**options, "tensor_names": names}
        if mask is not None:
            options["mask"] = mask
        return self.forward(inputs, training=training, **options)[0]

    def _split_call(self, x, args, kwargs):
        """Sorts a call's arguments. Returns (inputs, tensor_names, positional, options,
        mask): inputs is x alone, or [x, extra tensors...] named by tensor_names (None when
        there are no extra tensors); positional counts the tensors given by position."""
        names = self.call_tensor_arguments
        kwargs = dict(kwargs)
        if len(args) > len(names):
            raise TypeError(
                f"Layer {self.name!r} takes at most {len(names) + 1} positional tensor "
                f"arguments. Received: {len(args) + 1}"
            )
        given = dict(zip(names, args))
        for name in names[len(args):]:
            if name in kwargs:
                given[name] = kwargs.pop(name)
        mask = kwargs.pop("mask", None)
        unknown = [key for key in kwargs if key not in self.call_options]
        if unknown:
            raise ValueError(
                f"Layer {self.name!r} got unsupported call arguments: {unknown}. "
                f"Expected some of {list(names) + list(self.call_options) + ['mask']}."
            )
        for key, value in kwargs.items():
            if isinstance(value, KerasTensor):
                raise ValueError(
                    f"Layer {self.name!r}: the call argument `{key}` must not be a symbolic "
                    f"tensor. Received: {key}={value!r}"
                )
        present = [name for name in names if given.get(name) is not None]
        if not present:
            return x, None, 1, kwargs, mask
        if isinstance(x, (list, tuple)):
            raise ValueError(
                f"Layer {self.name!r} takes one tensor as its first argument when "
                f"{present} are given. Received a list of {len(x)}"
            )
        positional = 1 + sum(1 for name in present if name in names[:len(args)])
        first = getattr(self, "first_call_argument", "inputs")
        return ([x] + [given[name] for name in present], (first, *present), positional,
                kwargs, mask)

    def _as_input_array(self, x):
        x = np.asarray(x)
        if np.issubdtype(x.dtype, np.number) and not np.issubdtype(x.dtype, np.floating):
            x = x.astype(self.dtype)
        return x

    def _call_symbolic(self, inputs, tensor_names=None, positional=1, call_kwargs=None):
        """Builds the layer from the input shapes, infers the output shape and records the
        call as a Node. inputs: a KerasTensor or a list of them (named by tensor_names when
        the call had several tensor arguments). Returns KerasTensor(s)."""
        list_input = isinstance(inputs, (list, tuple))
        tensors = list(inputs) if list_input else [inputs]
        for tensor in tensors:
            if not isinstance(tensor, KerasTensor):
                raise ValueError(
                    f"Layer {self.name!r} was called on a mix of symbolic tensors and other "
                    f"values. Expected only KerasTensors. Received: {tensor!r}"
                )
        shape = [t.shape for t in tensors] if list_input else tensors[0].shape
        options = dict(call_kwargs or {})
        if tensor_names is not None:
            self._maybe_build(dict(zip(tensor_names, shape)))
            options["tensor_names"] = tuple(tensor_names)
        else:
            self._maybe_build(shape)
        if not list_input:
            self._check_input_shape(shape)
        if options:
            output_shape = self.compute_output_shape_for_call(shape, **options)
        else:
            output_shape = self._symbolic_output_shape(shape, tensors, list_input)
        if isinstance(output_shape, list):      # several outputs (a model with several)
            outputs = [KerasTensor(s, self._output_dtype(i)) for i, s in enumerate(output_shape)]
        else:
            outputs = [KerasTensor(output_shape, self._output_dtype(0))]
        Node(self, tensors, outputs, list_input=list_input, tensor_names=tensor_names,
             positional=positional, call_kwargs=call_kwargs)
        return outputs if isinstance(output_shape, list) else outputs[0]

    def compute_output_shape_for_call(self, input_shape, **options):
        """The output shape(s) of a call with keywords (tensor_names, return_attention_scores,
        ...); layers taking such keywords override it."""
        return self.compute_output_shape(input_shape)

    def _output_dtype(self, index):
        return self.dtype

    def _symbolic_output_shape(self, shape, tensors, list_input):
        """The output shape(s) of a call on symbolic tensors of these shapes."""
        return self.compute_output_shape(shape)

    def _inferred_output_shape(self, input_shape):
        """The output shape(s) found by running the call on zeros (unknown sizes taken as 1,
        reported as None on the batch axis)."""
        list_input = isinstance(input_shape, list)
        shapes = input_shape if list_input else [input_shape]
        self._maybe_build([tuple(s) for s in shapes] if list_input else tuple(input_shape))
        zeros = [np.zeros(tuple(1 if d is None else d for d in shape), dtype=self.dtype)
                 for shape in shapes]
        out = self.forward(zeros if list_input else zeros[0], training=False)[0]
        unknown_batch = bool(shapes[0]) and shapes[0][0] is None

        def symbolic(value):
            value_shape = tuple(np.shape(value))
            if value_shape and unknown_batch:
                value_shape = (None,) + value_shape[1:]
            return value_shape

        if isinstance(out, (list, tuple)):
            return [symbolic(o) for o in out]
        return symbolic(out)

    # ------------------------------------------------------------ configuration

    def get_config(self):
        config = {"name": self.name, "trainable": self.trainable, "dtype": self.dtype}
        if self._batch_input_shape is not None:
            config["batch_input_shape"] = self._batch_input_shape
        if self.activity_regularizer is not None:
            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


class ActivationMixin:
    """For layers ending in an activation (Dense, Conv2D, Activation).

    When that activation is sigmoid or softmax, a cross-entropy loss right after it is computed
    from the logits, as Keras on TensorFlow does: `output_logits(cache)` hands the logits to
    the model, and `backward(..., from_logits=True)` then receives dL/d(logits) directly.
    """

    def _activate(self, z):
        """z: pre-activation. Returns (a, act_cache)."""
        a, act_cache = self.activation.forward(z)
        return a, (z, act_cache)

    def _activation_backward(self, da, act_cache, from_logits=False):
        """dL/da -> dL/dz (or passes dL/dz through when from_logits is True)."""
        if from_logits:
            return da
        return self.activation.backward(da, act_cache[1])

    def _logits_from(self, act_cache):
        if self.activation.outputs_probabilities:
            return act_cache[0]
        return None


@functools.cache
def _call_accepts(function, parameter):
    """Whether a layer's call takes `parameter` (or **kwargs); asked once per class."""
    parameters = inspect.signature(function).parameters
    return parameter in parameters or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())


def _legacy_batch_input_shape(layer_name, kwargs):
    """Keras's legacy input-shape arguments -> a batch input shape tuple, or None."""
    if "batch_input_shape" in kwargs and kwargs["batch_input_shape"] is not None:
        return tuple(kwargs["batch_input_shape"])
    shape = None
    if kwargs.get("input_shape") is not None:
        shape = kwargs["input_shape"]
        if isinstance(shape, int):
            shape = (shape,)
        shape = tuple(shape)
    elif kwargs.get("input_dim") is not None:
        input_dim = kwargs["input_dim"]
        if not isinstance(input_dim, (int, np.integer)) or input_dim <= 0:
            raise ValueError(
                f"`input_dim` must be a positive integer. Received: input_dim={input_dim!r} "
                f"(layer {layer_name!r})"
            )
        shape = (int(input_dim),)
    if shape is None:
        return None
    for dim in shape:
        if dim is not None and (not isinstance(dim, (int, np.integer)) or dim <= 0):
            raise ValueError(
                f"Input shape dimensions must be positive integers or None. "
                f"Received: input_shape={shape} (layer {layer_name!r})"
            )
    return (kwargs.get("batch_size"),) + shape


def activation_of(identifier):
    """Shared by activation-bearing layers: resolves and checks the `activation` argument."""
    return activations.get(identifier)


def maybe_serialize(serialize, obj):
    """For get_config: `serialize(obj)`, or None when the optional object is unset."""
    return None if obj is None else serialize(obj)
