"""The tape: reverse-mode automatic differentiation over `keras.ops`, micrograd's idea on arrays.

Built-in layers carry hand-written backward passes. What users compose from `keras.ops` (a
custom layer's `call`, a subclassed model, a loss function, a `train_step`) gets its gradient
here instead.

A value that gradients flow through is a `Tracked`: an array, the values it was computed from
(`parents`) and that step's vector-Jacobian product (`vjp`: dL/d(out) -> dL/d(each parent)).
Every op in minikeras/ops/ states its vjp right beside its forward maths. Running a function on
tracked values therefore records its graph as it goes; `gradients` walks it backwards:

    order the nodes so that every node comes after its parents: the order they were made
        in, which a trace records (its `nodes`, the tape proper), or else a depth-first walk;
    seed dL/d(output) = dout;
    for each node, last to first:  dL/d(parent) += vjp(dL/d(node))     (the chain rule)

The `+=` is the one visible place where fan-out (a value used twice) sums its gradients.

A `Trace` is active while a differentiable computation runs (a training step, or a
`GradientTape` block). Inside it, a weight (`Variable`) read by an op becomes a leaf of the
graph, one per variable, so its gradient can be asked for; a layer called inside it is
recorded as one node whose vjp is the layer's own `backward`. Outside any trace, ops on NumPy
arrays compute their forward maths only and return NumPy arrays.
"""

import numpy as np

_TRACES = []        # the active traces, innermost last
_COLLECTORS = []    # where add_loss puts its losses: the active traces and untraced calls


class Tracked:
    """An array on the tape.

    Attributes:
        value: the NumPy array (or a list of arrays for a layer with several outputs).
        parents: a list of the Tracked values it was computed from (empty for a leaf), one
            per gradient that vjp gives (None for an op argument that is not tracked).
        vjp: function dL/d(value) -> list of dL/d(parent), one per parent (None entries allowed
            where a parent gets no gradient); None for a leaf.
    """

    __slots__ = ("value", "parents", "vjp")
    __array_priority__ = 100        # numpy_array + tracked -> Tracked.__radd__, not NumPy's

    def __init__(self, value, parents=(), vjp=None):
        self.value = value
        self.parents = parents
        self.vjp = vjp
        if parents and _TRACES:
            # Recorded on the active trace's tape, after every node it was computed from.
            _TRACES[-1].nodes.append(self)

    # NumPy-like attributes, so code written for arrays reads the same on tracked values.
    shape = property(lambda self: self.value.shape)
    ndim = property(lambda self: self.value.ndim)
    dtype = property(lambda self: self.value.dtype)
    size = property(lambda self: self.value.size)

    def __len__(self):
        return len(self.value)

    def __array__(self, dtype=None, copy=None):
        # Leaving the tape: NumPy functions see the plain array (no gradient flows through).
        return self.value if dtype is None else self.value.astype(dtype)

    def numpy(self):
        return np.array(self.value)

    def __float__(self):
        return float(self.value)

    def __repr__(self):
        return f"<Tracked shape={self.shape}, dtype={self.dtype}>"

    # Python operators -> keras.ops, so `x * w + b` records the same nodes as ops.add(...).
    def __add__(self, other): return _ops().add(self, other)
    def __radd__(self, other): return _ops().add(other, self)
    def __sub__(self, other): return _ops().subtract(self, other)
    def __rsub__(self, other): return _ops().subtract(other, self)
    def __mul__(self, other): return _ops().multiply(self, other)
    def __rmul__(self, other): return _ops().multiply(other, self)
    def __truediv__(self, other): return _ops().divide(self, other)
    def __rtruediv__(self, other): return _ops().divide(other, self)
    def __matmul__(self, other): return _ops().matmul(self, other)
    def __rmatmul__(self, other): return _ops().matmul(other, self)
    def __pow__(self, other): return _ops().power(self, other)
    def __rpow__(self, other): return _ops().power(other, self)
    def __neg__(self): return _ops().negative(self)
    def __abs__(self): return _ops().abs(self)
    def __getitem__(self, key): return _ops().get_item(self, key)
    def __lt__(self, other): return _ops().less(self, other)
    def __le__(self, other): return _ops().less_equal(self, other)
    def __gt__(self, other): return _ops().greater(self, other)
    def __ge__(self, other): return _ops().greater_equal(self, other)

    @property
    def T(self):
        return _ops().transpose(self)


_ops_module = None


def _ops():
    """keras.ops, imported on first use (it imports this module) and then kept."""
    global _ops_module
    if _ops_module is None:
        from minikeras import ops

        _ops_module = ops
    return _ops_module


# ------------------------------------------------------------------ traces


class LossCollector:
    """While active, `add_loss(value)` calls append their value to `losses` (a call run
    without the tape, for evaluation, still reports the losses it adds)."""

    def __init__(self):
        self.losses = []

    def __enter__(self):
        _COLLECTORS.append(self)
        return self

    def __exit__(self, *exc):
        _COLLECTORS.remove(self)
        return False


def add_loss(value):
    """Layer.add_loss: the value joins the innermost collector (ignored outside any call)."""
    if _COLLECTORS:
        _COLLECTORS[-1].losses.append(value)


class Trace(LossCollector):
    """While active (a `with` block), ops record their nodes and each Variable read becomes a
    leaf Tracked value (the same leaf every time it is read, so its uses add up)."""

    def __init__(self):
        super().__init__()
        self.leaves = {}        # id(variable) -> leaf Tracked
        self.nodes = []         # the tape: every node made inside, in the order made

    def leaf(self, variable):
        """The leaf standing for `variable` in this trace."""
        leaf = self.leaves.get(id(variable))
        if leaf is None:
            leaf = Tracked(variable.value)
            self.leaves[id(variable)] = leaf
        return leaf

    def __enter__(self):
        _TRACES.append(self)
        _COLLECTORS.append(self)
        return self

    def __exit__(self, *exc):
        _TRACES.remove(self)
        _COLLECTORS.remove(self)
        return False


def active_trace():
    """The innermost active trace, or None (plain NumPy forward computation)."""
    return _TRACES[-1] if _TRACES else None


class GradientTape(Trace):
    """A block whose computation can be differentiated, for `train_step` overrides:

        with GradientTape() as tape:
            y_pred = self(x, training=True)
            loss = self.compute_loss(y=y, y_pred=y_pred)
        grads = tape.gradient(loss, self.trainable_weights)

    Every Variable read inside the block is watched (TensorFlow watches trainable variables
    the same way), so no `watch` call is needed; `watch` is accepted for TensorFlow's spelling.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        # TensorFlow's arguments, accepted so its spelling can map here: this tape can always
        # be asked for gradients more than once, and it always watches what is read.
        super().__init__()

    def watch(self, value):
        return value

    def gradient(self, target, sources, output_gradients=None):
        """d(target)/d(each source): one array (or None where the target does not depend on
        it) per source. sources: Variables or Tracked values, one or a list."""
        single = not isinstance(sources, (list, tuple))
        source_list = [sources] if single else list(sources)
        leaves = [self.leaves.get(id(s)) if not isinstance(s, Tracked) else s
                  for s in source_list]
        grads = gradients([(target, output_gradients)], leaves, tape=self.nodes)
        return grads[0] if single else grads


def lift(x):
    """x as a Tracked value when it is one or is a Variable read inside a trace; else None."""
    if type(x) is Tracked:
        return x
    trace = active_trace()
    if trace is not None and hasattr(x, "_is_variable"):
        return trace.leaf(x)
    return None


def unwrap(x):
    """The plain array behind a Tracked value or a Variable (lists unwrapped item by item)."""
    if type(x) is Tracked:
        return x.value
    if hasattr(x, "_is_variable"):
        return x.value
    if isinstance(x, (list, tuple)):
        return type(x)(unwrap(item) for item in x)
    return x


# ------------------------------------------------------------------ recording ops


def primitive(forward):
    """Turns `forward(*args, **kwargs) -> (out, vjp)` into an op.

    forward receives plain arrays; vjp(dout) returns one gradient per positional argument
    (a list of gradients for an argument that is a list of arrays, None where there is none).
    When no argument is tracked, the op is NumPy's forward maths alone and returns an array.
    """

    def op(*args, **kwargs):
        plain = list(args)              # the arguments as forward takes them: plain arrays
        parents = [None] * len(args)    # the Tracked value of each argument (None: untracked),
                                        # lined up with the gradients vjp returns
        has_list = False
        for position, arg in enumerate(args):
            kind = type(arg)
            if kind is Tracked:
                parents[position] = arg
                plain[position] = arg.value
            elif kind is np.ndarray or kind is float or kind is int:
                continue                                    # the common untracked case
            elif getattr(kind, "_is_variable", False):     # a weight: inside a trace, a leaf
                plain[position] = arg.value
                if _TRACES:
                    parents[position] = _TRACES[-1].leaf(arg)
            elif kind is list or kind is tuple:             # concatenate, stack, einsum...
                parents[position], plain[position] = _lift_list(arg)
                has_list = has_list or parents[position] is not None
        out, vjp = forward(*plain, **kwargs)
        if type(out) is not np.ndarray and isinstance(out, np.generic):
            out = np.asarray(out)           # NumPy reductions give scalars; ops give arrays
        if vjp is None or parents.count(None) == len(parents):
            return out                      # nothing tracked: no node
        if has_list:
            parents, vjp = _one_parent_per_array(parents, vjp)
        return Tracked(out, parents, vjp)

    op.__name__ = forward.__name__
    op.__qualname__ = forward.__qualname__
    op.__doc__ = forward.__doc__
    op.__wrapped__ = forward
    return op


def _lift_list(items):
    """A list argument of an op: (one Tracked-or-None per item, or None when no item is
    tracked; the items as plain arrays)."""
    if not any(type(item) is Tracked or hasattr(item, "_is_variable") for item in items):
        return None, items                      # a shape, or a list of plain arrays
    parents = [lift(item) for item in items]
    if parents.count(None) == len(parents):
        parents = None                          # Variables read outside any trace
    return parents, unwrap(items)


def _one_parent_per_array(parents, vjp):
    """For an op given a list of arrays (concatenate, stack): the parents with each list
    spread out item by item, and a vjp whose gradients line up with them."""
    flat = []
    for parent in parents:
        flat.extend(parent if type(parent) is list else [parent])

    def flat_vjp(dout):
        grads = []
        for parent, grad in zip(parents, vjp(dout)):
            if type(parent) is list:
                grads.extend([None] * len(parent) if grad is None else grad)
            else:
                grads.append(grad)
        return grads

    return flat, flat_vjp


def record_layer(layer, inputs, training, call_kwargs):
    """One call of a layer inside a trace, as one node whose vjp is the layer's backward.

    The node's parents are its tracked inputs and the leaves of the layer's trainable weights;
    `layer.backward(dout, cache)` gives dL/d(input) and dL/d(weights) (layer contract).
    A layer with several outputs gives a list of Tracked values.
    """
    trace = active_trace()
    list_input = isinstance(inputs, (list, tuple))
    items = list(inputs) if list_input else [inputs]
    x_parents = [lift(item) for item in items]
    x = [unwrap(item) for item in items]
    x = x if list_input else x[0]
    if call_kwargs:
        out, cache = layer.forward(x, training=training, **call_kwargs)
    else:
        out, cache = layer.forward(x, training=training)
    weights = layer.trainable_weights
    parents = [p for p in x_parents if p is not None] + [trace.leaf(w) for w in weights]
    if not parents:
        return out

    def vjp(dout):
        if isinstance(dout, list):
            dout = [np.zeros_like(o) if d is None else d for d, o in zip(dout, out)]
        dx, weight_grads = layer.backward(dout, cache)
        dxs = dx if list_input else [dx]
        return [d for d, p in zip(dxs, x_parents) if p is not None] + list(weight_grads)

    node = Tracked(out, parents, vjp)
    if isinstance(out, (list, tuple)):
        return [_pick(node, i) for i in range(len(out))]
    return node


def _pick(node, index):
    """Output `index` of a node holding several outputs."""
    count = len(node.value)

    def vjp(dout):
        grads = [None] * count
        grads[index] = dout
        return [grads]

    return Tracked(node.value[index], [node], vjp)


# ------------------------------------------------------------------ backward


def gradients(seeds, sources, tape=None):
    """Backpropagation from `seeds` to `sources`.

    Args:
        seeds: list of (tracked value, dL/d(value)) pairs; a None gradient means ones (the
            value is a scalar loss). Values that are not Tracked contribute nothing.
        sources: Tracked values (None entries allowed).
        tape: the nodes of the trace the seeds were computed in, in the order they were
            made (a trace's `nodes`); without it, the order is found by walking the graph.

    Returns:
        one array per source: dL/d(source), or None when the seeds do not depend on it.
    """
    roots = []
    grads = {}
    for value, grad in seeds:
        if type(value) is not Tracked:
            continue
        if grad is None:
            grad = np.ones_like(value.value)
        roots.append(value)
        _accumulate(grads, value, unwrap(grad))
    for node in reversed(tape if tape is not None else _topological_order(roots)):
        dout = grads.get(id(node))
        if dout is None or node.vjp is None:
            continue
        for parent, grad in zip(node.parents, node.vjp(dout)):
            if parent is not None and grad is not None:
                _accumulate(grads, parent, grad)
    return [None if s is None else grads.get(id(s)) for s in sources]


def _accumulate(grads, node, grad):
    """grads[node] += grad, a new array (the gradient already there may be someone's dout)."""
    key = id(node)
    previous = grads.get(key)
    if previous is None:
        grads[key] = grad
    elif isinstance(previous, list):        # a node with several outputs
        grads[key] = [b if a is None else a if b is None else a + b
                      for a, b in zip(previous, grad)]
    else:
        grads[key] = previous + grad


def _topological_order(roots):
    """Every node reachable from `roots`, each after all of its parents (iterative
    depth-first walk: deep graphs do not hit Python's recursion limit)."""
    order = []
    visited = set()
    for root in roots:
        stack = [(root, False)]
        while stack:
            node, parents_done = stack.pop()
            if parents_done:
                order.append(node)
                continue
            if id(node) in visited:
                continue
            visited.add(id(node))
            stack.append((node, True))
            for parent in node.parents:
                if parent is not None and id(parent) not in visited:
                    stack.append((parent, False))
    return order


def sum_to_shape(grad, shape):
    """The gradient of a broadcast operand: `grad` summed over the axes broadcasting added or
    stretched, so it has the operand's `shape` again."""
    if grad.shape == shape:
        return grad
    extra = grad.ndim - len(shape)
    if extra:
        grad = grad.sum(axis=tuple(range(extra)))       # a bias: (batch, units) -> (units,)
    if grad.shape != shape:
        stretched = tuple(i for i, n in enumerate(shape) if n == 1 and grad.shape[i] != 1)
        grad = grad.sum(axis=stretched, keepdims=True)
    return grad


# ------------------------------------------------------------------ layers written with ops


class CallRecord:
    """The cache of a layer whose forward is its `call` run on the tape (a custom layer,
    a subclassed model): the leaves its inputs became, its output(s), the trace's nodes and
    the leaves of the weights it read, and the losses `add_loss` was given during the call
    (`loss`: their total, a float).

    A call run outside any trace (prediction) keeps only its input and `training`:
    `backprop_call` then runs it again on the tape if a gradient is asked for after all.
    """

    __slots__ = ("input_leaves", "list_input", "output", "leaves", "loss_terms", "loss",
                 "replay", "nodes")

    def __init__(self, input_leaves, list_input, output, leaves, loss_terms, replay=None,
                 nodes=None):
        self.input_leaves = input_leaves
        self.list_input = list_input
        self.output = output
        self.leaves = leaves            # id(variable) -> its leaf (Trace.leaves)
        self.nodes = nodes
        self.loss_terms = loss_terms
        self.loss = float(sum(float(np.sum(unwrap(t))) for t in loss_terms)) if loss_terms \
            else 0.0
        self.replay = replay


def trace_call(function, x, record=True):
    """Runs `function(x)` (a layer's call) on a fresh trace.

    x: an array or a list of arrays. Returns (output value(s), CallRecord). With record=False
    the call runs on plain arrays.
    """
    list_input = isinstance(x, (list, tuple))
    if not record:
        with LossCollector() as collector:
            out = function(x)
        call_record = CallRecord(None, list_input, None, None, collector.losses, replay=(x,))
    else:
        with Trace() as trace:
            leaves = [Tracked(a) for a in x] if list_input else [Tracked(x)]
            out = function(leaves if list_input else leaves[0])
        call_record = CallRecord(leaves, list_input, out, trace.leaves, trace.losses,
                                 nodes=trace.nodes)
    if call_record.loss:
        # The caller's total includes what this call added (as a number: the gradient of
        # these losses comes with this layer's backward, which seeds them).
        add_loss(call_record.loss)
    return _values(out), call_record


def backprop_call(function, record, dout, weights, need_input_gradient=True):
    """The layer contract's backward for a traced call: (dL/dx, [dL/dw per weight]).

    weights: the Variables whose gradients are asked for (the layer's trainable weights).
    function: the call, run again on the tape when its forward ran without it (a function
    taking no argument that returns it, as it is needed only then).
    The seeds are the output(s) with `dout` and each added loss with 1: the added losses
    are part of the loss being minimised.
    """
    if record.replay is not None:
        _, record = trace_call(function(), record.replay[0])
    outputs = record.output if isinstance(record.output, (list, tuple)) else [record.output]
    douts = dout if isinstance(dout, (list, tuple)) else [dout]
    seeds = list(zip(outputs, douts))
    if record.loss_terms:
        seeds += [(term, None) for term in record.loss_terms]
    # A weight the call did not read has no leaf (None): its gradient is zeros.
    sources = [record.leaves.get(id(w)) for w in weights]
    if need_input_gradient:
        sources += record.input_leaves
    grads = gradients(seeds, sources, tape=record.nodes)
    weight_grads = [np.zeros_like(w.value) if g is None else g
                    for g, w in zip(grads, weights)]
    if not need_input_gradient:
        return None, weight_grads
    dxs = [np.zeros_like(leaf.value) if g is None else g
           for g, leaf in zip(grads[len(weights):], record.input_leaves)]
    return (dxs if record.list_input else dxs[0]), weight_grads


def _values(out):
    if type(out) is Tracked and type(out.value) is np.ndarray:     # the common case
        return out.value
    if isinstance(out, (list, tuple)):
        return [unwrap(o) for o in out]
    if isinstance(out, dict):
        return {key: unwrap(o) for key, o in out.items()}
    value = unwrap(out)
    return value if isinstance(value, np.ndarray) else np.asarray(value)


def any_tracked(x):
    if isinstance(x, (list, tuple)):
        return any(type(item) is Tracked for item in x)
    return type(x) is Tracked
