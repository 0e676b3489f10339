"""`model.summary()`: the table of layers, output shapes and parameter counts.

The text is Keras's, character for character: Keras draws the table with the `rich` library,
and the column-width arithmetic below reproduces how rich fits the columns Keras asks for into
the width available.
"""

import re
import shutil

import numpy as np

_UNITS = ("B", "KB", "MB", "GB", "TB", "PB")


def readable_memory_size(n_bytes):
    """1536 -> "1.50 KB" (powers of 1024, two decimals)."""
    for unit in _UNITS:
        if n_bytes / 1024 < 1:
            return f"{n_bytes:.2f} {unit}"
        n_bytes /= 1024
    return f"{n_bytes:.2f} {_UNITS[-1]}"


def _count(arrays):
    return int(sum(np.prod(np.shape(a), dtype=np.int64) for a in arrays))


def _nbytes(arrays):
    return int(sum(np.asarray(a).nbytes for a in arrays))


def _column_widths(line_length, positions, console_width):
    """Inner width (text plus one space of padding each side) of each column.

    Keras asks for widths from `positions` (fractions of line_length); rich adds two padding
    characters per column and, when the table no longer fits, takes the excess away from the
    columns in equal shares (rounded half to even, first columns first).
    """
    widths, current = [], 0
    for position in positions:
        width = int(position * line_length) - current
        if width < 4:
            raise ValueError(
                "Insufficient console width to print the summary. "
                f"Received: line_length={line_length}"
            )
        widths.append(width + 2)
        current += width
    available = min(line_length, console_width) - (len(widths) + 1)   # minus the borders
    excess = sum(widths) - available
    if excess > 0:
        remaining_columns = len(widths)
        for i, width in enumerate(widths):
            cut = round(excess / remaining_columns)
            widths[i] = width - cut
            excess -= cut
            remaining_columns -= 1
    return widths


def _wrap(text, width):
    """Splits a cell's text into lines of at most `width` characters (rich's word wrap; a word
    longer than a line is cut and ends with an ellipsis)."""
    # Leading spaces (the indent of a nested model's layers) are kept, as rich keeps them.
    stripped = text.lstrip(" ")
    lines, line = [], ""
    words = stripped.split(" ")
    if len(stripped) < len(text):
        words[0] = text[:len(text) - len(stripped)] + words[0]
    for word in words:
        if len(word) > width:
            word = word[:width - 1] + "…"
        if line and len(line) + 1 + len(word) <= width:
            line += " " + word
        else:
            if line:
                lines.append(line)
            line = word
    lines.append(line)
    return lines


def _align(text, width, how):
    if how == "right":
        return text.rjust(width)
    if how == "center":
        left = (width - len(text)) // 2
        return " " * left + text + " " * (width - len(text) - left)
    return text.ljust(width)


def _table_rows(cells, widths, alignments, bar):
    """One table row, as many text lines as its tallest cell needs."""
    wrapped = [_wrap(cell, w - 2) for cell, w in zip(cells, widths)]
    height = max(len(lines) for lines in wrapped)
    out = []
    for i in range(height):
        parts = [" " + _align(lines[i] if i < len(lines) else "", w - 2, how) + " "
                 for lines, w, how in zip(wrapped, widths, alignments)]
        out.append(bar + bar.join(parts) + bar)
    return out


def _rule(widths, left, middle, right, fill):
    return left + middle.join(fill * w for w in widths) + right


def _shape_text(layer):
    """The output shape Keras prints: that of the layer's last call ("?" if never called);
    a layer with several outputs prints the list of them."""
    if not layer._inbound_nodes:
        return _built_shape_text(layer)
    shapes = ["(" + ", ".join(str(d) for d in tensor.shape) + ")"
              for tensor in layer._inbound_nodes[-1].output_tensors]
    if len(shapes) == 1:
        return shapes[0]
    return "[" + ", ".join(shapes) + "]"


def _built_shape_text(layer):
    """A layer called only on arrays (inside a subclassed model's call) has no nodes: Keras
    then prints the output shape for the input it was built on (batch axis shown unknown
    here), or "?" if it was never built."""
    built_on = getattr(layer, "_built_on_shape", None)
    if not layer.built or built_on is None:
        return "?"
    shape = layer.compute_output_shape(_unknown_batch(built_on))
    if isinstance(shape, list):
        return "[" + ", ".join("(" + ", ".join(str(d) for d in s) + ")" for s in shape) + "]"
    return "(" + ", ".join(str(d) for d in shape) + ")"


def _connections(layer, model_nodes):
    """"Connected to": name[node index][tensor index] of every tensor each of the layer's
    calls in this model received, or "-" (an Input)."""
    links = []
    for node in layer._inbound_nodes:
        if id(node) not in model_nodes:
            continue            # a call belonging to another model sharing this layer
        for tensor in node.input_tensors:
            inbound_layer, node_index, tensor_index = tensor._keras_history
            links.append(f"{inbound_layer.name}[{node_index}][{tensor_index}]")
    return ", ".join(links) or "-"


def _layer_cells(layer, prefix, show_trainable, model_nodes):
    """(name (Type), output shape, params[, connected to][, trainable]) for one layer."""
    params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
    cells = [f"{prefix}{layer.name} ({type(layer).__name__})", _shape_text(layer), params]
    if model_nodes is not None:
        cells.append(_connections(layer, model_nodes))
    if show_trainable:
        cells.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    return cells


def _rows(layer, show_trainable, model_nodes, expand_nested, level=0):
    """The row of a layer, then (expand_nested) those of a nested model's layers, indented."""
    prefix = "   " * level + "└ " if level else ""
    rows = [_layer_cells(layer, prefix, show_trainable, model_nodes)]
    if expand_nested and getattr(layer, "layers", None):
        for inner in layer.layers:
            rows += _rows(inner, show_trainable, model_nodes, expand_nested, level + 1)
    return rows


def _layer_range(layers, layer_range):
    """Keras's rule: from the first layer whose name matches layer_range[0] (a regular
    expression, matched at the start) to the last one matching layer_range[1]."""
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError(
            "layer_range must be a list or tuple of length 2. Received: "
            f"layer_range = {layer_range} of length {len(layer_range)}"
        )
    if not isinstance(layer_range[0], str) or not isinstance(layer_range[1], str):
        raise ValueError(f"layer_range should contain string type only. Received: {layer_range}")
    lower = [i for i, layer in enumerate(layers) if re.match(layer_range[0], layer.name)]
    upper = [i for i, layer in enumerate(layers) if re.match(layer_range[1], layer.name)]
    if not lower or not upper:
        raise ValueError(
            "Passed layer_names do not match the layer names in the model. "
            f"Received: {layer_range}"
        )
    if min(lower) > max(upper):
        return layers[min(upper):max(lower) + 1]
    return layers[min(lower):max(upper) + 1]


def _graph_nodes(model):
    """The model's nodes (Input nodes included) and whether they form a chain, as Keras
    decides it: one node per depth, none with several inputs, no layer called twice."""
    from minikeras.models.graph import order_nodes

    nodes, _ = order_nodes(model.inputs, model.outputs)
    depth = {}
    layer_depth = {}
    in_model = {id(node) for node in nodes}
    # Keras's depth: the longest path to an output, a layer's calls at its deepest one.
    for node in reversed(nodes):
        d = max(depth.get(id(node), 0), layer_depth.get(node.layer, 0))
        layer_depth[node.layer] = depth[id(node)] = d
        for parent in node.parent_nodes:
            if id(parent) in in_model:
                depth[id(parent)] = max(d + 1, depth.get(id(parent), 0))
    per_depth = {}
    for node in nodes:
        per_depth[depth[id(node)]] = per_depth.get(depth[id(node)], 0) + 1
    calls = {}
    for node in nodes:
        calls[node.layer] = calls.get(node.layer, 0) + 1
    chain = (all(count == 1 for count in per_depth.values())
             and all(len(node.input_tensors) <= 1 for node in nodes)
             and all(count == 1 for count in calls.values()))
    return in_model, chain


def _is_subclassed(model):
    return getattr(model, "_has_call", lambda: False)()


def _unknown_batch(shape):
    if isinstance(shape, list):
        return [_unknown_batch(s) for s in shape]
    return (None,) + tuple(shape[1:]) if shape else shape


def summary_text(model, line_length=None, positions=None, show_trainable=False,
                 layer_range=None, expand_nested=False):
    """The summary of a model as one string (ending with a newline).

    A Sequential model, or a functional one whose layers form a chain, gets three columns; any
    other functional model a fourth, "Connected to", naming each call's inputs as
    layer_name[node index][tensor index].
    """
    from minikeras.models import Sequential

    model_nodes = None
    if not isinstance(model, Sequential) and getattr(model, "_graph", None) is not None \
            and not _is_subclassed(model):
        model_nodes, chain = _graph_nodes(model)
        if chain:
            model_nodes = None
    console_width = shutil.get_terminal_size().columns
    if model_nodes is None:
        default_line_length = 88
        positions = list(positions or [0.45, 0.80, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #"]
        alignments = ["left", "left", "right"]
    else:
        default_line_length = 108
        positions = list(positions or [0.3, 0.56, 0.74, 1.0])
        header = ["Layer (type)", "Output Shape", "Param #", "Connected to"]
        alignments = ["left", "left", "right", "left"]
    if show_trainable:
        default_line_length += 12
        positions = [p * 0.90 for p in positions] + [1.0]
        header.append("Trainable")
        alignments.append("center")
    line_length = line_length or min(default_line_length, console_width - 4)
    widths = _column_widths(line_length, positions, console_width)

    lines = [f'Model: "{model.name}"', _rule(widths, "┏", "┳", "┓", "━")]
    lines += _table_rows(header, widths, alignments, "┃")
    lines.append(_rule(widths, "┡", "╇", "┩", "━"))
    rows = []
    for layer in _layer_range(model.layers, layer_range):
        rows += _rows(layer, show_trainable, model_nodes, expand_nested)
    for i, cells in enumerate(rows):
        lines += _table_rows(cells, widths, alignments, "│")
        if i < len(rows) - 1:
            lines.append(_rule(widths, "├", "┼", "┤", "─"))
    lines.append(_rule(widths, "└", "┴", "┘", "─"))

    trainable = model.trainable_weights if model.built else []
    non_trainable = model.non_trainable_weights if model.built else []
    optimizer = getattr(model, "optimizer", None)
    optimizer_built = bool(getattr(model, "compiled", False) and optimizer is not None
                           and optimizer.built)
    optimizer_arrays = optimizer.variables if optimizer_built else []
    total = _count(trainable) + _count(non_trainable) + _count(optimizer_arrays)
    total_bytes = _nbytes(trainable) + _nbytes(non_trainable) + _nbytes(optimizer_arrays)
    lines.append(f" Total params: {total:,} ({readable_memory_size(total_bytes)})")
    lines.append(f" Trainable params: {_count(trainable):,} "
                 f"({readable_memory_size(_nbytes(trainable))})")
    lines.append(f" Non-trainable params: {_count(non_trainable):,} "
                 f"({readable_memory_size(_nbytes(non_trainable))})")
    if optimizer_built:
        lines.append(f" Optimizer params: {_count(optimizer_arrays):,} "
                     f"({readable_memory_size(_nbytes(optimizer_arrays))})")
    return "\n".join(lines) + "\n"


def print_summary(model, line_length=None, positions=None, print_fn=None,
                  show_trainable=False, layer_range=None, expand_nested=False):
    """Prints the summary; print_fn, if given, receives the whole text in one call (as in
    Keras)."""
    text = summary_text(model, line_length=line_length, positions=positions,
                        show_trainable=show_trainable, layer_range=layer_range,
                        expand_nested=expand_nested)
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)
