"""`keras.utils.plot_model` and `keras.utils.model_to_dot`: a model drawn as a graph.

Each layer becomes one box of the graph, and each tensor passed from one layer to another an
arrow. The graph is written in Graphviz's DOT language through pydot, and Graphviz's `dot`
program lays it out and renders it (PNG, SVG, PDF, ... chosen by the file's extension).

Both are optional: minikeras depends on NumPy only. `pip install minikeras[plot]` brings pydot;
Graphviz is a system program (`apt-get install graphviz`, `brew install graphviz`). When either
is missing, plot_model raises Keras's own message (or prints it inside IPython, where Keras
prints instead of raising so that a notebook keeps running).

What is drawn, as Keras draws it:
    Sequential:   its layers in a chain (no box for the Input).
    functional:   every layer of the graph, InputLayers included, with an arrow for each tensor
                  a layer receives; fan-out and merges follow from the graph's nodes.
    nested model: one box, or with expand_nested=True a dashed cluster holding its own layers;
                  arrows into it go to its first layer (Sequential) or its InputLayer
                  (functional), arrows out of it leave from the layer making that output.
    subclassed:   one box (its `call` is Python code, not a graph).
Each box is an HTML-like table: a black title row (the class name, or "name (Class)"), then
optional rows for the activation and the input/output shapes, dtype and trainability.
"""

import importlib
import os
import sys

PYDOT_MESSAGE = "You must install pydot (`pip install pydot`) for `plot_model` to work."
GRAPHVIZ_MESSAGE = ("You must install graphviz (see instructions at "
                    "https://graphviz.gitlab.io/download/) for `plot_model` to work.")
MODEL_TO_DOT_PYDOT_MESSAGE = ("You must install pydot (`pip install pydot`) for model_to_dot "
                              "to work.")
NOT_BUILT_MESSAGE = ("This model has not yet been built. Build the model first by calling "
                     "`build()` or by calling the model on a batch of data.")

# pydot_ng and pydotplus are older forks of pydot with the same interface; Keras accepts them.
_PYDOT_MODULES = ("pydot", "pydot_ng", "pydotplus")


def plot_model(model, to_file="model.png", show_shapes=False, show_dtype=False,
               show_layer_names=False, rankdir="TB", expand_nested=False, dpi=200,
               show_layer_activations=False, show_trainable=False, splines="ortho",
               **kwargs):
    """Draws `model` into the image file `to_file`.

    Args:
        model: a built model (Sequential, functional or subclassed).
        to_file: path of the image; its extension picks the format (".png", ".svg", ".pdf",
            ".dot", ... anything Graphviz writes), PNG when it has none.
        show_shapes, show_dtype: add the layers' input/output shapes, output dtypes.
        show_layer_names: title each box "name (Class)" instead of "Class".
        rankdir: "TB" (top to bottom), "LR" (left to right), "BT" or "RL".
        expand_nested: draw nested models' layers inside dashed clusters.
        dpi: resolution of bitmap formats.
        show_layer_activations: add the activation of layers that have one.
        show_trainable: mark layers with weights "Trainable" or "Non-trainable".
        splines: how Graphviz draws the arrows ("ortho", "spline", "polyline", "line", ...).

    Returns:
        An `IPython.display.Image` of the file when IPython is installed (so that a notebook
        shows it) and can show the format (PNG, JPEG, GIF), else None.
    """
    if not getattr(model, "built", False):
        raise ValueError(NOT_BUILT_MESSAGE)
    pydot = _import_pydot()
    if pydot is None:
        return _missing(PYDOT_MESSAGE)
    if not _graphviz_works(pydot):
        return _missing(GRAPHVIZ_MESSAGE)
    _check_kwargs(kwargs)
    to_file = os.fspath(to_file) if isinstance(to_file, os.PathLike) else str(to_file)
    extension = os.path.splitext(to_file)[1][1:] or "png"
    formats = getattr(pydot.Dot(), "formats", None)
    if formats and extension not in formats:
        raise ValueError(
            "Expected `to_file` to end with an image format Graphviz writes "
            f"({', '.join(sorted(formats))}). Received: to_file={to_file!r}"
        )

    dot = model_to_dot(model, show_shapes=show_shapes, show_dtype=show_dtype,
                       show_layer_names=show_layer_names, rankdir=rankdir,
                       expand_nested=expand_nested, dpi=dpi,
                       show_layer_activations=show_layer_activations,
                       show_trainable=show_trainable, splines=splines)
    dot.write(to_file, format=extension)
    # Keras returns the image for a notebook to show, but raises after writing the file when
    # IPython cannot show the format (SVG, DOT) or guess it (no extension): here the format
    # is passed to IPython, and the formats it cannot show return None.
    embeddable = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "gif": "gif"}
    if extension not in embeddable:
        return None
    try:
        from IPython import display
    except ImportError:
        return None
    return display.Image(filename=to_file, format=embeddable[extension])


def model_to_dot(model, show_shapes=False, show_dtype=False, show_layer_names=True,
                 rankdir="TB", expand_nested=False, dpi=200, subgraph=False,
                 show_layer_activations=False, show_trainable=False, splines="ortho",
                 **kwargs):
    """The graph plot_model draws, as a `pydot.Dot` (a `pydot.Cluster` when subgraph=True,
    which is how a nested model is drawn inside its parent). Arguments as plot_model's; note
    that show_layer_names defaults to True here, as in Keras."""
    if not getattr(model, "built", False):
        raise ValueError(NOT_BUILT_MESSAGE)
    pydot = _import_pydot()
    if pydot is None:
        raise ImportError(MODEL_TO_DOT_PYDOT_MESSAGE)
    _check_kwargs(kwargs)
    label_options = {"show_layer_names": show_layer_names, "show_shapes": show_shapes,
                     "show_dtype": show_dtype, "show_layer_activations": show_layer_activations,
                     "show_trainable": show_trainable}

    if subgraph:
        dot = pydot.Cluster(style="dashed", graph_name=model.name)
        dot.set("label", model.name)
        dot.set("labeljust", "l")
    else:
        dot = pydot.Dot()
        dot.set("rankdir", rankdir)
        dot.set("concentrate", True)
        dot.set("dpi", dpi)
        dot.set("splines", splines)
        dot.set_node_defaults(shape="record")

    kind = _model_kind(model)
    if kind == "subclassed":
        dot.add_node(_layer_node(pydot, model, label_options))
        return dot

    # One box per layer, or a cluster per nested model when expanding.
    for layer in model.layers:
        if expand_nested and _model_kind(layer) != "subclassed" and _is_model(layer):
            dot.add_subgraph(model_to_dot(
                layer, show_shapes, show_dtype, show_layer_names, rankdir, expand_nested,
                subgraph=True, show_layer_activations=show_layer_activations,
                show_trainable=show_trainable))
        else:
            dot.add_node(_layer_node(pydot, layer, label_options))

    if kind == "sequential" and not expand_nested:
        layers = model.layers
        for source, destination in zip(layers[:-1], layers[1:]):
            _add_edge(pydot, dot, source, destination)
        return dot

    # One arrow per tensor a layer receives inside this model. A Sequential's first layer
    # receives the model's input, which has no box here: the arrow into the Sequential
    # itself is drawn by the parent model.
    for node in _model_nodes(model):
        if node.is_input or (kind == "sequential" and node.layer is model.layers[0]):
            continue
        for input_index, tensor in enumerate(node.input_tensors):
            source, _, output_index = tensor._keras_history
            destination = node.layer
            if expand_nested:
                source, destination = _through_nested(source, output_index, destination,
                                                      input_index)
            _add_edge(pydot, dot, source, destination)
    return dot


# ----------------------------------------------------------------- the graph's structure

def _is_model(layer):
    from minikeras.models.model import Model

    return isinstance(layer, Model)


def _model_kind(model):
    """"sequential", "functional" (a graph of layer calls) or "subclassed" (a `call`)."""
    from minikeras.models.functional import Functional
    from minikeras.models.sequential import Sequential

    if isinstance(model, Sequential):
        return "sequential"
    if isinstance(model, Functional):
        return "functional"
    return "subclassed"


def _model_nodes(model):
    """The nodes of `model`'s own graph, in the order they run: a layer shared with another
    model has nodes there too, which are not this model's arrows."""
    from minikeras.models.graph import order_nodes

    nodes, _ = order_nodes(model.inputs, model.outputs)
    return nodes


def _through_nested(source, output_index, destination, input_index):
    """With nested models expanded, an arrow leaves from the layer inside `source` that makes
    its output `output_index`, and enters the box inside `destination` that receives its
    input `input_index`; models may nest several levels deep."""
    while _is_model(source) and _model_kind(source) != "subclassed":
        source, _, output_index = source.outputs[output_index]._keras_history
    while _is_model(destination) and _model_kind(destination) != "subclassed":
        if _model_kind(destination) == "functional":
            destination = destination.inputs[input_index]._keras_history[0]
        else:
            destination = destination.layers[0]
    return source, destination


def _add_edge(pydot, dot, source, destination):
    """One arrow per pair of layers, however many tensors pass between them."""
    source_id, destination_id = str(id(source)), str(id(destination))
    if dot.get_edge(source_id, destination_id):
        return
    edge = pydot.Edge(source_id, destination_id)
    edge.set("penwidth", "2")
    dot.add_edge(edge)


# ---------------------------------------------------------------------------- the boxes

def _layer_node(pydot, layer, options):
    """A box named after the layer's id (names need not be unique across nested models)."""
    node = pydot.Node(str(id(layer)), label=_layer_label(layer, **options))
    node.set("fontname", "Helvetica")
    node.set("border", "0")
    node.set("margin", "0")
    return node


def _layer_label(layer, show_layer_names, show_shapes, show_dtype, show_layer_activations,
                 show_trainable):
    """The box as a Graphviz HTML-like table: a black title row spanning the columns, an
    optional activation row, then one row of cells (shapes, dtype, trainability)."""
    class_name = type(layer).__name__
    span = (2 if show_shapes else 0) + int(bool(show_dtype)) + int(bool(show_trainable))
    span = max(span, 1)
    title = f"<b>{layer.name}</b> ({class_name})" if show_layer_names else f"<b>{class_name}</b>"
    rows = [f'<td colspan="{span}" bgcolor="black"><font point-size="16" color="white">'
            f"{title}</font></td>"]
    activation = getattr(layer, "activation", None)
    if show_layer_activations and activation is not None:
        rows.append(f'<td bgcolor="white" colspan="{span}"><font point-size="14">'
                    f"Activation: <b>{_activation_name(activation)}</b></font></td>")

    cells = []
    if show_shapes:
        if class_name != "InputLayer":
            cells.append(_white_cell(f"Input shape: <b>{_shape_text(layer, 'input')}</b>"))
        cells.append(_white_cell(f"Output shape: <b>{_shape_text(layer, 'output')}</b>"))
    if show_dtype:
        dtype = _tensor_attribute(layer, "output", "dtype")
        cells.append(_white_cell(f"Output dtype: <b>{dtype or '?'}</b>"))
    if show_trainable and hasattr(layer, "trainable") and layer.weights:
        colour, word = ("forestgreen", "Trainable") if layer.trainable else \
            ("firebrick", "Non-trainable")
        cells.append(f'<td bgcolor="{colour}"><font point-size="14" color="white">'
                     f"<b>{word}</b></font></td>")
    if cells:
        rows.append("".join(cells))
    body = "".join(f"<tr>{row}</tr>" for row in rows)
    return f'<<table border="0" cellborder="1" bgcolor="black" cellpadding="10">{body}</table>>'


def _white_cell(text):
    return f'<td bgcolor="white"><font point-size="14">{text}</font></td>'


def _activation_name(activation):
    for attribute in ("name", "__name__"):
        if hasattr(activation, attribute):
            return getattr(activation, attribute)
    return str(activation)


def _tensor_attribute(layer, which, attribute):
    """`attribute` ("shape" or "dtype") of the tensor(s) of the layer's first call, with the
    structure of that call (a list for a merge, a dict for a model with named inputs); None
    when the layer has no call to read it from."""
    try:
        tensors = getattr(layer, which)
    except (AttributeError, ValueError):
        return None
    if isinstance(tensors, dict):
        return {key: getattr(t, attribute) for key, t in tensors.items()}
    if isinstance(tensors, (list, tuple)):
        return [getattr(t, attribute) for t in tensors]
    return getattr(tensors, attribute)


def _shape_text(layer, which):
    """(None, 4); [(None, 4), (None, 4)] for several tensors; "name: (None, 4)" for named
    ones; "?" when unknown."""
    shape = _tensor_attribute(layer, which, "shape")
    if shape is None:
        return "?"
    if isinstance(shape, dict):
        return ", ".join(f"{key}: {value}" for key, value in shape.items())
    return str(shape)


# ------------------------------------------------------------------ optional dependencies

def _check_kwargs(kwargs):
    if kwargs.pop("layer_range", None) is not None:
        raise ValueError("Argument `layer_range` is no longer supported.")
    if kwargs:
        raise ValueError(f"Unrecognized keyword arguments: {kwargs}")


def _import_pydot():
    for name in _PYDOT_MODULES:
        try:
            return importlib.import_module(name)
        except ImportError:
            continue
    return None


def _graphviz_works(pydot):
    """Keras's test: pydot can render an empty graph (it runs Graphviz's `dot`)."""
    try:
        pydot.Dot.create(pydot.Dot())
        return True
    except (OSError, getattr(pydot, "PydotException", OSError)):
        return False


def _missing(message):
    if "IPython.core.magics.namespace" in sys.modules:
        print(message)
        return None
    raise ImportError(message)
