"""Fast paths taken by a training step must give exactly what the plain code gives.

The optimizers' flat update (`update_step` called once on all variables packed end to end,
see `FlatLayout`) against `update_step` variable by variable, and the shortcuts in the loss,
metrics and callbacks against the general code: compared bit for bit (assert_array_equal), not
to a tolerance.
"""

import numpy as np
import pytest

from minikeras import optimizers
from minikeras.optimizers.base_optimizer import Optimizer
from minikeras.variables import Variable

SHAPES = [(3, 4), (4,), (), (2, 3, 2), (1,)]


def make_variables(seed, dtype="float32"):
    rng = np.random.default_rng(seed)
    return [Variable(rng.normal(size=shape), name=f"w{i}", dtype=dtype)
            for i, shape in enumerate(SHAPES)]


def gradient_steps(seed, steps, dtype="float32"):
    rng = np.random.default_rng(seed + 1)
    return [[(rng.normal(size=shape) * 10.0 ** rng.integers(-4, 2)).astype(dtype)
             for shape in SHAPES] for _ in range(steps)]


def run(optimizer, per_variable, dtype="float32", steps=6):
    """Applies `steps` gradient steps; with per_variable, through update_step one variable
    at a time (the base class's loop) instead of the optimizer's flat update."""
    variables = make_variables(0, dtype)
    if per_variable:
        optimizer._update_steps = lambda grads, variables, lr: Optimizer._update_steps(
            optimizer, grads, variables, lr)
    for grads in gradient_steps(0, steps, dtype):
        optimizer.apply(grads, variables)
    return [v.numpy() for v in variables], [np.array(a) for a in optimizer.variables]


OPTIMIZERS = {
    "adam": lambda: optimizers.Adam(learning_rate=0.01),
    "adam_amsgrad": lambda: optimizers.Adam(learning_rate=0.01, amsgrad=True, beta_1=0.8),
    "adam_schedule": lambda: optimizers.Adam(
        learning_rate=optimizers.schedules.ExponentialDecay(0.01, 2, 0.5)),
    "adam_clipnorm": lambda: optimizers.Adam(learning_rate=0.01, clipnorm=0.5),
    "adamw": lambda: optimizers.AdamW(learning_rate=0.01, weight_decay=0.1),
    "adam_accumulate": lambda: optimizers.Adam(learning_rate=0.01,
                                               gradient_accumulation_steps=2),
    "adam_ema": lambda: optimizers.Adam(learning_rate=0.01, use_ema=True,
                                        ema_overwrite_frequency=3),
    "sgd": lambda: optimizers.SGD(learning_rate=0.1),
    "sgd_momentum": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9),
    "sgd_nesterov": lambda: optimizers.SGD(learning_rate=0.1, momentum=0.9, nesterov=True),
}


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_flat_update_is_bit_identical_to_update_step(name, dtype):
    flat_weights, flat_state = run(OPTIMIZERS[name](), per_variable=False, dtype=dtype)
    weights, state = run(OPTIMIZERS[name](), per_variable=True, dtype=dtype)
    for a, b in zip(flat_weights, weights):
        assert a.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(a, b)
    assert len(flat_state) == len(state)
    for a, b in zip(flat_state, state):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("name", ["adam", "adamw", "sgd_nesterov"])
def test_flat_update_is_one_call_of_update_step_and_state_arrays_are_views_of_it(name):
    optimizer = OPTIMIZERS[name]()
    variables = make_variables(0)
    calls = []
    rule = optimizer.update_step

    def recording_update_step(gradient, variable, learning_rate):
        calls.append(variable)
        rule(gradient, variable, learning_rate)

    optimizer.update_step = recording_update_step
    optimizer.apply(gradient_steps(0, 1)[0], variables)
    # the rule that runs is update_step itself, called once on every variable packed
    assert len(calls) == 1 and calls[0] is optimizer._layout.packed
    assert calls[0].value.size == sum(v.value.size for v in variables)
    if name == "sgd_nesterov":
        return
    # Writing into the listed state arrays (as set_weights and loading do) reaches the
    # flat arrays the fused update reads.
    state = optimizer.variables
    optimizer.set_weights([np.full(a.shape, 0.5, dtype=a.dtype) for a in state])
    assert np.all(optimizer._flat_m == 0.5) and np.all(optimizer._flat_v == 0.5)


def test_flat_update_falls_back_when_a_weight_array_was_swapped():
    """A Variable whose `value` was rebound (gradient_check swaps arrays this way) is
    updated through update_step, on its new array, with the same result."""
    optimizer = optimizers.Adam(learning_rate=0.01)
    reference = optimizers.Adam(learning_rate=0.01)
    variables, expected = make_variables(0), make_variables(0)
    steps = gradient_steps(0, 3)
    optimizer.apply(steps[0], variables)
    reference.apply(steps[0], expected)
    variables[1].value = variables[1].value.copy()
    for grads in steps[1:]:
        optimizer.apply(grads, variables)
        reference.apply(grads, expected)
    for a, b in zip(variables, expected):
        np.testing.assert_array_equal(a.value, b.value)


def test_missing_gradient_takes_the_per_variable_path():
    optimizer = optimizers.Adam(learning_rate=0.01)
    variables = make_variables(0)
    before = [v.numpy() for v in variables]
    grads = gradient_steps(0, 1)[0]
    grads[2] = None
    with pytest.warns(UserWarning, match="Gradients do not exist"):
        optimizer.apply(grads, variables)
    np.testing.assert_array_equal(variables[2].value, before[2])
    assert not np.array_equal(variables[0].value, before[0])


def test_mixed_dtypes_use_update_step():
    optimizer = optimizers.Adam(learning_rate=0.01)
    variables = [Variable(np.ones(3), dtype="float32"), Variable(np.ones(2), dtype="float64")]
    optimizer.apply([np.ones(3, dtype="float32"), np.ones(2, dtype="float64")], variables)
    assert optimizer._layout is None
    assert variables[0].value.dtype == np.float32 and variables[1].value.dtype == np.float64
    np.testing.assert_allclose(variables[1].value, 1.0 - 0.01, rtol=1e-6)


# --------------------------------------------------------------------------- losses


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(32,), (5, 3)])
@pytest.mark.parametrize("reduction", ["sum_over_batch_size", "sum", "mean",
                                       "mean_with_sample_weight"])
def test_unweighted_reduction_equals_the_weighted_one_with_unit_weights(reduction, shape,
                                                                        dtype):
    from minikeras.losses import reduce_weighted_values

    values = np.random.default_rng(3).random(shape).astype(dtype) * 7.0
    loss, dvalues = reduce_weighted_values(values, None, reduction)
    expected_loss, expected_dvalues = reduce_weighted_values(
        values, np.ones(shape[0]), reduction)
    assert type(loss) is type(expected_loss) is np.dtype(dtype).type
    assert loss == expected_loss
    assert dvalues.dtype == expected_dvalues.dtype and dvalues.shape == values.shape
    np.testing.assert_array_equal(dvalues, expected_dvalues)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("k", [1, 3])
def test_binary_crossentropy_from_logits_matches_the_textbook_formulas(k, dtype):
    """The loss shares exp(-|z|) between the values and the gradient: it must still give
    exactly max(z, 0) - z y + log1p(exp(-|z|)) and (sigmoid(z) - y) / k."""
    from minikeras.losses import BinaryCrossentropy

    rng = np.random.default_rng(4)
    z = (rng.normal(size=(16, k)) * 5.0).astype(dtype)
    z[0, 0] = 0.0
    y = (rng.random((16, k)) > 0.5).astype(dtype)
    e = np.exp(-np.abs(z))
    sigmoid = np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(dtype)
    p = sigmoid
    expected = (np.maximum(z, 0) - z * y + np.log1p(np.exp(-np.abs(z)))).mean(axis=-1)
    loss = BinaryCrossentropy()
    values, cache = loss.forward(y, p, logits=z)
    assert values.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(values, expected)
    dvalues = np.linspace(0.5, 2.0, 16).astype(dtype)
    expected_grad = (np.expand_dims(dvalues, -1) * ((sigmoid - y) / k)).astype(dtype)
    grad = loss.backward(dvalues, cache)
    assert grad.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(grad, expected_grad)


# -------------------------------------------------------------------------- metrics


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_mean_of_numbers_equals_mean_of_one_element_arrays(dtype):
    from minikeras.metrics import Mean

    rng = np.random.default_rng(5)
    fast, general = Mean(dtype=dtype), Mean(dtype=dtype)
    for value, weight in zip(rng.random(20) * 3.0, [32, 32, 7, None, 2.5] * 4):
        fast.update_state(float(value), sample_weight=weight)
        general.update_state(np.array([value]),
                             sample_weight=None if weight is None else np.array([weight]))
    fast.update_state(np.float32(0.7))
    general.update_state(np.array([0.7], dtype="float32"))
    assert fast.total == general.total and fast.count == general.count
    assert fast.result() == general.result()


@pytest.mark.parametrize("dtype", ["float32", "float16"])
@pytest.mark.parametrize("shape", [(32,), (32, 1), (5, 1, 1)])
def test_mean_of_per_sample_values_equals_the_weighted_path(shape, dtype):
    from minikeras.metrics import Mean

    rng = np.random.default_rng(6)
    fast, general = Mean(dtype=dtype), Mean(dtype=dtype)
    for _ in range(3):
        values = rng.random(shape)          # float64: cast to the metric's dtype first
        fast.update_state(values)
        general.update_state(values, sample_weight=np.ones(shape[0]))
    assert fast.total == general.total and fast.count == general.count


def test_binary_accuracy_counts_as_before():
    from minikeras.metrics import BinaryAccuracy

    rng = np.random.default_rng(7)
    metric = BinaryAccuracy()
    y_true = (rng.random(32) > 0.5).astype("float32")
    y_pred = rng.random((32, 1)).astype("float32")
    metric.update_state(y_true, y_pred)
    assert metric.count == 32.0
    assert metric.total == float(np.sum(y_true == (y_pred[:, 0] > 0.5)))


# ------------------------------------------------------------------------ callbacks


def test_callback_list_still_calls_every_overridden_batch_hook():
    from minikeras.callbacks import Callback, CallbackList, LambdaCallback

    seen = []

    class OldName(Callback):              # the pre-Keras-2 name of the batch hook
        def on_batch_end(self, batch, logs=None):
            seen.append(("old", batch, logs))

    class NewName(Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(("new", batch, logs))

    lam = LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(("lambda", batch,
                                                                            logs)))
    quiet = Callback()
    callbacks = CallbackList([quiet, OldName(), NewName(), lam], add_history=True)
    callbacks.on_train_batch_end(0, {"loss": np.float32(0.5)})
    assert seen == [("old", 0, {"loss": 0.5}), ("new", 0, {"loss": 0.5}),
                    ("lambda", 0, {"loss": 0.5})]
    assert all(type(logs["loss"]) is float for _, _, logs in seen)
    # A callback added to the list afterwards is called too.
    callbacks.callbacks.append(NewName())
    seen.clear()
    callbacks.on_train_batch_end(1, {"loss": 1.0})
    assert [name for name, _, _ in seen] == ["old", "new", "lambda", "new"]
    # A hook nobody overrides is skipped without complaint.
    callbacks.on_predict_batch_begin(0)


def test_a_subclass_with_its_own_update_step_is_not_bypassed():
    class SignAdam(optimizers.Adam):
        def update_step(self, gradient, variable, learning_rate):
            variable.value -= np.sign(gradient) * np.float32(0.5)

    variables = make_variables(0)
    before = [v.numpy() for v in variables]
    grads = gradient_steps(0, 1)[0]
    SignAdam().apply(grads, variables)
    for v, w0, g in zip(variables, before, grads):
        np.testing.assert_array_equal(v.value, w0 - np.sign(g) * np.float32(0.5))


def test_packed_variable_holds_the_weights_and_assign_keeps_the_flat_path():
    optimizer = optimizers.Adam(learning_rate=0.01)
    variables = make_variables(0)
    before = [v.numpy() for v in variables]
    optimizer.build(variables)
    packed = optimizer._layout.packed
    # the weights moved into one flat array, unchanged; each variable keeps a view of it
    np.testing.assert_array_equal(packed.value, np.concatenate([b.ravel() for b in before]))
    for variable, value in zip(variables, before):
        assert variable.value.base is packed.value
        np.testing.assert_array_equal(variable.value, value)
    variables[0].assign(np.ones(variables[0].shape))          # in place: still a view
    optimizer.apply(gradient_steps(0, 1)[0], variables)
    assert optimizer._layout.covers(variables)
    assert not np.array_equal(variables[0].value, np.ones(variables[0].shape))
