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

`trace_shapes(model, x)` runs one batch through a Sequential model, forward then backward, and
reports those shapes for every layer, so they can be read off rather than guessed.
"""

import numpy as np

from minikeras import backend

_COLUMNS = ("A_prev", "W", "b", "Z", "A", "dA", "dW", "db", "dA_prev")


def trace_shapes(model, x, training=False, print_table=True, print_fn=None):
    """Shapes of each layer's input, weights, output and gradients for one batch.

    The backward pass is seeded with dL/dA = 1 for the model's output (the shapes of the
    gradients do not depend on the loss), so the model need not be compiled.

    Args:
        model: a Sequential model (built, or buildable from x).
        x: one batch of inputs, (batch, ...).
        training: run the layers in training mode (Dropout active).
        print_table: print the table (default True).
        print_fn: function used to print (default `print`).

    Returns:
        A list with one dict per layer, with keys
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
            "trace_shapes expects a minikeras Sequential model. Received: "
            f"model of type {type(model).__name__}"
        )
    x = np.asarray(x)
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(backend.floatx())
    if x.ndim < 1 or x.shape[0] == 0:
        raise ValueError(f"`x` must be a non-empty batch. Received: x.shape={x.shape}")
    if not model.built:
        model.build((None,) + x.shape[1:])

    rows = []
    caches = []
    activations = x
    for layer in model.layers:
        row = {"layer": layer.name, "type": type(layer).__name__, "A_prev": activations.shape}
        activations, cache = layer.forward(activations, training=training)
        caches.append(cache)
        named = {w.name: w.shape for w in layer.trainable_weights}
        row["weights"] = named
        row["W"] = named.get("kernel")
        row["b"] = named.get("bias")
        # Layers with an activation compute Z first; it has A's shape (activations are
        # element-wise).
        row["Z"] = activations.shape if getattr(layer, "activation", None) is not None else None
        row["A"] = activations.shape
        rows.append(row)

    upstream = np.ones_like(activations)
    for layer, cache, row in zip(reversed(model.layers), reversed(caches), reversed(rows)):
        row["dA"] = upstream.shape
        upstream, grads = layer.backward(upstream, cache)
        names = [w.name for w in layer.trainable_weights]
        row["grads"] = {name: np.shape(g) for name, g in zip(names, grads)}
        row["dW"] = row["grads"].get("kernel")
        row["db"] = row["grads"].get("bias")
        row["dA_prev"] = upstream.shape

    if print_table:
        (print_fn or print)(format_shape_table(rows))
    return rows


def format_shape_table(rows):
    """The table trace_shapes prints: one line per layer, one column per array."""

    def text(shape):
        return "-" if shape is None else str(tuple(shape)).replace(" ", "")

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
