"""`model.summary()`: the table of layers, output shapes and parameter counts.

The text is Keras's, character for character: Keras draws the table with the `rich` library,
and the column-width arithmetic below reproduces how rich fits the columns Keras asks for into
the width available.
"""

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
    lines, line = [], ""
    for word in text.split(" "):
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


def _layer_cells(layer, shape, show_trainable):
    """(name (Type), output shape, params[, trainable]) for one layer."""
    if shape is None:
        shape_text = "?"
    else:
        shape_text = "(" + ", ".join(str(d) for d in shape) + ")"
    params = f"{layer.count_params():,}" if layer.built else "0 (unbuilt)"
    cells = [f"{layer.name} ({type(layer).__name__})", shape_text, params]
    if show_trainable:
        cells.append(("Y" if layer.trainable else "N") if layer.weights else "-")
    return cells


def _layer_range(layers, layer_range):
    if layer_range is None:
        return layers
    if len(layer_range) != 2:
        raise ValueError(
            "`layer_range` must be a list of two layer names [first, last]. "
            f"Received: layer_range={layer_range!r}"
        )
    names = [layer.name for layer in layers]
    for name in layer_range:
        if name not in names:
            raise ValueError(
                f"Layer {name!r} is not in the model (layers: {names}). "
                f"Received: layer_range={layer_range!r}"
            )
    return layers[names.index(layer_range[0]):names.index(layer_range[1]) + 1]


def _is_subclassed(model):
    return getattr(model, "_has_call", lambda: False)()


def _unknown_batch(shape):
    if isinstance(shape, list):
        return [_unknown_batch(s) for s in shape]
    return (None,) + tuple(shape[1:]) if shape else shape


def summary_text(model, line_length=None, positions=None, show_trainable=False,
                 layer_range=None):
    """The summary of a Sequential model as one string (ending with a newline)."""
    console_width = shutil.get_terminal_size().columns
    default_line_length = 88
    positions = list(positions or [0.45, 0.80, 1.0])
    header = ["Layer (type)", "Output Shape", "Param #"]
    alignments = ["left", "left", "right"]
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
    layer_rows = []
    if _is_subclassed(model):
        # Its layers are wired by code, not in a chain: each shows the output shape for the
        # input it was built on (Keras's rule), batch axis unknown.
        for layer in model.layers:
            built_on = getattr(layer, "_build_input_shape", None)
            shape = None
            if layer.built and built_on is not None:
                shape = layer.compute_output_shape(_unknown_batch(built_on))
            layer_rows.append((layer, shape if not isinstance(shape, list) else shape[0]))
    shape = model.input_shape if model.built and not _is_subclassed(model) else None
    for layer in model.layers if not _is_subclassed(model) else []:
        shape = None if shape is None else tuple(layer.compute_output_shape(shape))
        layer_rows.append((layer, shape))
    shown = _layer_range([layer for layer, _ in layer_rows], layer_range)
    shown_rows = [(layer, shape) for layer, shape in layer_rows if layer in shown]
    for i, (layer, shape) in enumerate(shown_rows):
        lines += _table_rows(_layer_cells(layer, shape, show_trainable), widths, alignments,
                             "│")
        if i < len(shown_rows) - 1:
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
                  show_trainable=False, layer_range=None):
    """Prints the summary; print_fn, if given, receives the whole text in one call (as in
    Keras)."""
    text = summary_text(model, line_length=line_length, positions=positions,
                        show_trainable=show_trainable, layer_range=layer_range)
    if print_fn is None:
        print(text, end="")
    else:
        print_fn(text)
