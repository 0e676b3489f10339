"""check_gradients: backpropagation agrees with central finite differences for every layer type,
and a deliberately broken backward pass is caught."""

import numpy as np
import pytest

import minikeras
from minikeras import layers
from minikeras.layers.average_pooling2d import AveragePooling2D
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.dense import Dense
from minikeras.layers.dropout import Dropout
from minikeras.layers.global_average_pooling2d import GlobalAveragePooling2D
from minikeras.layers.global_max_pooling2d import GlobalMaxPooling2D
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.layers.zero_padding2d import ZeroPadding2D
from minikeras.utils.gradient_check import check_gradients, relative_error

TOLERANCE = 1e-6


@pytest.fixture(autouse=True)
def _float32_and_seeded():
    minikeras.utils.set_random_seed(3)
    yield
    minikeras.backend.set_floatx("float32")


def _binary_data(n=8, features=2, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, features)).astype("float32")
    y = (rng.random(n) > 0.5).astype("float32")
    return x, y


def _image_data(n=3, size=6, channels=2, classes=3, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, size, size, channels))
    y = np.eye(classes)[rng.integers(0, classes, n)]
    return x, y


def _randomise_biases(model, seed=5):
    """Fresh biases are 0: a sample whose ReLU inputs are all 0 then sits exactly on the ReLU
    kink, where finite differences are meaningless (see gradient_check's docstring)."""
    rng = np.random.default_rng(seed)
    for weight in model.weights:
        if weight.name == "bias":
            weight.assign(rng.normal(0.0, 0.1, weight.shape))


def _assert_all_small(errors, expected_paths):
    assert sorted(errors) == sorted(expected_paths)
    for path, error in errors.items():
        assert error < TOLERANCE, (path, error)


def test_two_circles_model_float32_is_checked_in_float64_and_left_unchanged():
    model = minikeras.Sequential([
        layers.Dense(4, input_dim=2, activation="relu"),
        layers.Dense(6, activation="relu"),
        layers.Dense(6, activation="relu"),
        layers.Dense(4, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    _randomise_biases(model)
    x, y = _binary_data(n=16)
    before = model.get_weights()
    arrays = [w.value for w in model.weights]
    errors = check_gradients(model, x, y)
    _assert_all_small(errors, [w.path for w in model.trainable_weights])
    # Float32 rounding alone would give errors around 1e-4..1e-3: the check really ran in
    # float64.
    assert max(errors.values()) < 1e-8
    assert minikeras.backend.floatx() == "float32"
    for weight, array, value in zip(model.weights, arrays, before):
        assert weight.value is array
        assert weight.value.dtype == np.float32
        np.testing.assert_array_equal(weight.value, value)


def test_dense_activation_dropout_reshape_flatten_and_every_loss_path():
    model = minikeras.Sequential([
        layers.Input((6,)),
        layers.Reshape((2, 3)),
        layers.Flatten(),
        layers.Dense(5, kernel_regularizer=minikeras.regularizers.L2(0.01)),
        layers.Activation("tanh"),
        layers.Dropout(0.4),
        layers.Dense(4, activation="sigmoid"),
        layers.Dense(3),
        layers.Activation("softmax"),
    ])
    rng = np.random.default_rng(1)
    x = rng.normal(size=(5, 6))
    for loss, y in [("categorical_crossentropy", np.eye(3)[[0, 1, 2, 1, 0]]),
                    ("sparse_categorical_crossentropy", np.array([0, 1, 2, 1, 0])),
                    ("mean_squared_error", rng.random((5, 3)))]:
        model.compile(loss=loss, optimizer="sgd")
        errors = check_gradients(model, x, y)
        _assert_all_small(errors, [w.path for w in model.trainable_weights])


def test_convolution_and_pooling_layers():
    model = minikeras.Sequential([
        layers.Input((6, 6, 2)),
        ZeroPadding2D(1),
        Conv2D(3, 3, activation="tanh"),
        MaxPooling2D(2),
        Conv2D(4, 2, padding="same", strides=1, activation="relu"),
        AveragePooling2D(2, strides=1),
        Conv2D(2, 1),
        GlobalMaxPooling2D(),
        Dense(3, activation="softmax"),
    ])
    model.compile(loss="categorical_crossentropy", optimizer="sgd")
    _randomise_biases(model)
    x, y = _image_data()
    errors = check_gradients(model, x, y)
    _assert_all_small(errors, [w.path for w in model.trainable_weights])

    model = minikeras.Sequential([
        layers.Input((5, 5, 2)),
        Conv2D(3, 2, strides=2, padding="same", activation="sigmoid"),
        GlobalAveragePooling2D(),
        Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    x = np.random.default_rng(2).normal(size=(4, 5, 5, 2))
    errors = check_gradients(model, x, np.array([0.0, 1.0, 1.0, 0.0]))
    _assert_all_small(errors, [w.path for w in model.trainable_weights])


def test_broken_dense_backward_is_flagged(monkeypatch, capsys):
    model = minikeras.Sequential([
        layers.Dense(4, input_dim=3, activation="relu", name="first"),
        layers.Dense(3, activation="tanh", name="middle"),
        layers.Dense(1, activation="sigmoid", name="last"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="sgd")
    _randomise_biases(model)
    x, y = _binary_data(n=10, features=3)
    correct = Dense.backward

    def forgets_the_activation_slope(self, da, cache, from_logits=False):
        # A classic mistake: dZ = dA, as if the activation were the identity.
        if self.name == "middle":
            return correct(self, da, cache, from_logits=True)
        return correct(self, da, cache, from_logits=from_logits)

    monkeypatch.setattr(Dense, "backward", forgets_the_activation_slope)
    errors = check_gradients(model, x, y, print_table=True)
    table = capsys.readouterr().out
    assert errors["middle/kernel"] > 1e-3
    assert errors["middle/bias"] > 1e-3
    assert errors["first/kernel"] > 1e-3          # the wrong dA_prev travels on backwards
    assert errors["last/kernel"] < TOLERANCE      # layers after the bug are unaffected
    assert errors["last/bias"] < TOLERANCE
    middle_line = next(line for line in table.splitlines() if line.startswith("middle/kernel"))
    last_line = next(line for line in table.splitlines() if line.startswith("last/kernel"))
    assert middle_line.rstrip().endswith("FAIL")
    assert last_line.rstrip().endswith("ok")


def test_broken_conv_weight_gradient_is_flagged(monkeypatch):
    model = minikeras.Sequential([layers.Input((5, 5, 1)), Conv2D(2, 3, name="conv"),
                                  layers.Flatten(), Dense(1)])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    x = np.random.default_rng(0).normal(size=(2, 5, 5, 1))
    y = np.array([[0.5], [-1.0]])
    correct = Conv2D.backward

    def flipped_kernel_gradient(self, *args, **kwargs):
        dx, grads = correct(self, *args, **kwargs)
        return dx, [grads[0][::-1, ::-1], *grads[1:]]    # dK flipped: convolution vs correlation

    monkeypatch.setattr(Conv2D, "backward", flipped_kernel_gradient)
    errors = check_gradients(model, x, y)
    assert errors["conv/kernel"] > 1e-2
    assert errors["conv/bias"] < TOLERANCE


def test_dropout_is_checked_with_fixed_masks_in_training_mode(monkeypatch):
    model = minikeras.Sequential([layers.Dense(6, input_dim=3, activation="tanh", name="dense"),
                                  layers.Dropout(0.5), layers.Dense(1)])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    x, y = _binary_data(n=6, features=3)
    state = minikeras.random.generator().bit_generator.state

    errors = check_gradients(model, x, y, training=True)
    _assert_all_small(errors, [w.path for w in model.trainable_weights])
    # The generator is left as it was found: the check does not disturb a later fit.
    assert minikeras.random.generator().bit_generator.state == state

    # Masks really are drawn (and must be backpropagated): a Dropout that ignores its mask in
    # backward is caught in training mode, and invisible in inference mode.
    monkeypatch.setattr(Dropout, "backward", lambda self, dout, mask: (dout, []))
    assert check_gradients(model, x, y, training=True)["dense/kernel"] > 1e-2
    assert check_gradients(model, x, y, training=False)["dense/kernel"] < TOLERANCE


def test_seeded_dropout_generator_is_rewound_too():
    model = minikeras.Sequential([layers.Dense(4, input_dim=2, activation="tanh"),
                                  layers.Dropout(0.5, seed=7), layers.Dense(1)])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    x, y = _binary_data(n=6)
    first = check_gradients(model, x, y, training=True)
    _assert_all_small(first, [w.path for w in model.trainable_weights])
    assert check_gradients(model, x, y, training=True) == first


def test_max_entries_samples_a_subset():
    model = minikeras.Sequential([layers.Dense(8, input_dim=6), layers.Dense(1)])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    x, y = _binary_data(n=4, features=6)
    calls = []
    original = model._forward

    def counting_forward(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    model._forward = counting_forward
    errors = check_gradients(model, x, y, max_entries=3)
    _assert_all_small(errors, [w.path for w in model.trainable_weights])
    # one backprop pass + 2 evaluations per checked entry: kernel 3, bias 3, kernel 3, bias 1
    assert len(calls) == 1 + 2 * (3 + 3 + 3 + 1)


def test_relative_error_definition():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error([0.0, 0.0], [0.0, 0.0]) == 0.0
    assert relative_error([1.0, 0.0], [0.0, 0.0]) == 1.0
    assert relative_error([3.0, 4.0], [3.0, 4.0 + 1e-6]) == pytest.approx(1e-6 / 10, rel=1e-3)


def test_argument_errors():
    model = minikeras.Sequential([layers.Dense(1, input_dim=2)])
    x, y = _binary_data()
    with pytest.raises(RuntimeError, match="compile"):
        check_gradients(model, x, y)
    model.compile(loss="mean_squared_error", optimizer="sgd")
    with pytest.raises(ValueError, match="epsilon=0"):
        check_gradients(model, x, y, epsilon=0)
    with pytest.raises(ValueError, match="max_entries=0"):
        check_gradients(model, x, y, max_entries=0)


# ---------------------------------------------------------------------------------- kinks


def _two_circles_model():
    """The guide's model, fresh: zero biases, so dead units put pre-activations exactly on
    relu's kink."""
    model = minikeras.Sequential([
        layers.Dense(4, input_dim=2, activation="relu"),
        layers.Dense(6, activation="relu"),
        layers.Dense(6, activation="relu"),
        layers.Dense(4, activation="relu"),
        layers.Dense(1, activation="sigmoid"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


def _two_circles_batch(n=32):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 2, n)
    angle = rng.uniform(0.0, 2.0 * np.pi, n)
    radius = np.where(labels == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    x += rng.normal(0.0, 0.1, x.shape)
    return x.astype("float32"), labels.astype("float32")


def _verdicts(table):
    """{weight path: verdict} from a printed table."""
    verdicts = {}
    for line in table.splitlines():
        fields = line.split()
        if fields and "/" in fields[0] and fields[-1] in ("ok", "FAIL", "kink"):
            verdicts[fields[0]] = fields[-1]
    return verdicts


def test_relu_kinks_of_a_fresh_two_circles_model_are_reported_not_failed(capsys):
    x, y = _two_circles_batch()
    failed_before = []
    for seed in range(10):
        minikeras.utils.set_random_seed(seed)
        model = _two_circles_model()
        result = check_gradients(model, x, y, print_table=True)
        verdicts = _verdicts(capsys.readouterr().out)
        assert sorted(verdicts) == sorted(w.path for w in model.trainable_weights)
        assert "FAIL" not in verdicts.values(), (seed, verdicts)
        for row in result.rows:
            # What the check reported before kinks were detected: every entry counted.
            all_entries = relative_error(row["backprop"], row["numeric"])
            if all_entries > TOLERANCE:
                failed_before.append((seed, row["path"], all_entries))
                assert row["kinks"] > 0 and result.kinks[row["path"]]
            if row["kinks"] < row["checked"]:
                assert result[row["path"]] < TOLERANCE
            else:
                assert verdicts[row["path"]] == "kink" and np.isnan(result[row["path"]])
    # Kinks are common here (the issue: 11 of 20 seeds on the guide's data): the test would
    # prove nothing without several such seeds, with errors far above any tolerance.
    assert len({seed for seed, _, _ in failed_before}) >= 3, failed_before
    assert max(error for _, _, error in failed_before) > 0.1


class _ForgetsReluSlope(Dense):
    """A Dense layer whose backward forgets relu's slope (dZ = dA, the mask not applied):
    exactly the kind of bug that lives at relu's kink, and must not hide behind it."""

    def backward(self, da, cache, from_logits=False, need_input_gradient=True):
        return super().backward(da, cache, from_logits=True,
                                need_input_gradient=need_input_gradient)


def test_a_broken_backward_still_fails_among_kinks(capsys):
    x, y = _two_circles_batch()
    minikeras.utils.set_random_seed(0)                 # a seed with kinks (see above)
    model = minikeras.Sequential([
        layers.Dense(4, input_dim=2, activation="relu", name="first"),
        layers.Dense(6, activation="relu", name="second"),
        _ForgetsReluSlope(6, activation="relu", name="broken"),
        layers.Dense(4, activation="relu", name="fourth"),
        layers.Dense(1, activation="sigmoid", name="out"),
    ])
    model.compile(loss="binary_crossentropy", optimizer="adam")
    result = check_gradients(model, x, y, print_table=True)
    verdicts = _verdicts(capsys.readouterr().out)
    assert any(result.kinks.values())                  # kinks are there, and reported...
    assert "kink" in verdicts.values()
    assert verdicts["broken/kernel"] == "FAIL"         # ...but the bug is not hidden by them
    assert result["broken/kernel"] > 1e-2
    assert verdicts["first/kernel"] == "FAIL"          # the wrong dA_prev travels backwards
    assert verdicts["out/kernel"] == "ok" and verdicts["fourth/kernel"] == "ok"


def test_kinks_of_other_activations_and_of_activation_layers():
    # One sample of zeros: the pre-activation is the bias exactly, put on a kink (hard_tanh's
    # at 1, relu's at 0); the other samples keep their pre-activations well away from kinks.
    x = np.array([[0.0, 0.0], [0.3, -0.2], [-0.4, 0.1]])
    y = np.array([[0.2], [0.7], [0.1]])
    model = minikeras.Sequential([
        layers.Dense(1, input_dim=2, activation="hard_tanh", name="hard"),
        layers.Dense(1, name="linear"),
        layers.Activation("relu"),
    ])
    model.compile(loss="mean_squared_error", optimizer="sgd")
    model.set_weights([np.array([[0.5], [0.25]]), np.array([1.0]),
                       np.array([[2.0]]), np.array([-2.0])])
    result = check_gradients(model, x, y)
    # hard_tanh: the bias moves sample 0 across 1; the kernel does not move it (its input is 0).
    assert result.kinks["hard/bias"] == [0] and result.kinks["hard/kernel"] == []
    # relu (an Activation layer): linear's output for sample 0 is 2 * 1 - 2 = 0 exactly, and
    # both linear weights move it.
    assert result.kinks["linear/bias"] == [0] and result.kinks["linear/kernel"] == [0]
    assert np.isnan(result["linear/bias"]) and np.isnan(result["linear/kernel"])
    assert result["hard/kernel"] < TOLERANCE
