"""`Optimizer`: what every optimizer shares.

One training step, `apply(grads, variables)`, in the order Keras applies it:

    1. drop the variables whose gradient is None;
    2. clip the gradients (clipnorm, else global_clipnorm, else clipvalue);
    3. decoupled weight decay, on every variable not excluded:  w -= w * weight_decay * lr
       (lr is the learning rate of this step; nothing is excluded unless
       `exclude_from_weight_decay` says so, biases included);
    4. the optimizer's own rule, `update_step(gradient, variable, lr)`, variable by variable
       (Adam, AdamW and SGD call it once on all the variables packed end to end, with the
       same result: see `FlatLayout`);
    5. with use_ema, the moving averages of the weights: a = m a + (1 - m) w (m = 0 on the
       first step, ema_momentum afterwards), copied into the weights every
       ema_overwrite_frequency steps and by `finalize_variable_values` at the end of fit;
    6. each variable's constraint, if any;
    7. the step count += 1.

An Embedding's gradient arrives as `SparseRows` (one row per occurrence of an id, as Keras's
tf.IndexedSlices). Each update_step says what it does with one, following what TensorFlow's ops
make of Keras's rule: squares of the gradient are taken per occurrence and summed per row
(`sparse_rows.squares`); wherever the gradient meets a dense array it is summed per row
(`sparse_rows.dense`). clipnorm and clipvalue keep it sparse (the norm counts each
occurrence's row); global_clipnorm, gradient accumulation and a weight regularizer's gradient
make it dense, as in Keras.

With gradient_accumulation_steps = N, steps 2-4 run only on every N-th call, with the mean of
the last N gradients; the other calls only add their gradients to accumulators. `iterations`
then counts the real updates (calls // N), which is what the update rules see, while a
learning-rate schedule sees the number of calls, as in Keras.

Constant hyperparameters that Keras casts to the variable's dtype (beta_1, beta_2, momentum,
weight_decay, ...) are rounded to float32 first, as TensorFlow turns a Python float into a
float32 tensor before the cast; only float64 runs can tell the difference.

The learning rate may be a float, a `LearningRateSchedule` (evaluated at the 0-based count of
calls made so far) or a callable taking no argument.

State, in Keras's order (`optimizer.variables`): the call count (int64), the learning rate
(only when it is a float), the EMA averages (use_ema), the gradient accumulators
(gradient_accumulation_steps), then the per-variable state the subclass lists in
`state_arrays()`. The arrays are live: writing into them (`a[...] = saved`) restores a state.
"""

import re
import warnings

import numpy as np

from minikeras import backend
from minikeras.optimizers import schedules
from minikeras.sparse_rows import SparseRows, dense, squares
from minikeras.utils.naming import to_snake_case
from minikeras.variables import Variable


class Optimizer:
    """Base class of optimizers.

    Args:
        learning_rate: a float, a `LearningRateSchedule`, or a callable with no argument.
        weight_decay: decoupled weight decay factor, or None.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient entry to [-clipvalue, clipvalue].
        global_clipnorm: clip all gradients together to this global L2 norm.
        loss_scale_factor: accepted for compatibility. Keras multiplies the loss by it and
            divides the gradients by it again, which only matters in float16; minikeras's
            gradients are exact, so it changes nothing.
        use_ema: keep an exponential moving average of the weights (default False).
        ema_momentum: its momentum, in [0, 1] (default 0.99).
        ema_overwrite_frequency: copy the averages into the weights every this many steps
            (None: only at the end of training, through `finalize_variable_values`).
        gradient_accumulation_steps: an integer >= 2, or None: update every this many calls
            with the mean gradient.
        name: optimizer name (default: the class name in snake case, made unique).
    """

    def __init__(self, learning_rate, weight_decay=None, clipnorm=None, clipvalue=None,
                 global_clipnorm=None, use_ema=False, ema_momentum=0.99,
                 ema_overwrite_frequency=None, loss_scale_factor=None,
                 gradient_accumulation_steps=None, name=None, **kwargs):
        if kwargs.pop("decay", None) is not None:
            warnings.warn("Argument `decay` is no longer supported and will be ignored.",
                          stacklevel=2)
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if gradient_accumulation_steps is not None:
            _check_integer("gradient_accumulation_steps", gradient_accumulation_steps, 2)
        if use_ema:
            check_number("ema_momentum", ema_momentum, 0.0, 1.0)
            if ema_overwrite_frequency is not None:
                _check_integer("ema_overwrite_frequency", ema_overwrite_frequency, 1)
        if sum(arg is not None for arg in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        for arg_name, value in (("clipnorm", clipnorm), ("clipvalue", clipvalue),
                                ("global_clipnorm", global_clipnorm),
                                ("weight_decay", weight_decay),
                                ("loss_scale_factor", loss_scale_factor)):
            if value is not None:
                check_number(arg_name, value, low=0.0)
        if name is not None and not isinstance(name, str):
            raise TypeError(f"`name` must be a string. Received: name={name!r}")
        self.name = name or backend.unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.loss_scale_factor = loss_scale_factor
        self.gradient_accumulation_steps = gradient_accumulation_steps
        self._iterations = np.zeros((), dtype=np.int64)
        self._learning_rate = _as_learning_rate(learning_rate)
        self._exclude_ids = set()
        self._exclude_pattern = None
        self.built = False
        self._trainable_variables = []
        self._indices = {}
        self._averages = []              # use_ema: one moving average per variable
        self._accumulated_gradients = []  # gradient_accumulation_steps: one sum per variable

    # ------------------------------------------------------------ learning rate

    @property
    def iterations(self):
        """Updates made so far (0 before the first): the calls to `apply`, divided by
        gradient_accumulation_steps when gradients are accumulated."""
        if self.gradient_accumulation_steps:
            return int(self._iterations) // self.gradient_accumulation_steps
        return int(self._iterations)

    @property
    def learning_rate(self):
        """The learning rate of the coming step: for a float, a 0-d array of floatx on which
        `float(lr)`, `lr.numpy()` and `lr.assign(0.01)` work as on Keras's variable (see
        `ScalarState`); for a schedule, its float32 value at the number of calls to `apply`
        so far."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return self._learning_rate(int(self._iterations))
        if isinstance(self._learning_rate, np.ndarray):
            snapshot = self._learning_rate.copy()
            snapshot.source = self._learning_rate
            return snapshot
        return self._learning_rate()

    def _learning_rate_now(self):
        """The learning rate of this step: `learning_rate` without the snapshot copy."""
        if isinstance(self._learning_rate, np.ndarray):
            return self._learning_rate
        return self.learning_rate

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
        elif isinstance(self._learning_rate, np.ndarray):
            self._learning_rate[...] = _as_learning_rate(value)
        elif isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` as its "
                "`learning_rate`, so its learning rate cannot be set to a number. Create the "
                f"optimizer with a float learning rate instead. Received: learning_rate={value!r}"
            )
        else:
            self._learning_rate = _as_learning_rate(value)

    # -------------------------------------------------------------------- state

    _layout = None   # a FlatLayout, for optimizers whose update_step runs on all at once

    def build(self, variables):
        """Creates the per-variable state. Subclasses extend it (and return early when
        already built, as Keras's do)."""
        self._trainable_variables = list(variables)
        self._indices = {id(v): i for i, v in enumerate(self._trainable_variables)}
        if self.use_ema:
            self._averages = [self.add_slot(v) for v in variables]
        if self.gradient_accumulation_steps:
            self._accumulated_gradients = [self.add_slot(v) for v in variables]
        self.built = True

    def add_slot(self, variable, initial_value=0.0):
        """An array shaped like `variable` and of its dtype, filled with `initial_value`:
        one piece of the optimizer's per-variable state (a momentum, an accumulator...)."""
        return np.full(variable.shape, initial_value, dtype=variable.value.dtype)

    def _index(self, variable):
        """Position of `variable` in the list the optimizer was built with."""
        return self._indices[id(variable)]

    @property
    def variables(self):
        """The optimizer's state as live arrays, in Keras's order: the call count, the learning
        rate (unless it is a schedule or a callable), then, once built, the EMA averages and
        gradient accumulators (when enabled) and `state_arrays()`."""
        arrays = [self._iterations]
        if isinstance(self._learning_rate, np.ndarray):
            arrays.append(self._learning_rate)
        if not self.built:  # no per-variable state yet
            return arrays
        return arrays + self._averages + self._accumulated_gradients + list(self.state_arrays())

    def state_arrays(self):
        """The per-variable state, in the order Keras creates its optimizer variables."""
        return []

    def set_weights(self, weights):
        """Overwrites the state (`variables`) with a list of arrays of the same shapes."""
        if not self.built:
            raise ValueError(
                "You are calling `set_weights()` on an optimizer that has not been built yet. "
                "Call `optimizer.build(trainable_variables)` first."
            )
        arrays = self.variables
        if len(weights) != len(arrays):
            raise ValueError(
                f"Optimizer {self.name!r} has {len(arrays)} variables. "
                f"Received: {len(weights)} weights."
            )
        for i, (array, weight) in enumerate(zip(arrays, weights)):
            weight = np.asarray(weight)
            if weight.shape != array.shape:
                raise ValueError(
                    f"Optimizer variable {i} has shape {array.shape}, not compatible with the "
                    f"provided weight shape {weight.shape}."
                )
            array[...] = weight

    def save_own_variables(self, store):
        """Writes the state into `store` (a dict-like) under the keys "0", "1", ..."""
        for i, array in enumerate(self.variables):
            store[str(i)] = np.array(array)

    def load_own_variables(self, store):
        """Reads the state written by `save_own_variables` (by Keras's as well)."""
        arrays = self.variables
        if len(store.keys()) != len(arrays):
            warnings.warn(
                f"Skipping variable loading for optimizer {self.name!r}, because it has "
                f"{len(arrays)} variables whereas the saved optimizer has {len(store.keys())} "
                "variables.",
                stacklevel=2,
            )
            return
        for i, array in enumerate(arrays):
            array[...] = np.asarray(store[str(i)])

    # ------------------------------------------------------------- weight decay

    def exclude_from_weight_decay(self, var_list=None, var_names=None):
        """Leaves some variables out of weight decay: those in `var_list`, and those whose
        name contains one of the strings (regular expressions) in `var_names`."""
        self._exclude_ids = {id(v) for v in var_list or []}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable):
        if id(variable) in self._exclude_ids:
            return False
        if self._exclude_pattern is not None and self._exclude_pattern.search(variable.name):
            return False
        return True

    def _apply_weight_decay(self, variables, learning_rate):
        """w -= w * weight_decay * lr, in the variable's dtype, for every variable not
        excluded."""
        if self.weight_decay is None:
            return
        for variable in variables:
            if self._use_weight_decay(variable):
                dtype = variable.value.dtype.type
                decay = dtype(np.float32(self.weight_decay)) * dtype(learning_rate)
                variable.value -= variable.value * decay

    # -------------------------------------------------------------------- steps

    def apply_gradients(self, grads_and_vars):
        """Applies one update from (gradient, variable) pairs. Returns `iterations`."""
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Applies one update.

        Args:
            grads: list of arrays, grads[i] shaped like trainable_variables[i] (None: no
                gradient for that variable, which is then left alone).
            trainable_variables: list of Variable. May be omitted once the optimizer is built:
                grads then match the variables it was built with.
        """
        if len(grads) == 0:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    f"Received {len(grads)} gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if not self.built:
                self.build(trainable_variables)
            if trainable_variables != self._trainable_variables:    # (fit passes those)
                self._check_known(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        if not pairs:
            raise ValueError("No gradients provided for any variable.")
        if len(pairs) < len(trainable_variables):
            missing = [v.path for g, v in zip(grads, trainable_variables) if g is None]
            warnings.warn(f"Gradients do not exist for variables {missing} when minimizing "
                          "the loss.", stacklevel=2)
        variables = [v for _, v in pairs]
        grads = [_in_dtype(g, v.value.dtype) for g, v in pairs]
        if not self.gradient_accumulation_steps:
            self._update(grads, variables)
        else:
            steps = self.gradient_accumulation_steps
            sums = [self._accumulated_gradients[self._index(v)] for v in variables]
            if (int(self._iterations) + 1) % steps == 0:
                self._update([(g + s) / steps for g, s in zip(grads, sums)], variables)
                for s in self._accumulated_gradients:
                    s[...] = 0
            else:
                for g, s in zip(grads, sums):
                    s += dense(g)
        if self.use_ema:
            self._update_moving_averages()
        for variable in variables:
            if variable.constraint is not None:
                variable.value[...] = variable.constraint(variable.value)
        self._iterations += 1

    def _check_known(self, variables):
        for variable in variables:
            if id(variable) not in self._indices:
                raise ValueError(
                    f"Unknown variable: {variable!r}. This optimizer can only be called "
                    "for the variables it was built with. Create a new optimizer for a "
                    "new set of variables."
                )

    def _update(self, grads, variables):
        """Clipping, weight decay and the update rule: one real update."""
        grads = self._clip_gradients(grads)
        learning_rate = self._learning_rate_now()
        self._apply_weight_decay(variables, learning_rate)
        self._update_steps(grads, variables, learning_rate)

    def _update_moving_averages(self):
        """a = m a + (1 - m) w for every variable, with m = 0 on the first update (the
        average starts as a copy of the weights); then, every ema_overwrite_frequency
        updates, w = a."""
        for variable, average in zip(self._trainable_variables, self._averages):
            dtype = variable.value.dtype.type
            momentum = dtype(self.iterations != 0) * dtype(self.ema_momentum)
            average[...] = momentum * average + (1 - momentum) * variable.value
        frequency = self.ema_overwrite_frequency
        if frequency and (self.iterations + 1) % frequency == 0:
            self._copy_averages_into(self._trainable_variables)

    def _copy_averages_into(self, variables):
        if len(variables) != len(self._averages):
            raise ValueError(
                f"Expected {len(self._averages)} variables (those the optimizer was built "
                f"with). Received: {len(variables)} variables."
            )
        for variable, average in zip(variables, self._averages):
            variable.value[...] = average

    def _update_steps(self, grads, variables, learning_rate):
        """Runs `update_step` on each variable, or once on all of them packed end to end
        (see FlatLayout) when the optimizer keeps a flat layout that covers them. Optimizers
        with state shared by all the variables (Nadam) update it here first."""
        layout = self._layout
        # An Embedding's per-occurrence gradient (SparseRows) cannot be packed flat: then the
        # rule runs variable by variable.
        sparse = any(isinstance(grad, SparseRows) for grad in grads)
        if layout is not None and not sparse and self._packs_variables() and \
                layout.covers(variables):
            # One call of the rule on every weight laid end to end: elementwise, so each
            # number goes through the same float operations as in a call per variable.
            self.update_step(layout.gather(grads), layout.packed, learning_rate)
            return
        for grad, variable in zip(grads, variables):
            self.update_step(grad, variable, learning_rate)

    def _packs_variables(self):
        """Whether update_step may run once on the packed variables of a FlatLayout: only
        for an elementwise rule (each number's update depends on that number alone). Adam
        and SGD say yes for their own update_step."""
        return False

    def scratch(self, variable):
        """Two work arrays shaped like `variable`, in its dtype, for update_step's
        intermediate results: the flat layout's own for its packed variable, else kept per
        variable (made on first use)."""
        if self._layout is not None and variable is self._layout.packed:
            return self._layout.scratch
        if not hasattr(self, "_scratch_arrays"):
            self._scratch_arrays = {}
        key = id(variable)
        arrays = self._scratch_arrays.get(key)
        if arrays is None or arrays[0].shape != variable.shape or \
                arrays[0].dtype != variable.value.dtype:
            arrays = (np.empty_like(variable.value), np.empty_like(variable.value))
            self._scratch_arrays[key] = arrays
        return arrays

    def slot(self, slots, variable):
        """`variable`'s array in `slots` (one array per variable, such as an Adam's
        momentums); for the packed variable of a FlatLayout, the flat array those arrays
        are views of."""
        if self._layout is not None and variable is self._layout.packed:
            return self._layout.flat_array_of(slots)
        return slots[self._index(variable)]

    def update_step(self, gradient, variable, learning_rate):
        """Updates `variable.value` (and the optimizer's state for it) in place.

        Args:
            gradient: array shaped like the variable, in its dtype, or a SparseRows (see
                the module docstring). Never modified.
            variable: the Variable.
            learning_rate: the learning rate of this step (a scalar).
        """
        raise NotImplementedError(
            f"{type(self).__name__} must implement update_step(gradient, variable, "
            "learning_rate)."
        )

    def _clip_gradients(self, grads):
        if self.clipnorm:
            return [_clip_by_norm(g, self.clipnorm) for g in grads]
        if self.global_clipnorm:
            return _clip_by_global_norm(grads, self.global_clipnorm)
        if self.clipvalue:
            return [_clip_by_value(g, self.clipvalue) for g in grads]
        return grads

    def scale_loss(self, loss):
        """The loss times `loss_scale_factor` (Keras's float16 helper)."""
        return loss if self.loss_scale_factor is None else loss * self.loss_scale_factor

    def finalize_variable_values(self, var_list):
        """End of training (fit calls it): with use_ema, the weights take their moving
        averages; otherwise nothing happens."""
        if self.use_ema:
            self._copy_averages_into(list(var_list))

    # ------------------------------------------------------------ configuration

    def get_config(self):
        """The constructor arguments, with Keras's keys."""
        learning_rate = self._learning_rate
        if isinstance(learning_rate, schedules.LearningRateSchedule):
            learning_rate = schedules.serialize(learning_rate)
        elif isinstance(learning_rate, np.ndarray):
            learning_rate = float(learning_rate)
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(config["learning_rate"],
                                                            custom_objects=custom_objects)
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}, built={self.built}>"


# --------------------------------------------------- all variables as one flat array


class FlatLayout:
    """The variables an optimizer was built with, laid end to end in one flat array.

    Tiny models spend their optimizer time on NumPy call overhead, not arithmetic: Adam's
    dozen operations per variable cost about the same for 4 numbers as for 4,000. An
    optimizer whose rule is elementwise can instead keep each kind of state (Adam's m, v) in
    one flat array (`slots`; the per-variable arrays are views of it, so `state_arrays()`,
    saving and `set_weights` see the same numbers), and the weights themselves too: the
    layout moves every variable's value into one flat array, the value of the variable
    `packed`, each variable keeping a view of its own part (its shape and numbers
    unchanged). The optimizer then gathers the gradients into one flat array (`gather`) and
    calls its own `update_step` once, on `packed`, which updates every weight in place. The
    rule that runs is the one `update_step` states; every element goes through the same
    float operations, so the result is bit for bit the same as calling it variable by
    variable.

    It applies only while the step is about exactly the variables it was built with, in that
    order, all of one dtype, with their arrays not swapped since (`covers`): a variable whose
    value was replaced by another array is updated by update_step on its own.

    variables: list of Variable, all of one float dtype.
    """

    def __init__(self, variables):
        self.variables = list(variables)
        self.dtype = self.variables[0].value.dtype
        self.shapes = [v.value.shape for v in self.variables]
        ends = np.cumsum([v.value.size for v in self.variables])
        self.bounds = list(zip([0, *ends[:-1]], ends))
        self.size = int(ends[-1])
        self.gradient = np.empty(self.size, dtype=self.dtype)     # gather() fills it
        self._flat_arrays = {}      # id(per-variable views) -> the flat array (slots())
        # The packed variable: every weight end to end; each variable's value becomes a view
        # of its part, so that updating packed.value updates them all.
        self.packed = Variable(np.zeros(0, dtype=self.dtype), name="packed")
        self.packed.value = np.concatenate([v.value.reshape(-1) for v in self.variables])
        self.values = self.views_of(self.packed.value)
        for variable, view in zip(self.variables, self.values):
            variable.value = view
        # Two work arrays for update_step's intermediate results (Optimizer.scratch).
        self.scratch = (np.empty(self.size, self.dtype), np.empty(self.size, self.dtype))

    @staticmethod
    def fits(variables):
        """Whether the variables can share one flat layout (some, all of one float dtype)."""
        return bool(variables) and len({v.value.dtype for v in variables}) == 1

    def views_of(self, flat):
        """The per-variable arrays of a flat array: views of it, in the variables' shapes."""
        return [flat[start:stop].reshape(shape)
                for (start, stop), shape in zip(self.bounds, self.shapes)]

    def slots(self, initial_value=0.0):
        """One kind of per-variable state: (flat array, per-variable views of it)."""
        flat = np.full(self.size, initial_value, dtype=self.dtype)
        views = self.views_of(flat)
        self._flat_arrays[id(views)] = (flat, views)   # (holding views keeps its id unique)
        return flat, views

    def flat_array_of(self, views):
        """The flat array that `views` (a list made by slots()) are views of."""
        return self._flat_arrays[id(views)][0]

    def covers(self, variables):
        """True when a flat update of `variables` may replace the per-variable one."""
        if variables != self.variables:     # identity of each Variable, in order
            return False
        return all(v.value is value for v, value in zip(variables, self.values))

    def gather(self, grads):
        """grads (one per variable, each of its variable's shape) -> one flat array."""
        np.concatenate([g.reshape(-1) for g in grads], out=self.gradient)
        return self.gradient


def _in_dtype(gradient, dtype):
    """The gradient as an array of the variable's dtype (itself when it already is one); a
    SparseRows stays one."""
    if type(gradient) is np.ndarray and gradient.dtype == dtype:
        return gradient
    if isinstance(gradient, SparseRows):
        return gradient.astype(dtype)
    return np.asarray(gradient).astype(dtype, copy=False)


# ---------------------------------------------------------------- clipping


def _clip_by_norm(g, clipnorm):
    """g * clipnorm / max(||g||, clipnorm): g scaled down to an L2 norm of at most clipnorm.

    For SparseRows the norm is that of the occurrences' rows (each occurrence counts), and
    the result stays sparse, as tf.clip_by_norm does with tf.IndexedSlices."""
    if isinstance(g, SparseRows):
        return g.with_values(_clip_by_norm(g.values, clipnorm))
    dtype = g.dtype.type
    norm = np.sqrt(np.sum(np.square(g)))
    return g * dtype(clipnorm) / np.maximum(norm, dtype(clipnorm))


def _clip_by_value(g, clipvalue):
    """Each entry clipped to [-clipvalue, clipvalue]; SparseRows: each occurrence's row."""
    if isinstance(g, SparseRows):
        return g.with_values(np.clip(g.values, -clipvalue, clipvalue))
    return np.clip(g, -clipvalue, clipvalue)


def _clip_by_global_norm(grads, clipnorm):
    """All gradients scaled by clipnorm / max(N, clipnorm), N = sqrt(sum of all g^2).

    As in Keras, a non-finite N makes the scale (and so every gradient) NaN. A SparseRows
    adds the squares of its occurrences' rows to N and comes out dense (as in Keras on
    TensorFlow)."""
    global_norm = np.sqrt(sum(np.sum(squares(g)) for g in grads))
    with np.errstate(divide="ignore", invalid="ignore"):  # N = 0 or N = inf are expected
        scale = clipnorm * min(1.0 / global_norm, 1.0 / clipnorm) + (global_norm - global_norm)
    return [dense(g) * g.dtype.type(scale) for g in grads]


# ---------------------------------------------------------- argument checks


def check_number(name, value, low=None, high=None, low_open=False, high_open=False):
    """Raises a ValueError naming the argument unless `value` is a real number in the range
    (low..high; `*_open` excludes that end). Returns it as a float."""
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool)
    in_range = is_number and np.isfinite(value)
    if in_range and low is not None:
        in_range = value > low if low_open else value >= low
    if in_range and high is not None:
        in_range = value < high if high_open else value <= high
    if not in_range:
        if low is not None and high is not None:
            expected = (f"a float in the range {'(' if low_open else '['}{low}, {high}"
                        f"{')' if high_open else ']'}")
        elif low is not None:
            expected = f"a float {'>' if low_open else '>='} {low}"
        else:
            expected = "a finite float"
        raise ValueError(f"Argument `{name}` must be {expected}. Received: {name}={value!r}")
    return float(value)


class ScalarState(np.ndarray):
    """A 0-d array holding a learning rate, with the two methods Keras code calls on an
    optimizer's variables: `assign(value)` and `numpy()`.

    `optimizer.learning_rate` hands out a snapshot (a copy, so a value kept in a list does
    not change later) whose `assign` also writes into the optimizer's own array (`source`).
    """

    def assign(self, value):
        self[...] = value
        source = getattr(self, "source", None)
        if source is not None:
            source[...] = value
        return self

    def numpy(self):
        return np.array(self)

    def __round__(self, ndigits=None):
        return round(float(self), ndigits)


def _check_integer(name, value, low):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(
            f"Argument `{name}` must be an integer >= {low}. Received: {name}={value!r}"
        )


def _as_learning_rate(value):
    """A schedule or a callable as they are; a number as a 0-d `ScalarState` of floatx (Keras
    keeps the learning rate in a floatx variable)."""
    if isinstance(value, schedules.LearningRateSchedule) or callable(value):
        return value
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value[()]
    is_number = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, bool)
    if not is_number or not np.isfinite(value) or value < 0:
        raise ValueError(
            "Argument `learning_rate` should be a non-negative float, a LearningRateSchedule, "
            f"or a callable returning the learning rate. Received: learning_rate={value!r}"
        )
    return np.array(value, dtype=backend.floatx()).view(ScalarState)
