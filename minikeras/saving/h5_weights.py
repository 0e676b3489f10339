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
order. Loading checks the whole file against the model before changing anything: a missing,
extra or wrongly shaped array is an error naming the file and the path inside it.

h5py is optional: it is imported inside the functions that need it.
"""

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
    """A layer's own variables in Keras's order: trainable ones, then non-trainable ones."""
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


def read_weights(h5file, model, source, skip_mismatch=False, load_optimizer=True):
    """Checks the file against the model, then copies every array into the model.

    source: the file's name, quoted in every error. With skip_mismatch, layers whose arrays do
    not fit are skipped with a warning instead of raising.
    """
    h5py = import_h5py()
    if "model_weights" in h5file or "layer_names" in h5file.attrs:
        raise WeightsFileError(
            f"{source}: this is a legacy Keras 2 HDF5 file. minikeras reads Keras 3 weight "
            "files only: load it in Keras and save it again with model.save_weights("
            "'name.weights.h5') or model.save('name.keras')."
        )
    datasets = _all_datasets(h5file, h5py, source)
    assignments = []
    known_paths = set()
    problems = []
    for path, obj, weights in saveables(model):
        known_paths.add(path)
        arrays = datasets.get(path, {})
        problem = _check_layer(path, obj, weights, arrays, source)
        if problem:
            problems.append(problem)
            continue
        assignments += [(weight, arrays[str(i)]) for i, weight in enumerate(weights)]
    optimizer_assignments, optimizer_problem = _plan_optimizer(
        model, datasets, source, load_optimizer)
    known_paths.add("optimizer")
    extra = sorted(path for path, arrays in datasets.items()
                   if arrays and path not in known_paths)
    for path in extra:
        problems.append(
            f"{source}: the file has {len(datasets[path])} weight array(s) at "
            f"'{_join(path, 'vars')}' that match no layer of model {model.name!r} "
            f"(extra weights; the model has {_layer_paths(model)})."
        )
    if optimizer_problem:
        problems.append(optimizer_problem)
    if problems and not skip_mismatch:
        raise WeightsFileError("\n".join(problems))
    for problem in problems:
        warnings.warn(f"Skipping: {problem}", stacklevel=3)
    for weight, dataset in assignments:
        weight.assign(np.asarray(dataset[()], dtype=weight.value.dtype))
    if optimizer_assignments is not None:
        optimizer_assignments()


def _layer_paths(model):
    return [path or "(model)" for path, _, _ in saveables(model)]


def _check_layer(path, obj, weights, arrays, source):
    where = f"'{_join(path, 'vars')}'"
    expected = [w.shape for w in weights]
    if not weights and not arrays:
        return None
    if not arrays and weights:
        return (
            f"{source}: missing weights for layer {obj.name!r}: the file has nothing at "
            f"{where}; the layer expects {len(weights)} array(s) with shapes {expected}."
        )
    keys = sorted(arrays, key=lambda k: (len(k), k))
    if keys != [str(i) for i in range(len(keys))] or len(keys) != len(weights):
        return (
            f"{source}: layer {obj.name!r} expects {len(weights)} weight array(s) with shapes "
            f"{expected}; the file has {len(keys)} at {where} "
            f"({'extra' if len(keys) > len(weights) else 'missing'} weights)."
        )
    for i, weight in enumerate(weights):
        dataset = arrays[str(i)]
        if tuple(dataset.shape) != tuple(weight.shape):
            return (
                f"{source}: weight {i} of layer {obj.name!r} ({weight.name}) has shape "
                f"{tuple(weight.shape)} in the model but {tuple(dataset.shape)} in the file "
                f"at {where}."
            )
    return None


def _plan_optimizer(model, datasets, source, load_optimizer):
    """Checks the optimizer's arrays; returns (a function that assigns them, problem)."""
    optimizer = getattr(model, "optimizer", None)
    arrays = datasets.get("optimizer", {})
    if not load_optimizer or optimizer is None or not getattr(model, "compiled", False) \
            or not arrays:
        return None, None
    keys = sorted(arrays, key=lambda k: (len(k), k))
    if keys != [str(i) for i in range(len(keys))]:
        return None, f"{source}: unexpected optimizer array names {keys} at 'optimizer/vars'."
    n_head = _optimizer_head_size(optimizer)
    if len(keys) > n_head and not optimizer.built:
        optimizer.build(model.trainable_weights)
    targets = optimizer_arrays(optimizer)
    if len(keys) == n_head:
        targets = targets[:n_head]      # saved before the first training step: no slots yet
    elif len(keys) != len(targets):
        warnings.warn(
            f"{source}: skipping the optimizer state: optimizer {optimizer.name!r} has "
            f"{len(targets)} variables but the file has {len(keys)} (was it saved with "
            "another optimizer?).", stacklevel=4)
        return None, None
    for i, target in enumerate(targets):
        dataset = arrays[str(i)]
        if tuple(dataset.shape) != tuple(np.shape(target)):
            return None, (
                f"{source}: optimizer variable {i} has shape {tuple(np.shape(target))} in "
                f"the model but {tuple(dataset.shape)} in the file at 'optimizer/vars'."
            )

    def assign():
        for i, target in enumerate(targets):
            target[...] = np.asarray(arrays[str(i)][()], dtype=target.dtype)

    return assign, None


def _all_datasets(h5file, h5py, source):
    """{owner path: {index: dataset}} for every array in a `vars` group.

    Only hard links are followed: a soft or external link (which could point outside the
    file) is an error, and so is any array that is not numeric.
    """
    found = {}
    problems = []

    def visit(name, link_owner):
        for key in link_owner:
            link = link_owner.get(key, getlink=True)
            full = f"{name}/{key}" if name else key
            if not isinstance(link, h5py.HardLink):
                problems.append(f"{source}: '{full}' is a {type(link).__name__}; only plain "
                                "groups and arrays are allowed in a weights file.")
                continue
            child = link_owner[key]
            if isinstance(child, h5py.Group):
                visit(full, child)
            elif isinstance(child, h5py.Dataset):
                parts = full.split("/")
                if len(parts) < 2 or parts[-2] != "vars":
                    problems.append(f"{source}: unexpected array '{full}' (not in a 'vars' "
                                    "group): this is not a Keras weights file.")
                    continue
                if child.dtype.kind not in "biuf":
                    problems.append(f"{source}: array '{full}' has non-numeric dtype "
                                    f"{child.dtype}.")
                    continue
                found.setdefault("/".join(parts[:-2]), {})[parts[-1]] = child

    visit("", h5file)
    if problems:
        raise WeightsFileError("\n".join(problems))
    return found
