"""Weights in Keras 3's HDF5 layout (`.weights.h5`, and `model.weights.h5` inside `.keras`).

The layout Keras writes for a Sequential model:

    vars/                         the model's own weights (none); attribute name="sequential"
    layers/dense/vars/0, 1        kernel, bias of the first Dense; attribute name=<layer name>
    layers/dense_1/vars/...       the second Dense: groups are named after the class in snake
    layers/dropout/vars/          case, numbered in order ("dense", "dense_1", ...), never
                                  after the layer's own name
    optimizer/vars/0, 1, 2...     iterations, learning rate (absent with a schedule), then the
                                  optimizer's slots in Keras's order

Each `vars` group lists a layer's weights trainable first, then non-trainable, in creation
order. Loading opens only the paths the model's layers need (see "reading" below) and checks
every array there against the model before changing anything: a missing, extra or wrongly
shaped array is an error naming the file and the path inside it.

h5py is optional: it is imported inside the functions that need it.
"""

import math
import warnings

import numpy as np

from minikeras.saving.serialization import keras_snake_case


class WeightsFileError(ValueError):
    """A weights file that does not match the model (missing, extra or misshapen arrays)."""


def import_h5py():
    """h5py, or an ImportError that says how to install it."""
    try:
        import h5py
    except ImportError as error:
        raise ImportError(
            "Saving and loading Keras weight files (.weights.h5, .keras) needs the h5py "
            "package. Install it with `pip install h5py` (or `pip install minikeras[h5]`)."
        ) from error
    return h5py


# ----------------------------------------------------------------------- the model walk


def saveables(model):
    """(path, object, own weights) for the model, each layer (recursively) in Keras's order.

    own weights: list of arrays-holders with .value (Variables), trainable ones first.
    """
    yield from _walk(model, "", set())


def _walk(layer, path, visited):
    if id(layer) in visited:        # a layer reachable twice is saved at its first path
        return
    visited.add(id(layer))
    yield path, layer, own_weights(layer)
    # Layers wrapping others (an RNN's cell, Bidirectional's two RNNs, TimeDistributed's
    # layer) name them as Keras's attributes do: layers/lstm/cell/vars/0.
    wrapped = getattr(layer, "_saveable_children", None)
    if callable(wrapped):
        for name, child in wrapped():
            yield from _walk(child, _join(path, name), visited)
    for attribute, child in _children(layer):
        if isinstance(child, (list, tuple, dict)):
            used = {}
            for item in (child.values() if isinstance(child, dict) else child):
                name = _unique(keras_snake_case(type(item).__name__), used)
                if _is_layer(item):
                    yield from _walk(item, _join(path, attribute, name), visited)
        elif _is_layer(child):
            yield from _walk(child, _join(path, attribute), visited)


def _children(layer):
    """(attribute, layer or list of layers) in the order Keras's saving visits them.

    Sequential and functional models: their `layers`. A layer written as a call (a custom
    layer, a subclassed model): its public attributes holding layers, sorted by name, with a
    subclassed model's `layers` among them (Keras walks dir(obj) sorted, and a layer met
    again later is not saved twice)."""
    has_call = getattr(layer, "_has_call", None)
    if has_call is None or not has_call():
        sublayers = getattr(layer, "_layers", None)
        return [("layers", sublayers)] if isinstance(sublayers, list) else []
    children = {}
    for name, value in vars(layer).items():
        if name.startswith("_"):
            continue
        items = value.values() if isinstance(value, dict) else (
            value if isinstance(value, (list, tuple)) else [value])
        if any(_is_layer(item) for item in items):
            children[name] = value
    if hasattr(layer, "compile"):       # a Model: Keras also walks its `layers` property
        children["layers"] = list(layer.layers)
    return sorted(children.items())


def _is_layer(value):
    from minikeras.layers.layer import Layer

    return isinstance(value, Layer)


def own_weights(layer):
    """A layer's own variables in Keras's order: trainable ones, then non-trainable ones.
    A layer whose weights Keras keeps in sublayers (MultiHeadAttention's query_dense, ...)
    lists them through _saveable_children and says so with `_weights_in_children`."""
    if getattr(layer, "_weights_in_children", False):
        return []
    weights = list(getattr(layer, "_weights", []))
    return [w for w in weights if w.trainable] + [w for w in weights if not w.trainable]


def _unique(name, used):
    if name in used:
        used[name] += 1
        return f"{name}_{used[name]}"
    used[name] = 0
    return name


def _join(*parts):
    return "/".join(part for part in parts if part)


# --------------------------------------------------------------------- optimizer state
# `optimizer.variables` lists the state as Keras does: iterations, the learning rate (unless it
# is a schedule or a callable), then the per-variable slots (`state_arrays()`) in the order
# Keras creates them. The arrays are live: writing into them restores the state.


def optimizer_arrays(optimizer):
    """The optimizer's state arrays in Keras's order (just the scalars before it is built)."""
    return list(optimizer.variables)


def _optimizer_head_size(optimizer):
    """How many of `variables` exist before the optimizer is built: the step count, and the
    learning rate unless it is a schedule. (EMA averages and gradient accumulators, like the
    per-variable slots, come only with build().)"""
    return 1 + isinstance(optimizer._learning_rate, np.ndarray)


# ------------------------------------------------------------------------------ writing


def write_weights(h5file, model, include_optimizer=True):
    """Writes every weight of `model` (and its optimizer's state) into an open h5py File."""
    for path, obj, weights in saveables(model):
        group = h5file.create_group(_join(path, "vars"))
        group.attrs["name"] = obj.name
        for i, weight in enumerate(weights):
            group.create_dataset(str(i), data=np.asarray(weight.value))
    optimizer = getattr(model, "optimizer", None)
    if include_optimizer and optimizer is not None and getattr(model, "compiled", False):
        group = h5file.create_group("optimizer/vars")
        group.attrs["name"] = optimizer.name
        for i, value in enumerate(optimizer_arrays(optimizer)):
            group.create_dataset(str(i), data=np.array(value))


# ------------------------------------------------------------------------------ reading
# Reading never walks the file. The model says which paths it needs (`saveables`), and the
# reader opens exactly those, one link at a time, checking each link before following it. A
# file can hold anything elsewhere (hard-link cycles, a chain of groups each linked twice to
# the next, thousands of nested groups, huge arrays): none of it is ever opened. The one
# look beyond the model's own paths is a single level below each `layers` group, to report
# weights saved for a layer the model does not have.

# An HDF5 element type must be one of these NumPy kinds (bool, signed, unsigned, float) and
# no larger than this many bytes: compound, string, reference, enum, opaque, complex and
# array types are refused.
_NUMERIC_KINDS = "biuf"
_MAX_ITEMSIZE = 16
# HDF5 reads a compressed array chunk by chunk, each whole: a 2 MB file can declare one 2 GiB
# chunk for a 6-number array. A chunk may be larger than its array only up to this size.
_MAX_CHUNK_BYTES = 16 * 2**20
# A `layers` group may hold this many entries beyond the model's layers (Keras writes none).
_MAX_EXTRA_ENTRIES = 1000


def read_weights(h5file, model, source, skip_mismatch=False, load_optimizer=True):
    """Checks the file against the model, then copies every array into the model.

    source: the file's name, quoted in every error. With skip_mismatch, layers whose arrays do
    not fit are skipped with a warning instead of raising. Arrays the file must not contain
    (links, external or virtual storage, non-numeric types) are refused either way.
    Nothing in the model changes unless every array was read.
    """
    reader = _Reader(h5file, source)
    if reader.link_class(h5file, "model_weights") is not None or "layer_names" in h5file.attrs:
        raise WeightsFileError(
            f"{source}: this is a legacy Keras 2 HDF5 file, not a Keras 3 `.weights.h5` "
            "file. As in Keras, legacy files load from a name ending in `.h5` or `.hdf5` "
            "(not `.weights.h5`): rename it, e.g. to 'name.h5', and load that."
        )
    layers = list(saveables(model))
    planned = []                    # (variable, dataset) pairs, read only once all fit
    problems = []
    for path, obj, weights in layers:
        datasets, problem = _layer_datasets(reader, path, obj, weights)
        if problem:
            problems.append(problem)
        else:
            planned += zip(weights, datasets)
    problems += _extra_layers(reader, model, layers)
    optimizer_planned, optimizer_problem = _plan_optimizer(model, reader, load_optimizer)
    if optimizer_problem:
        problems.append(optimizer_problem)
    if problems and not skip_mismatch:
        raise WeightsFileError("\n".join(problems))
    for problem in problems:
        warnings.warn(f"Skipping: {problem}", stacklevel=3)
    values = [(weight, reader.read(dataset, weight.value.dtype)) for weight, dataset in planned]
    optimizer_values = [(target, reader.read(dataset, target.dtype))
                        for target, dataset in optimizer_planned]
    for weight, value in values:
        weight.assign(value)
    for target, value in optimizer_values:
        target[...] = value


class _Reader:
    """Opens the groups and arrays at paths the caller names, refusing anything that could
    reach outside the file or is not a plain numeric array."""

    def __init__(self, h5file, source):
        self.h5py = import_h5py()
        self.file = h5file
        self.source = source

    def link_class(self, group, name):
        """HardLink, SoftLink or ExternalLink (the class) for group[name], or None if absent.
        Only the link itself is looked at: its target is never opened."""
        if not name or "/" in name or name in (".", ".."):
            raise ValueError(f"not a plain HDF5 name: {name!r}")   # a bug in the caller
        return group.get(name, getclass=True, getlink=True)

    def child(self, group, name, full):
        """The object group[name] links to, or None; raises for a link that is not hard."""
        link = self.link_class(group, name)
        if link is None:
            return None
        if link is not self.h5py.HardLink:
            raise WeightsFileError(
                f"{self.source}: not allowed: '{full}' is a link of type {link.__name__}, "
                "which can point outside the file; a weights file may hold only plain groups "
                "and arrays."
            )
        return group[name]

    def group(self, path):
        """The group at `path` ("a/b/c"), or None if some part of it is missing."""
        group = self.file
        walked = []
        for name in path.split("/") if path else []:
            walked.append(name)
            group = self.child(group, name, "/".join(walked))
            if group is None:
                return None
            if not isinstance(group, self.h5py.Group):
                raise WeightsFileError(
                    f"{self.source}: '{'/'.join(walked)}' should be a group but is an array."
                )
        return group

    def dataset(self, group, name, full):
        """The checked array group[name], or None if absent."""
        dataset = self.child(group, name, full)
        if dataset is None:
            return None
        if not isinstance(dataset, self.h5py.Dataset):
            raise WeightsFileError(
                f"{self.source}: '{full}' should be an array (an HDF5 dataset) but is a "
                f"{type(dataset).__name__.lower()}."
            )
        if dataset.external:
            files = sorted({entry[0] for entry in dataset.external})
            raise WeightsFileError(
                f"{self.source}: not allowed: array '{full}' is an external dataset (its "
                f"data would be read from {files}, outside the file)."
            )
        if dataset.is_virtual:
            raise WeightsFileError(
                f"{self.source}: not allowed: array '{full}' is a virtual dataset (its data "
                "would be read from other datasets or files)."
            )
        problem = _dtype_problem(dataset.dtype, self.h5py)
        if problem:
            raise WeightsFileError(
                f"{self.source}: not allowed: array '{full}' has non-numeric dtype "
                f"{dataset.dtype} ({problem}); weights are plain numeric arrays."
            )
        if dataset.shape is None:
            raise WeightsFileError(
                f"{self.source}: array '{full}' has no shape (an empty HDF5 dataspace)."
            )
        if dataset.chunks is not None:
            itemsize = dataset.dtype.itemsize
            chunk_bytes = math.prod(dataset.chunks) * itemsize
            if chunk_bytes > max(math.prod(dataset.shape) * itemsize, _MAX_CHUNK_BYTES):
                raise WeightsFileError(
                    f"{self.source}: not allowed: array '{full}' of shape {dataset.shape} is "
                    f"stored in chunks of shape {dataset.chunks} ({chunk_bytes} bytes each), "
                    "far larger than the array: reading it would unpack all of that."
                )
        return dataset

    def read(self, dataset, dtype):
        """The array's values as `dtype`; the shape was checked against the model before."""
        try:
            return np.asarray(dataset[()], dtype=dtype)
        except (OSError, TypeError, ValueError) as error:
            raise WeightsFileError(
                f"{self.source}: array '{dataset.name.lstrip('/')}' cannot be read: it is "
                f"damaged or stored in a way h5py cannot decode ({error})."
            ) from None


def _dtype_problem(dtype, h5py):
    """Why an HDF5 element type is not a plain number, or None."""
    if h5py.check_enum_dtype(dtype) is not None:
        return "an HDF5 enum"
    if h5py.check_string_dtype(dtype) is not None:
        return "strings"
    if h5py.check_ref_dtype(dtype) is not None:
        return "HDF5 references"
    if h5py.check_vlen_dtype(dtype) is not None or dtype.metadata:
        return "a variable-length or tagged type"
    if dtype.fields is not None:
        return "a compound type"
    if dtype.subdtype is not None:
        return "an array type"
    if dtype.kind not in _NUMERIC_KINDS:
        return f"NumPy kind {dtype.kind!r}"
    if dtype.itemsize > _MAX_ITEMSIZE:
        return f"{dtype.itemsize} bytes per element"
    return None


def _layer_datasets(reader, path, obj, weights):
    """(the layer's checked datasets in order, None) or (None, why they do not fit)."""
    source = reader.source
    where = _join(path, "vars")
    group = reader.group(where)
    count = 0 if group is None else len(group)
    expected = [w.shape for w in weights]
    if not weights and not count:
        return [], None
    if not count:
        return None, (
            f"{source}: missing weights for layer {obj.name!r}: the file has nothing at "
            f"'{where}'; the layer expects {len(weights)} array(s) with shapes {expected}."
        )
    datasets = [] if count != len(weights) else [
        reader.dataset(group, str(i), f"{where}/{i}") for i in range(count)]
    if count != len(weights) or any(dataset is None for dataset in datasets):
        return None, (
            f"{source}: layer {obj.name!r} expects {len(weights)} weight array(s) named 0 to "
            f"{len(weights) - 1} with shapes {expected}; the file has {count} at '{where}' "
            f"({'extra' if count > len(weights) else 'missing'} weights)."
        )
    for i, (weight, dataset) in enumerate(zip(weights, datasets)):
        if tuple(dataset.shape) != tuple(weight.shape):
            return None, (
                f"{source}: weight {i} of layer {obj.name!r} ({weight.name}) has shape "
                f"{tuple(weight.shape)} in the model but {tuple(dataset.shape)} in the file "
                f"at '{where}'."
            )
    return datasets, None


def _extra_layers(reader, model, layers):
    """Problems for weights saved under a container's `layers` group for a layer the model
    does not have. Looks one level down (`layers/<name>/vars`), never further."""
    paths = {path for path, _, _ in layers}
    problems = []
    for path, obj, _ in layers:
        if not isinstance(getattr(obj, "_layers", None), list):
            continue
        layers_path = _join(path, "layers")
        group = reader.group(layers_path)
        if group is None:
            continue
        known = len(obj._layers)
        if len(group) > known + _MAX_EXTRA_ENTRIES:
            raise WeightsFileError(
                f"{reader.source}: '{layers_path}' holds {len(group)} entries; model "
                f"{model.name!r} has {known} layers there. This is not a weights file for it."
            )
        for name in group:          # the link names only: nothing is opened yet
            full = f"{layers_path}/{name}"
            if full in paths or reader.link_class(group, name) is not reader.h5py.HardLink:
                continue            # a layer of the model, or a link nothing follows
            entry = group[name]
            if not isinstance(entry, reader.h5py.Group):
                continue
            if reader.link_class(entry, "vars") is not reader.h5py.HardLink:
                continue
            arrays = entry["vars"]
            if isinstance(arrays, reader.h5py.Group) and len(arrays):
                problems.append(
                    f"{reader.source}: the file has {len(arrays)} weight array(s) at "
                    f"'{full}/vars' that match no layer of model {model.name!r} "
                    f"(extra weights; the model has {_layer_paths(layers)})."
                )
    return problems


def _layer_paths(layers):
    return [path or "(model)" for path, _, _ in layers]


def _plan_optimizer(model, reader, load_optimizer):
    """Checks the optimizer's arrays against its variables.

    Returns ((state array, dataset) pairs to copy, problem or None).
    """
    optimizer = getattr(model, "optimizer", None)
    if not load_optimizer or optimizer is None or not getattr(model, "compiled", False):
        return [], None
    group = reader.group("optimizer/vars")
    count = 0 if group is None else len(group)
    if not count:
        return [], None
    source = reader.source
    n_head = _optimizer_head_size(optimizer)
    if count > n_head and not optimizer.built:
        optimizer.build(model.trainable_weights)
    targets = optimizer_arrays(optimizer)
    if count == n_head:
        targets = targets[:n_head]      # saved before the first training step: no slots yet
    elif count != len(targets):
        warnings.warn(
            f"{source}: skipping the optimizer state: optimizer {optimizer.name!r} has "
            f"{len(targets)} variables but the file has {count} (was it saved with "
            "another optimizer?).", stacklevel=4)
        return [], None
    datasets = [reader.dataset(group, str(i), f"optimizer/vars/{i}") for i in range(count)]
    if any(dataset is None for dataset in datasets):
        return [], (f"{source}: the optimizer arrays at 'optimizer/vars' are not named 0 to "
                    f"{count - 1}.")
    for i, (target, dataset) in enumerate(zip(targets, datasets)):
        if tuple(dataset.shape) != tuple(np.shape(target)):
            return [], (
                f"{source}: optimizer variable {i} has shape {tuple(np.shape(target))} in "
                f"the model but {tuple(dataset.shape)} in the file at 'optimizer/vars'."
            )
    return list(zip(targets, datasets)), None
