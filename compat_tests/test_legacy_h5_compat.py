"""Legacy HDF5 model files (`model.save("m.h5")`) move between Keras and minikeras both ways.

For a Sequential MLP, a convnet and a functional model with a merge layer: the loaded model
predicts the same and is compiled as saved. minikeras restores the whole optimizer state from
a Keras file and trains on along Keras's curve; Keras 3.15 keeps only the step count and the
learning rate of a file (its own too) and cannot train the loaded model until it is compiled
again. load_weights reads a legacy .h5 file in both.
"""

import json
import re

import h5py
import keras
import numpy as np
import pytest

import minikeras
from compat_tests.compare import assert_histories_close, two_circles, two_circles_model
from compat_tests.test_saving_compat import (
    assert_same_optimizer_state,
    assert_same_predictions,
    cnn_data,
    small_cnn,
)
from minikeras.saving import legacy_h5, saving_api

X, Y = two_circles(n=96)
FIT = dict(batch_size=32, shuffle=False, verbose=0)


def merge_model(k):
    inputs = k.Input((2,))
    left = k.layers.Dense(4, activation="relu")(inputs)
    right = k.layers.Dense(4, activation="tanh")(inputs)
    merged = k.layers.Concatenate()([left, right])
    added = k.layers.Add()([left, right])
    both = k.layers.Concatenate()([merged, added])
    return k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(both))


# (builder, data, compile arguments): losses spelled as Keras 3.15 can read them back from
# .h5 ("mse" or "binary_crossentropy" it can; see test_keras_cannot_read_its_own_mse).
CASES = {
    "mlp": (two_circles_model, lambda: (X, Y),
            lambda k: dict(optimizer=k.optimizers.Adam(0.01), loss="binary_crossentropy",
                           metrics=["accuracy"])),
    "cnn": (small_cnn, cnn_data,
            lambda k: dict(optimizer=k.optimizers.RMSprop(0.01, momentum=0.5),
                           loss="sparse_categorical_crossentropy", metrics=["accuracy"])),
    "merge": (merge_model, lambda: (X, Y),
              lambda k: dict(optimizer=k.optimizers.SGD(0.05, momentum=0.9),
                             loss=k.losses.BinaryCrossentropy(), metrics=["accuracy"])),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_keras_h5_loads_in_minikeras_and_training_continues(name, tmp_path):
    build, data, compile_args = CASES[name]
    x, y = data()
    keras.utils.set_random_seed(0)
    reference = build(keras)
    reference.compile(**compile_args(keras))
    reference.fit(x, y, epochs=2, **FIT)
    reference.save(tmp_path / "keras.h5")

    ours = saving_api.load_model(tmp_path / "keras.h5")
    assert [layer.name for layer in ours.layers] == [layer.name for layer in reference.layers]
    assert_same_predictions(ours, reference, x)
    assert ours.compiled
    assert type(ours.optimizer).__name__ == type(reference.optimizer).__name__
    assert_same_optimizer_state(ours, reference)
    assert_histories_close(reference.fit(x, y, epochs=2, **FIT).history,
                           ours.fit(x, y, epochs=2, **FIT).history)


@pytest.mark.parametrize("name", sorted(CASES))
def test_minikeras_h5_loads_in_keras_and_training_continues(name, tmp_path):
    build, data, compile_args = CASES[name]
    x, y = data()
    keras.utils.set_random_seed(0)
    reference = build(keras)
    ours = build(minikeras)
    ours.set_weights(reference.get_weights())
    ours.compile(**compile_args(minikeras))
    ours.fit(x, y, epochs=2, **FIT)
    ours.save(tmp_path / "ours.h5")

    loaded = keras.models.load_model(tmp_path / "ours.h5")
    assert_same_predictions(ours, loaded, x)
    assert loaded.compiled
    # Keras 3.15's legacy loader builds the optimizer for no variables, so it restores only
    # the step count and the learning rate, and fit() then fails (see
    # test_keras_cannot_continue_training_from_its_own_h5). Those two it keeps:
    assert int(loaded.optimizer.iterations.numpy()) == ours.optimizer.iterations
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate.numpy()),
                               float(ours.optimizer.learning_rate), rtol=1e-7)
    # Recompiled as the file says, the weights train on identically in both.
    again = saving_api.load_model(tmp_path / "ours.h5", compile=False)
    again.compile(**compile_args(minikeras))
    loaded.compile(**compile_args(keras))
    assert_histories_close(loaded.fit(x, y, epochs=2, **FIT).history,
                           again.fit(x, y, epochs=2, **FIT).history)


def test_keras_cannot_continue_training_from_its_own_h5(tmp_path):
    """Keras 3.15 restores the compiled state from .h5 but builds the optimizer for an empty
    list of variables: training the loaded model fails. minikeras restores the whole state
    and trains on (test_keras_h5_loads_in_minikeras_and_training_continues)."""
    model = two_circles_model(keras)
    model.compile(optimizer="adam", loss="binary_crossentropy")
    model.fit(X, Y, epochs=1, **FIT)
    model.save(tmp_path / "k.h5")
    loaded = keras.models.load_model(tmp_path / "k.h5")
    assert len(loaded.optimizer.variables) == 2
    with pytest.raises(ValueError, match="Unknown variable"):
        loaded.fit(X, Y, epochs=1, **FIT)


@pytest.mark.parametrize("name", sorted(CASES))
def test_layout_matches_keras(name, tmp_path):
    """The same groups, attributes and weight names as the file Keras writes (the optimizer's
    slot names aside: Keras reads those by position)."""
    build, data, compile_args = CASES[name]
    x, y = data()
    files = {}
    for k in (keras, minikeras):
        model = build(k)
        model.compile(**compile_args(k))
        model.fit(x, y, epochs=1, **FIT)
        files[k] = tmp_path / f"{k.__name__}.h5"
        model.save(files[k])

    def layout(path):
        entries = {}
        with h5py.File(path) as f:
            names = {}
            for key in f.attrs:
                names[key] = None
            entries["/"] = sorted(names)
            training = json.loads(f.attrs["training_config"])
            entries["training_config"] = sorted(training)
            # Keras's legacy writer leaves module / registered_name / build_config out of the
            # model's and each layer's entry.
            config = json.loads(f.attrs["model_config"])
            entries["model_config"] = sorted(config)
            entries["layer_entries"] = [sorted(layer) for layer in config["config"]["layers"]]
            entries["optimizer_config"] = sorted(training["optimizer_config"]["config"])

            def visit(name, obj):
                attrs = {key: [str(v) for v in np.atleast_1d(value)] if key.endswith("names")
                         else None for key, value in obj.attrs.items()}
                entries[name] = (type(obj).__name__, getattr(obj, "shape", None), attrs)
            f["model_weights"].visititems(lambda n, o: visit("model_weights/" + n, o))
            entries["optimizer_weights"] = [f["optimizer_weights"][n].shape for n in
                                            f["optimizer_weights"].attrs["weight_names"]]
        return entries

    ours, theirs = layout(files[minikeras]), layout(files[keras])
    # Layer names carry a per-process counter: compare them up to it, in the order the
    # layers were made (the counters' order as numbers: "dense_99" before "dense_100").
    assert len(ours) == len(theirs)

    def counters_as_numbers(item):
        return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", item[0])]

    for (key_a, a), (key_b, b) in zip(sorted(ours.items(), key=counters_as_numbers),
                                      sorted(theirs.items(), key=counters_as_numbers)):
        if isinstance(a, tuple):
            assert a[0] == b[0] and a[1] == b[1], (key_a, a, key_b, b)
            assert sorted(a[2]) == sorted(b[2]), (key_a, a, key_b, b)
        else:
            assert a == b, (key_a, a, b)


def test_load_weights_from_legacy_h5_both_ways(tmp_path):
    keras.utils.set_random_seed(1)
    reference = merge_model(keras)
    reference.save(tmp_path / "keras.h5")
    ours = merge_model(minikeras)
    ours.load_weights(tmp_path / "keras.h5")
    assert_same_predictions(ours, reference, X)

    trained = merge_model(minikeras)
    trained.compile(optimizer="adam", loss="binary_crossentropy")
    trained.fit(X, Y, epochs=1, **FIT)
    trained.save(tmp_path / "ours.h5")
    fresh = merge_model(keras)
    fresh.load_weights(tmp_path / "ours.h5")
    assert_same_predictions(trained, fresh, X)


def test_save_weights_to_plain_h5_is_refused_in_both(tmp_path):
    model = two_circles_model(keras)
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`") as theirs:
        model.save_weights(tmp_path / "w.h5")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`") as ours:
        two_circles_model(minikeras).save_weights(tmp_path / "w.h5")
    assert str(ours.value).split(" Received")[0] == str(theirs.value).split(" Received")[0]


def test_save_warning_is_keras_text(tmp_path, capsys, caplog):
    two_circles_model(keras).save(tmp_path / "k.h5")
    keras_text = "\n".join(record.getMessage() for record in caplog.records)
    two_circles_model(minikeras).save(tmp_path / "m.h5")
    assert keras_text == legacy_h5.SAVE_WARNING
    assert capsys.readouterr().err == f"WARNING:absl:{keras_text}\n"


def test_keras_cannot_read_its_own_mse(tmp_path):
    """Keras 3.15 writes loss="mse" into training_config and then cannot read it back; a
    minikeras file spells the loss out, which Keras reads."""
    model = two_circles_model(keras)
    model.compile(optimizer="sgd", loss="mse")
    model.save(tmp_path / "k.h5")
    with pytest.raises(ValueError, match="Could not deserialize 'keras.metrics.mse'"):
        keras.models.load_model(tmp_path / "k.h5")
    assert saving_api.load_model(tmp_path / "k.h5").compiled
    ours = two_circles_model(minikeras)
    ours.compile(optimizer="sgd", loss="mse")
    ours.save(tmp_path / "m.h5")
    assert keras.models.load_model(tmp_path / "m.h5").compiled


def nested_model(k):
    """A Sequential (with BatchNormalization's non-trainable weights) used as a layer: its
    weights are one layer group in the file, trainable ones first."""
    inner = k.Sequential([k.Input((2,)), k.layers.Dense(3), k.layers.BatchNormalization()])
    inputs = k.Input((2,))
    return k.Model(inputs, k.layers.Dense(1, activation="sigmoid")(inner(inputs)))


@pytest.mark.parametrize("direction", ["keras_to_minikeras", "minikeras_to_keras"])
def test_nested_model_round_trip(direction, tmp_path):
    source, target = (keras, minikeras)
    if direction == "minikeras_to_keras":
        source, target = minikeras, keras
    keras.utils.set_random_seed(2)
    model = nested_model(source)
    model.compile(optimizer=source.optimizers.Adam(0.01), loss="binary_crossentropy")
    model.fit(X, Y, epochs=1, **FIT)          # moves BatchNormalization's moving statistics
    model.save(tmp_path / "nested.h5")
    load = keras.models.load_model if target is keras else saving_api.load_model
    assert_same_predictions(model, load(tmp_path / "nested.h5"), X)


def test_load_weights_by_name_matches_keras(tmp_path):
    """by_name=True (legacy .h5 only): layers are matched by name; the others keep theirs."""
    def saved(k):
        return k.Sequential([k.Input((2,)), k.layers.Dense(3, name="shared"),
                             k.layers.Dense(1, name="head")])

    def target(k):
        return k.Sequential([k.Input((2,)), k.layers.Dense(3, name="shared"),
                             k.layers.Dense(2, name="new_head")])

    keras.utils.set_random_seed(4)
    saved(keras).save(tmp_path / "keras.h5")
    theirs = target(keras)
    ours = target(minikeras)
    ours.set_weights(theirs.get_weights())
    theirs.load_weights(tmp_path / "keras.h5", by_name=True)
    ours.load_weights(tmp_path / "keras.h5", by_name=True)
    for a, b in zip(ours.get_weights(), theirs.get_weights()):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="`by_name` only supports loading legacy"):
        ours.load_weights(tmp_path / "m.weights.h5", by_name=True)
