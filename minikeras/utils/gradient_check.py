"""Gradient checking: backpropagation against finite differences, weight by weight.

Backpropagation is the chain rule applied layer by layer; a single wrong transpose or a missing
factor in one `backward` gives gradients that are wrong but still make the loss go down for a
while. Gradient checking catches that: for every weight entry w, nudge it both ways and measure
how the loss changes,

    dE/dw  ~  (E(w + h) - E(w - h)) / (2 h)          (central difference, error O(h^2))

then compare with the gradient backpropagation computed. The comparison per weight array is the
relative error

    ||g_backprop - g_numeric|| / (||g_backprop|| + ||g_numeric||)

which is scale-free: about 1e-10 when backward is right (in float64), 1e-2 or more when it is
not. Each entry needs two full forward passes, so this is for small models (a few hundred or
thousand weights); `max_entries` samples a subset of a large weight.

Precision. Finite differences need float64: in float32 the rounding error of E (~1e-7 E) divided
by 2h swamps the derivative. So the check always runs in float64: a float32 model is checked on
float64 copies of its weights (and float64 inputs), and the model is left exactly as it was.

Randomness. With `training=False` (the default) the model runs as in `evaluate`: Dropout passes
its input through, so the loss is a deterministic function of the weights. With `training=True`
Dropout draws masks; the random generators are rewound before every evaluation of the loss, so
every evaluation (and the backpropagation) sees the same masks -- this checks Dropout's backward
too. Either way the random generators are left as they were found.

Kinks. ReLU and its relatives are not differentiable at some points (relu at 0, hard_tanh at
-1 and 1, ...). Where a nudge of h moves a pre-activation (the activation's input) across such a
point, the finite difference measures the average of two different slopes and says nothing
about the derivative: that entry would show a large error although backpropagation is right.
This is not rare: a freshly initialised ReLU network has zero biases, so a sample whose inputs
to a layer are all 0 (every ReLU before it off) has a pre-activation of exactly 0, right on the
kink, and nudging that layer's bias crosses it. So the check watches every activation with
kinks (KINKS lists them), records on which side of each kink every pre-activation lies at w, at
w + h and at w - h, and when any side changes it reports the entry as a "kink" and leaves it
out of the relative error. A wrong backward still shows in every other entry. (Ties in max
pooling are kinks too; they are not detected: with random inputs exact ties are rare.)
"""

import contextlib

import numpy as np

from minikeras import backend
from minikeras.activations.base import ActivationFunction
from minikeras.sparse_rows import dense

# The points where an activation is not differentiable, as a layer uses it (with its default
# arguments). Activations not listed are differentiable everywhere, or, like elu and celu with
# alpha = 1, have a continuous slope, which central differences handle.
KINKS = {
    "relu": (0.0,),
    "leaky_relu": (0.0,),
    "relu6": (0.0, 6.0),
    "selu": (0.0,),
    "hard_sigmoid": (-3.0, 3.0),
    "hard_silu": (-3.0, 3.0),
    "sparse_sigmoid": (-1.0, 1.0),
    "hard_tanh": (-1.0, 1.0),
    "soft_shrink": (-0.5, 0.5),
    "hard_shrink": (-0.5, 0.5),
    # Piecewise linear along the last axis: its pieces are its supports (which outputs are > 0).
    "sparsemax": None,
}


def check_gradients(model, x, y, epsilon=1e-5, sample_weight=None, training=False,
                    max_entries=None, print_table=False, tolerance=1e-6, seed=0):
    """Compares backpropagation with central finite differences for every trainable weight.

    Args:
        model: a compiled minikeras model (the loss comes from `compile`, including the
            regularization penalties, as in training).
        x: inputs, (batch, ...), or a list / dict of them for a model with several inputs.
            Keep the batch small: the loss is evaluated 2 times per entry.
        y: targets, (batch, ...), or a list / dict (one per output).
        epsilon: the step h of the central difference. 1e-5 balances truncation error (h^2)
            and rounding error (1e-16 / h) in float64.
        sample_weight: optional (batch,) per-sample loss weights.
        training: False (default): inference behaviour (Dropout off). True: training behaviour
            with fixed random masks (see the module docstring).
        max_entries: None to check every entry; an integer to check at most that many entries
            of each weight, chosen at random (with `seed`); the others are left out of the error.
        print_table: print one line per weight: path, shape, gradient norms, relative error,
            entries left out as kinks.
        tolerance: the relative error above which the printed table marks a weight "FAIL".
        seed: seed for choosing the sampled entries when `max_entries` is set.

    Returns:
        GradientCheck: a dict mapping each trainable weight's path ("dense/kernel") to its
        relative error over the entries checked, kinks left out (a float; 0.0 when both
        gradients are exactly zero, nan when every entry checked was a kink). Its `kinks`
        attribute maps each path to the flat indices of the entries left out as kinks, and
        `rows` holds what the table prints, with the two gradients of the checked entries.

    Raises:
        RuntimeError: the model is not compiled (there is no loss to differentiate).
        ValueError: epsilon is not a positive number, or max_entries is not a positive integer.
    """
    if not getattr(model, "compiled", False):
        raise RuntimeError(
            "check_gradients needs a compiled model (the loss to differentiate comes from "
            f"compile()). Model {model.name!r} is not compiled."
        )
    if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not epsilon > 0:
        raise ValueError(f"`epsilon` must be a positive number. Received: epsilon={epsilon!r}")
    if max_entries is not None and (isinstance(max_entries, bool)
                                    or not isinstance(max_entries, (int, np.integer))
                                    or max_entries < 1):
        raise ValueError(
            f"`max_entries` must be None or a positive integer. Received: "
            f"max_entries={max_entries!r}"
        )
    from minikeras.models.model import _flatten_structure

    if not model.built:
        model.build((None,) + np.shape(x)[1:])
    # Any model: x and y as one array, a list or a dict (per input / output), in float64
    # (integer inputs, such as token ids, stay integer).
    x = [_float64_array(a) for a in model._input_arrays(x, "x")]
    y = [_float64_array(np.asarray(a)) for a in _flatten_structure(
        y, model.output_names_list(), "y", "output", getattr(model, "_output_keys", None))]
    if len(y) == 1:
        y = y[0]
    if sample_weight is not None:
        sample_weight = np.asarray(sample_weight, dtype=np.float64)

    rng = np.random.default_rng(seed)
    rows = []
    with _float64(model), _rewound_generators(model) as rewind, _watched_kinks(model) as sides:

        def loss_and_gradients():
            rewind()
            y_pred, tape = model._forward(x, training=training)
            loss, dy, from_logits = model._loss_and_output_gradients(y, y_pred, tape, sample_weight)
            return float(loss), model._gradients(dy, tape, from_logits)

        def loss_and_sides():
            rewind()
            y_pred, tape = model._forward(x, training=training)
            loss = model._loss_and_output_gradients(y, y_pred, tape, sample_weight)[0]
            return float(loss), sides()

        _, backprop = loss_and_gradients()
        base_sides = sides()
        for weight, analytic in zip(model.trainable_weights, backprop):
            # dense(): an Embedding's SparseRows becomes its summed (input_dim, output_dim) array.
            analytic = np.asarray(dense(analytic), dtype=np.float64).reshape(weight.shape)
            entries = np.arange(weight.value.size)
            if max_entries is not None and entries.size > max_entries:
                entries = np.sort(rng.choice(entries, size=max_entries, replace=False))
            numeric, kinked = _numeric_gradient(weight, entries, epsilon, loss_and_sides,
                                                base_sides)
            chosen = analytic.reshape(-1)[entries]
            smooth = ~kinked
            rows.append({
                "path": weight.path,
                "shape": weight.shape,
                "checked": entries.size,
                "kinks": int(kinked.sum()),
                "kink_entries": entries[kinked],
                "backprop": chosen,
                "numeric": numeric,
                "backprop_norm": float(np.linalg.norm(chosen[smooth])),
                "numeric_norm": float(np.linalg.norm(numeric[smooth])),
                "relative_error": (relative_error(chosen[smooth], numeric[smooth])
                                   if smooth.any() else float("nan")),
            })
    if print_table:
        print(format_gradient_table(rows, tolerance))
    return GradientCheck(rows)


class GradientCheck(dict):
    """check_gradients' result: {weight path: relative error}, kinks left out.

    kinks: {weight path: flat indices of the entries left out as kinks}.
    rows: one dict per weight, as format_gradient_table prints them.
    """

    def __init__(self, rows):
        super().__init__((row["path"], row["relative_error"]) for row in rows)
        self.rows = rows
        self.kinks = {row["path"]: row["kink_entries"].tolist() for row in rows}


def _numeric_gradient(weight, entries, epsilon, loss_and_sides, base_sides):
    """Central differences (E(w + h) - E(w - h)) / 2h for the given flat entries of `weight`.

    One entry at a time (each nudge needs a full forward pass); the entry is restored exactly
    after each pair of evaluations. An entry whose nudges move any pre-activation to another
    side of a kink than at w (see the module docstring) is marked as a kink.
    Returns (numeric, kinked): (len(entries),) float64 and bool.
    """
    flat = weight.value.reshape(-1)          # a view: writing to it changes the weight
    numeric = np.empty(entries.size)
    kinked = np.zeros(entries.size, dtype=bool)
    for i, entry in enumerate(entries):
        original = flat[entry]
        flat[entry] = original + epsilon
        loss_plus, sides_plus = loss_and_sides()
        flat[entry] = original - epsilon
        loss_minus, sides_minus = loss_and_sides()
        flat[entry] = original
        numeric[i] = (loss_plus - loss_minus) / (2.0 * epsilon)
        kinked[i] = _crossed(base_sides, sides_plus) or _crossed(base_sides, sides_minus)
    return numeric, kinked


def _crossed(base_sides, sides):
    """True when some pre-activation lies on another side of a kink than at the base point."""
    return any(not np.array_equal(a, b) for a, b in zip(base_sides, sides))


def relative_error(analytic, numeric):
    """||a - n|| / (||a|| + ||n||): 0 when equal, 1 when one is zero and the other is not."""
    analytic = np.asarray(analytic, dtype=np.float64).reshape(-1)
    numeric = np.asarray(numeric, dtype=np.float64).reshape(-1)
    denominator = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if denominator == 0.0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / denominator)


def format_gradient_table(rows, tolerance=1e-6):
    """The table check_gradients prints: one line per weight, in the model's weight order.

    The verdict is "ok" or "FAIL" on the entries checked that are not kinks, "kink" when all of
    them were kinks.
    """
    header = (f"{'weight':<28} {'shape':<16} {'checked':>7} {'kinks':>5} {'|backprop|':>11} "
              f"{'|numeric|':>11} {'rel. error':>10}  ok?")
    lines = [header, "-" * len(header)]
    for row in rows:
        kinks = row.get("kinks", 0)
        if kinks == row["checked"]:
            verdict = "kink"
        else:
            verdict = "ok" if row["relative_error"] <= tolerance else "FAIL"
        lines.append(
            f"{row['path']:<28} {str(row['shape']):<16} {row['checked']:>7} {kinks:>5} "
            f"{row['backprop_norm']:>11.4e} {row['numeric_norm']:>11.4e} "
            f"{row['relative_error']:>10.2e}  {verdict}"
        )
    lines.append(f"(relative error = ||backprop - numeric|| / (||backprop|| + ||numeric||); "
                 f"FAIL above {tolerance:g})")
    if any(row.get("kinks", 0) for row in rows):
        lines.append("(kinks: entries whose nudge of +-epsilon moved a pre-activation across a "
                     "point where its activation is not differentiable, such as relu's 0: the "
                     "finite difference is meaningless there, so they are left out of the "
                     "relative error and the verdict)")
    return "\n".join(lines)


# ------------------------------------------------------------------------------------ helpers


def _all_layers(model):
    """Every layer of the model, nested models' layers included."""
    found = []
    for layer in getattr(model, "layers", []):
        found.append(layer)
        if hasattr(layer, "layers"):
            found.extend(_all_layers(layer))
    return found


@contextlib.contextmanager
def _float64(model):
    """Runs the model in float64 and puts everything back afterwards.

    The weights' arrays are swapped for float64 copies (the original arrays are put back, so
    nothing the check does to the copies reaches the model); the layers' and the loss's dtype
    and the global floatx, which some layers use to cast their inputs, are set to float64.
    """
    saved_values = [(w, w.value) for w in model.weights]
    dtype_owners = [model, *_all_layers(model)]
    if getattr(model, "loss", None) is not None and hasattr(model.loss, "dtype"):
        dtype_owners.append(model.loss)
    saved_dtypes = [(owner, owner.dtype) for owner in dtype_owners
                    if isinstance(getattr(owner, "dtype", None), str)]
    saved_floatx = backend.floatx()
    try:
        for weight, value in saved_values:
            weight.value = np.array(value, dtype=np.float64)
        for owner, _ in saved_dtypes:
            owner.dtype = "float64"
        backend.set_floatx("float64")
        yield
    finally:
        for weight, value in saved_values:
            weight.value = value
        for owner, dtype in saved_dtypes:
            owner.dtype = dtype
        backend.set_floatx(saved_floatx)


class _KinkWatch:
    """Stands in for a layer's activation while the check runs: runs the activation and notes,
    for every pre-activation it receives, which piece of the activation (which side of each
    kink) it falls on."""

    def __init__(self, activation, kinks):
        self.activation = activation
        self.kinks = kinks
        self.sides = []

    def forward(self, z, **kwargs):
        y, cache = self.activation.forward(z, **kwargs)
        if self.kinks is None:                      # sparsemax: its support
            self.sides.append(y > 0)
        else:                                       # 0 below the first kink, 1 past it, ...
            self.sides.append(np.searchsorted(self.kinks, z))
        return y, cache

    def __getattr__(self, name):
        # backward, outputs_probabilities, __name__...: the activation's own.
        return getattr(self.activation, name)


@contextlib.contextmanager
def _watched_kinks(model):
    """Yields `sides()`, which returns (and forgets) the sides recorded since the last call:
    one array per call of each watched activation. The layers get their activations back on
    exit."""
    watches = []
    for layer in _all_layers(model):
        activation = getattr(layer, "activation", None)
        if isinstance(activation, ActivationFunction) and activation.__name__ in KINKS:
            watches.append((layer, _KinkWatch(activation, KINKS[activation.__name__])))

    def sides():
        recorded = []
        for _, watch in watches:
            recorded.extend(watch.sides)
            watch.sides = []
        return recorded

    try:
        for layer, watch in watches:
            layer.activation = watch
        yield sides
    finally:
        for layer, watch in watches:
            layer.activation = watch.activation


@contextlib.contextmanager
def _rewound_generators(model):
    """Yields `rewind()`, which puts every random generator the model may draw from (the
    global one and any a layer owns, such as a seeded Dropout's) back to its state at entry.
    On exit the generators are left in that state too."""
    from minikeras import random

    generators = [random.generator()]
    for layer in _all_layers(model):
        for value in vars(layer).values():
            if isinstance(value, np.random.Generator) and not any(value is g for g in generators):
                generators.append(value)
    states = [g.bit_generator.state for g in generators]

    def rewind():
        for generator, state in zip(generators, states):
            generator.bit_generator.state = state

    try:
        yield rewind
    finally:
        rewind()


def _float64_array(array):
    array = np.asarray(array)
    return array.astype(np.float64) if np.issubdtype(array.dtype, np.floating) else array
