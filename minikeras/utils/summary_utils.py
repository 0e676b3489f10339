"""`model.summary()`: the table of layers, output shapes and parameter counts."""

import numpy as np


def _format_bytes(n):
    for unit in ("B", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.2f} {unit}"
        n /= 1024.0


def _count(weights):
    return int(sum(np.prod(w.shape, dtype=np.int64) for w in weights))


def _nbytes(weights):
    return int(sum(w.value.nbytes for w in weights))


def print_summary(model, line_length=None, print_fn=None):
    """Prints Keras's summary table for a Sequential model."""
    print_fn = print_fn or print
    widths = (33, 24, 15)
    if line_length:
        scale = line_length / (sum(widths) + 4)
        widths = tuple(max(10, int(w * scale)) for w in widths)
    top = "┏" + "┳".join("━" * w for w in widths) + "┓"
    header_rule = "┡" + "╇".join("━" * w for w in widths) + "┩"
    between = "├" + "┼".join("─" * w for w in widths) + "┤"
    bottom = "└" + "┴".join("─" * w for w in widths) + "┘"

    def row(cells, heavy=False):
        bar = "┃" if heavy else "│"
        left, middle, right = cells
        return (bar + f" {left:<{widths[0] - 2}} " + bar + f" {middle:<{widths[1] - 2}} " + bar
                + f" {right:>{widths[2] - 2}} " + bar)

    lines = [f'Model: "{model.name}"', top,
             row(("Layer (type)", "Output Shape", "Param #"), heavy=True), header_rule]
    shape = model.input_shape if model.built else None
    for i, layer in enumerate(model.layers):
        if shape is not None:
            shape = tuple(layer.compute_output_shape(shape))
            shape_text = str(shape)
            params = str(layer.count_params()) if layer.built else "0 (unbuilt)"
        else:
            shape_text, params = "?", "0 (unbuilt)"
        lines.append(row((f"{layer.name} ({type(layer).__name__})", shape_text, params)))
        lines.append(between if i < len(model.layers) - 1 else bottom)
    trainable = model.trainable_weights if model.built else []
    non_trainable = model.non_trainable_weights if model.built else []
    optimizer_count = optimizer_bytes = 0
    if getattr(model, "optimizer", None) is not None and model.optimizer.built:
        arrays = model.optimizer.variables
        optimizer_count = int(sum(a.size for a in arrays))
        optimizer_bytes = int(sum(a.size * 4 if a.ndim == 0 else a.nbytes for a in arrays))
    total = _count(trainable) + _count(non_trainable) + optimizer_count
    total_bytes = _nbytes(trainable) + _nbytes(non_trainable) + optimizer_bytes
    lines.append(f" Total params: {total} ({_format_bytes(total_bytes)})")
    lines.append(f" Trainable params: {_count(trainable)} ({_format_bytes(_nbytes(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable)} "
                 f"({_format_bytes(_nbytes(non_trainable))})")
    if optimizer_count:
        lines.append(f" Optimizer params: {optimizer_count} ({_format_bytes(optimizer_bytes)})")
    for line in lines:
        print_fn(line)
