"""Shape tracing: the matrix dimensions of one forward and backward pass, layer by layer.

Most first bugs in a hand-written network are shape bugs. For a Dense layer with a batch of m
samples, n_in inputs and n_out units, the shapes a student must get right are

    A_prev (m, n_in)   W (n_in, n_out)   b (n_out,)
    Z = A_prev @ W + b          (m, n_out)
    A = activation(Z)           (m, n_out)
    dA  = dL/dA                 (m, n_out)   arrives from the next layer
    dW  = A_prev.T @ dZ         (n_in, n_out)   always the shape of W
    db  = dZ.sum(axis=0)        (n_out,)        always the shape of b
    dA_prev = dZ @ W.T          (m, n_in)       always the shape of A_prev; sent to the layer before

`trace_shapes(model, x)` runs one batch through a model (Sequential or functional), forward then
backward, and reports those shapes for every layer call, so they can be read off rather than
guessed.
"""

import numpy as np

from minikeras import backend

_COLUMNS = ("A_prev", "W", "b", "Z", "A", "dA", "dW", "db", "dA_prev")


def trace_shapes(model, x, training=False, print_table=True, print_fn=None):
    """Shapes of each layer's input, weights, output and gradients for one batch.

    The backward pass is seeded with dL/dA = 1 for the model's output (the shapes of the
    gradients do not depend on the loss), so the model need not be compiled.

    Args:
        model: a Sequential model (built, or buildable from x) or a functional model.
        x: one batch of inputs, (batch, ...); a list or dict for a model with several inputs.
        training: run the layers in training mode (Dropout active).
        print_table: print the table (default True).
        print_fn: function used to print (default `print`).

    Returns:
        A list with one dict per layer call (a shared layer has one per call), with keys
        "layer" (name), "type" (class name),
        "A_prev" (input shape), "A" (output shape), "dA" (gradient of the output), "dA_prev"
        (gradient of the input, passed to the layer before),
        "W", "b", "dW", "db" (shapes of the kernel, the bias and their gradients; None when
        the layer has no such weight),
        "Z" (shape of the pre-activation, for layers with an activation; else None),
        "weights" and "grads" (dicts: weight name -> shape, for every trainable weight).
    """
    if not hasattr(model, "layers") or not hasattr(model, "_forward"):
        raise TypeError(
            "trace_shapes expects a minikeras model (Sequential or functional). Received: "
            f"model of type {type(model).__name__}"
        )
    if not isinstance(x, (list, tuple, dict)):
        x = np.asarray(x)
        if not np.issubdtype(x.dtype, np.floating):
            x = x.astype(backend.floatx())
        if x.ndim < 1 or x.shape[0] == 0:
            raise ValueError(f"`x` must be a non-empty batch. Received: x.shape={x.shape}")
    if not model.built:
        model.build((None,) + x.shape[1:])
    graph = model._graph

    # Forward, node by node in the order the model runs them (a chain for Sequential).
    values = dict(zip(graph.input_slots, model._input_arrays(x, "x")))
    rows = []
    caches = []
    for step in graph.steps:
        layer = step.layer
        inputs = [values[s] for s in step.in_slots] if step.list_input else values[step.in_slot]
        row = {"layer": layer.name, "type": type(layer).__name__, "A_prev": _shape(inputs)}
        outputs, cache = layer.forward(inputs, training=training)
        caches.append(cache)
        for slot, value in zip(step.out_slots, [outputs] if step.single_output else outputs):
            values[slot] = value
        named = {w.name: w.shape for w in layer.trainable_weights}
        row["weights"] = named
        row["W"] = named.get("kernel")
        row["b"] = named.get("bias")
        # Layers with an activation compute Z first; it has A's shape (activations are
        # element-wise).
        row["Z"] = _shape(outputs) if getattr(layer, "activation", None) is not None else None
        row["A"] = _shape(outputs)
        rows.append(row)

    # Backward from dL/dA = 1 at every output; a tensor used twice sums its gradients.
    upstream = {slot: np.ones_like(values[slot]) for slot in graph.output_slots}
    for step, cache, row in zip(reversed(graph.steps), reversed(caches), reversed(rows)):
        layer = step.layer
        names = [w.name for w in layer.trainable_weights]
        douts = [upstream.get(slot) for slot in step.out_slots]
        if all(d is None for d in douts):       # a branch no output depends on
            row.update({"dA": None, "dA_prev": None, "grads": {}, "dW": None, "db": None})
            continue
        douts = [np.zeros_like(values[s]) if d is None else d
                 for s, d in zip(step.out_slots, douts)]
        dout = douts[0] if step.single_output else douts
        row["dA"] = _shape(dout)
        dx, grads = layer.backward(dout, cache)
        row["grads"] = {name: np.shape(g) for name, g in zip(names, grads)}
        row["dW"] = row["grads"].get("kernel")
        row["db"] = row["grads"].get("bias")
        row["dA_prev"] = _shape(dx)
        for slot, d in zip(step.in_slots, dx if step.list_input else [dx]):
            upstream[slot] = d if slot not in upstream else upstream[slot] + d

    if print_table:
        (print_fn or print)(format_shape_table(rows))
    return rows


def _shape(value):
    """An array's shape, or a list of shapes for a list of arrays (merge layers' inputs)."""
    if isinstance(value, (list, tuple)):
        return [np.shape(v) for v in value]
    return np.shape(value)


def format_shape_table(rows):
    """The table trace_shapes prints: one line per layer, one column per array."""

    def text(shape):
        if shape is None:
            return "-"
        if isinstance(shape, list):
            return ",".join(text(s) for s in shape)
        return str(tuple(shape)).replace(" ", "")

    names = [f"{row['layer']} ({row['type']})" for row in rows]
    first = max([len("layer (type)"), *map(len, names)])
    cells = [[text(row[column]) for column in _COLUMNS] for row in rows]
    widths = [max([len(column), *(len(line[i]) for line in cells)])
              for i, column in enumerate(_COLUMNS)]
    header = "  ".join([f"{'layer (type)':<{first}}",
                        *(f"{c:>{w}}" for c, w in zip(_COLUMNS, widths))])
    lines = [header, "-" * len(header)]
    for name, line in zip(names, cells):
        lines.append("  ".join([f"{name:<{first}}", *(f"{c:>{w}}" for c, w in zip(line, widths))]))
    lines.append("forward:  A_prev -> Z = A_prev W + b -> A = activation(Z)")
    lines.append("backward: dA -> dZ -> dW (shape of W), db (shape of b), "
                 "dA_prev (shape of A_prev)")
    return "\n".join(lines)
