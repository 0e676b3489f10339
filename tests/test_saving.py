"""Saving and loading within minikeras: round trips, resumed training, configs, custom objects,
clone_model, ModelCheckpoint and BackupAndRestore. (Files against real Keras: compat_tests/.)"""

import json
import os
import sys
import zipfile

import h5py
import numpy as np
import pytest

import minikeras as mk
from minikeras.callbacks.backup_and_restore import BackupAndRestore
from minikeras.callbacks.model_checkpoint import ModelCheckpoint
from minikeras.layers.conv2d import Conv2D
from minikeras.layers.max_pooling2d import MaxPooling2D
from minikeras.models.cloning import clone_model
from minikeras.saving import object_registration, saving_api, serialization

RNG = np.random.default_rng(0)
X = RNG.normal(size=(64, 2)).astype("float32")
Y = (X[:, 0] * X[:, 1] > 0).astype("float32")


def make_model(seed=0, optimizer=None):
    mk.utils.set_random_seed(seed)
    model = mk.Sequential([
        mk.Input((2,)),
        mk.layers.Dense(8, activation="relu", kernel_regularizer="l2", name="hidden"),
        mk.layers.Dropout(0.0, name="drop"),
        mk.layers.Dense(1, activation="sigmoid", name="out"),
    ])
    model.compile(optimizer=optimizer or mk.optimizers.Adam(0.01), loss="binary_crossentropy",
                  metrics=["accuracy"])
    return model


def fit(model, epochs, **kwargs):
    return model.fit(X, Y, epochs=epochs, batch_size=16, shuffle=False, verbose=0,
                     **kwargs).history


# ------------------------------------------------------------------- whole models


def test_keras_archive_round_trip_keeps_predictions_compile_and_optimizer_state(tmp_path):
    model = make_model()
    fit(model, 2)
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = saving_api.load_model(path)
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    assert [layer.name for layer in loaded.layers] == ["hidden", "drop", "out"]
    assert loaded.compiled and isinstance(loaded.optimizer, mk.optimizers.Adam)
    assert loaded.optimizer.get_config() == model.optimizer.get_config()
    assert type(loaded.loss) is type(model.loss)
    assert loaded.optimizer.iterations == model.optimizer.iterations == 8
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("optimizer", [
    lambda: mk.optimizers.Adam(0.01, amsgrad=True),
    lambda: mk.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
    lambda: mk.optimizers.RMSprop(0.01, momentum=0.5, centered=True),
], ids=["adam_amsgrad", "sgd_nesterov", "rmsprop_centered"])
def test_fit_save_load_fit_follows_the_uninterrupted_curve(tmp_path, optimizer):
    straight = make_model(optimizer=optimizer())
    resumed = make_model(optimizer=optimizer())
    resumed.set_weights(straight.get_weights())
    full = fit(straight, 6)
    first = fit(resumed, 3)
    resumed.save(tmp_path / "half.keras")
    del resumed
    second = fit(saving_api.load_model(tmp_path / "half.keras"), 6, initial_epoch=3)
    for key in full:
        np.testing.assert_array_equal(first[key] + second[key], full[key], err_msg=key)


def test_weights_file_round_trip_into_a_fresh_model(tmp_path):
    model = make_model()
    fit(model, 2)
    model.save_weights(tmp_path / "m.weights.h5")
    other = make_model(seed=5)
    other.load_weights(tmp_path / "m.weights.h5")
    np.testing.assert_array_equal(other.predict(X, verbose=0), model.predict(X, verbose=0))
    # The optimizer state came along: both continue identically.
    np.testing.assert_array_equal(fit(other, 1)["loss"], fit(model, 1)["loss"])


def test_weights_file_layout_is_keras_s(tmp_path):
    model = make_model()
    fit(model, 1)
    model.save_weights(tmp_path / "m.weights.h5")
    with h5py.File(tmp_path / "m.weights.h5", "r") as f:
        names = []
        f.visititems(lambda name, obj: names.append(name))
        # Groups are named after the classes, numbered in order, never after layer names.
        assert f["layers/dense/vars"].attrs["name"] == "hidden"
        assert f["layers/dense_1/vars"].attrs["name"] == "out"
        assert f["layers/dense/vars/0"].shape == (2, 8)
        assert f["layers/dense/vars/1"].shape == (8,)
        assert f["vars"].attrs["name"] == model.name
        assert f["optimizer/vars/0"][()] == 4                  # iterations
        assert f["optimizer/vars/1"].dtype == np.float32      # learning rate
        # Adam: iterations, lr, then (momentum, velocity) per variable, interleaved.
        assert [f[f"optimizer/vars/{i}"].shape for i in range(2, 6)] == [
            (2, 8), (2, 8), (8,), (8,)]
    assert "layers/dropout/vars" in names


def test_archive_members_and_config_are_keras_s(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras")
    with zipfile.ZipFile(tmp_path / "m.keras") as archive:
        assert archive.namelist() == ["metadata.json", "config.json", "model.weights.h5"]
        assert all(info.compress_type == zipfile.ZIP_STORED for info in archive.infolist())
        config = json.loads(archive.read("config.json"))
        metadata = json.loads(archive.read("metadata.json"))
    assert set(metadata) >= {"keras_version", "date_saved"}
    assert config["module"] == "keras" and config["class_name"] == "Sequential"
    layers = config["config"]["layers"]
    assert layers[0]["class_name"] == "InputLayer"
    assert layers[0]["config"]["batch_shape"] == [None, 2]
    dense = layers[1]
    assert dense["module"] == "keras.layers" and dense["registered_name"] is None
    assert dense["config"]["dtype"] == {"module": "keras", "class_name": "DTypePolicy",
                                        "config": {"name": "float32"}, "registered_name": None}
    assert dense["config"]["kernel_initializer"] == {
        "module": "keras.initializers", "class_name": "GlorotUniform",
        "config": {"seed": None}, "registered_name": None}
    assert dense["config"]["kernel_regularizer"]["module"] == "keras.regularizers"
    assert dense["build_config"] == {"input_shape": [None, 2]}
    compile_config = config["compile_config"]
    assert compile_config["loss"] == "binary_crossentropy"
    assert compile_config["metrics"] == ["accuracy"]
    assert compile_config["optimizer"]["class_name"] == "Adam"
    assert compile_config["optimizer"]["module"] == "keras.optimizers"


def test_load_model_compile_false_gives_an_uncompiled_model(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras")
    loaded = saving_api.load_model(tmp_path / "m.keras", compile=False)
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))


def test_uncompiled_and_untrained_models_round_trip(tmp_path):
    model = mk.Sequential([mk.Input((3,)), mk.layers.Dense(2)])
    model.save(tmp_path / "plain.keras")
    loaded = saving_api.load_model(tmp_path / "plain.keras")
    assert not loaded.compiled
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])
    compiled = make_model()                    # compiled, never trained: no optimizer slots
    compiled.save(tmp_path / "fresh.keras")
    loaded = saving_api.load_model(tmp_path / "fresh.keras")
    assert loaded.optimizer.iterations == 0 and not loaded.optimizer.built
    np.testing.assert_array_equal(fit(loaded, 1)["loss"], fit(compiled, 1)["loss"])


def test_cnn_round_trip(tmp_path):
    model = mk.Sequential([mk.Input((6, 6, 2)), Conv2D(3, 3, padding="same", activation="relu"),
                           MaxPooling2D(), mk.layers.Flatten(), mk.layers.Dense(2)])
    x = RNG.normal(size=(4, 6, 6, 2)).astype("float32")
    model.save(tmp_path / "cnn.keras")
    loaded = saving_api.load_model(tmp_path / "cnn.keras")
    assert [type(layer) for layer in loaded.layers] == [type(layer) for layer in model.layers]
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_float64_model_round_trips_in_float64(tmp_path):
    mk.backend.set_floatx("float64")
    try:
        model = mk.Sequential([mk.Input((2,)), mk.layers.Dense(3)])
        model.save(tmp_path / "m.keras")
    finally:
        mk.backend.set_floatx("float32")
    loaded = saving_api.load_model(tmp_path / "m.keras")
    assert loaded.layers[0].dtype == "float64"
    assert loaded.get_weights()[0].dtype == np.float64
    np.testing.assert_array_equal(loaded.get_weights()[0], model.get_weights()[0])


def test_files_are_written_with_normal_permissions(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.keras")
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(tmp_path / "m.keras").st_mode & 0o777 == 0o666 & ~umask


# ------------------------------------------------------------------------- configs


def test_to_json_and_model_from_json(tmp_path):
    model = make_model()
    text = saving_api.model_to_json(model)
    assert json.loads(text)["class_name"] == "Sequential"
    rebuilt = saving_api.model_from_json(text)
    assert saving_api.model_to_json(rebuilt) == text
    assert rebuilt.compiled                     # the JSON holds the compile config, as in Keras
    assert rebuilt.count_params() == model.count_params()
    assert not np.array_equal(rebuilt.get_weights()[0], model.get_weights()[0])
    assert saving_api.model_to_json(model, indent=2).startswith("{\n")


def test_sequential_get_config_from_config_round_trip():
    model = make_model()
    rebuilt = mk.Sequential.from_config(model.get_config())
    assert rebuilt.get_config() == model.get_config()


LAYERS = [
    lambda: mk.layers.Dense(3, activation="tanh", use_bias=False,
                            kernel_initializer=mk.initializers.RandomNormal(0.0, 0.2, seed=1),
                            bias_regularizer=mk.regularizers.L1L2(0.1, 0.2),
                            kernel_constraint=mk.constraints.MaxNorm(1.5),
                            activity_regularizer="l1"),
    lambda: mk.layers.Dropout(0.4, noise_shape=(None, 1), seed=3),
    lambda: mk.layers.Flatten(),
    lambda: mk.layers.Reshape((2, -1)),
    lambda: mk.layers.Activation("softmax"),
    lambda: mk.layers.InputLayer(shape=(3, 4)),
    lambda: Conv2D(4, (3, 2), strides=2, padding="same", dilation_rate=1, groups=2),
    lambda: MaxPooling2D(3, strides=1, padding="same"),
]


@pytest.mark.parametrize("make_layer", LAYERS, ids=[str(i) for i in range(len(LAYERS))])
def test_layer_configs_round_trip_through_json(make_layer):
    layer = make_layer()
    entry = json.loads(json.dumps(serialization.serialize_keras_object(layer)))
    assert entry["module"] == "keras.layers" and entry["registered_name"] is None
    rebuilt = serialization.deserialize_keras_object(entry)
    assert type(rebuilt) is type(layer)
    assert rebuilt.get_config() == layer.get_config()


def test_keras_only_arguments_are_dropped_when_off_and_refused_when_on():
    entry = serialization.serialize_keras_object(mk.layers.Dense(2))
    entry["config"]["quantization_config"] = None
    entry["config"]["kernel_initializer"]["config"]["input_axes"] = None
    assert serialization.deserialize_keras_object(entry).units == 2
    entry["config"]["lora_rank"] = 4
    with pytest.raises(ValueError, match=r"lora_rank=4.*does not support"):
        serialization.deserialize_keras_object(entry)


# ---------------------------------------------------------------- custom objects


class Scale(mk.layers.Layer):
    """A custom layer: out = x * factor (a learned vector)."""

    def __init__(self, init=1.0, **kwargs):
        super().__init__(**kwargs)
        self.init = init

    def build(self, input_shape):
        self.factor = self.add_weight((input_shape[-1],), mk.initializers.Constant(self.init),
                                      name="factor")
        self.built = True

    def forward(self, x, training=False):
        return x * self.factor.value, x

    def backward(self, dout, x):
        return dout * self.factor.value, [(dout * x).sum(axis=0)]

    def get_config(self):
        config = super().get_config()
        config["init"] = self.init
        return config


def _custom_model():
    model = mk.Sequential([mk.Input((2,)), Scale(2.5, name="scale"), mk.layers.Dense(1)])
    return model


def test_custom_layer_needs_custom_objects_or_registration(tmp_path):
    model = _custom_model()
    model.save(tmp_path / "c.keras")
    with zipfile.ZipFile(tmp_path / "c.keras") as archive:
        entry = json.loads(archive.read("config.json"))["config"]["layers"][1]
    assert entry["class_name"] == "Scale" and entry["module"] == __name__
    with pytest.raises(ValueError, match=r"c\.keras.*unknown class 'Scale'.*custom_objects"):
        saving_api.load_model(tmp_path / "c.keras")
    loaded = saving_api.load_model(tmp_path / "c.keras", custom_objects={"Scale": Scale})
    np.testing.assert_array_equal(loaded.predict(X, verbose=0), model.predict(X, verbose=0))
    with object_registration.custom_object_scope({"Scale": Scale}):
        loaded = saving_api.load_model(tmp_path / "c.keras")
    assert isinstance(loaded.layers[0], Scale) and loaded.layers[0].init == 2.5


def test_registered_custom_layer_loads_without_custom_objects(tmp_path):
    registered = object_registration.register_keras_serializable(package="Tests")(
        type("Registered", (Scale,), {}))
    try:
        model = mk.Sequential([mk.Input((2,)), registered(0.5), mk.layers.Dense(1)])
        model.save(tmp_path / "r.keras")
        with zipfile.ZipFile(tmp_path / "r.keras") as archive:
            entry = json.loads(archive.read("config.json"))["config"]["layers"][1]
        assert entry["registered_name"] == "Tests>Registered"
        loaded = saving_api.load_model(tmp_path / "r.keras")
        assert type(loaded.layers[0]) is registered
        assert object_registration.get_registered_object("Tests>Registered") is registered
        assert object_registration.get_registered_name(registered) == "Tests>Registered"
    finally:
        object_registration.get_custom_objects().pop("Tests>Registered")
        object_registration._GLOBAL_CUSTOM_NAMES.pop(registered)


def test_custom_object_scope_is_closed_after_the_block():
    with object_registration.CustomObjectScope({"Scale": Scale}):
        assert object_registration.get_registered_object("Scale") is Scale
    assert object_registration.get_registered_object("Scale") is None


# ------------------------------------------------------------------------ cloning


def test_clone_model_copies_the_architecture_not_the_weights():
    model = make_model()
    clone = clone_model(model)
    assert clone is not model and not clone.compiled
    assert clone.get_config() == model.get_config()
    assert all(a is not b for a, b in zip(clone.layers, model.layers))
    assert not np.array_equal(clone.get_weights()[0], model.get_weights()[0])
    clone.set_weights(model.get_weights())
    np.testing.assert_array_equal(clone.predict(X, verbose=0), model.predict(X, verbose=0))


def test_clone_model_with_input_tensors_and_clone_function():
    model = make_model()
    clone = clone_model(model, input_tensors=mk.Input((2,)),
                        clone_function=lambda layer: type(layer).from_config(
                            {**layer.get_config(), "name": layer.name + "_copy"}))
    assert [layer.name for layer in clone.layers] == ["hidden_copy", "drop_copy", "out_copy"]
    with pytest.raises(ValueError, match="clone_function"):
        clone_model(model, clone_function=3)
    with pytest.raises(ValueError, match="Sequential"):
        clone_model(mk.layers.Dense(2))


# ------------------------------------------------------------------- ModelCheckpoint


def test_model_checkpoint_formats_names_and_saves_every_epoch(tmp_path):
    model = make_model()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    fit(model, 3, validation_split=0.25, callbacks=[ModelCheckpoint(pattern)])
    names = sorted(os.listdir(tmp_path))
    assert len(names) == 3 and names[0].startswith("ckpt-01-") and names[2].startswith("ckpt-03-")
    last = saving_api.load_model(tmp_path / names[2])
    np.testing.assert_array_equal(last.predict(X, verbose=0), model.predict(X, verbose=0))


def test_model_checkpoint_save_best_only_keeps_the_best_weights(tmp_path):
    model = make_model(optimizer=mk.optimizers.SGD(5.0))     # unstable: val_loss goes up
    path = tmp_path / "best.weights.h5"
    checkpoint = ModelCheckpoint(path, monitor="val_loss", save_best_only=True,
                                 save_weights_only=True, mode="min")
    snapshots = []

    class Snapshot(mk.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append((logs["val_loss"], self.model.get_weights()))

    history = fit(model, 5, validation_split=0.25, callbacks=[checkpoint, Snapshot()])
    best = int(np.argmin(history["val_loss"]))
    assert checkpoint.best == min(history["val_loss"])
    restored = make_model()
    restored.load_weights(path)
    for a, b in zip(restored.get_weights(), snapshots[best][1]):
        np.testing.assert_array_equal(a, b)


def test_model_checkpoint_initial_value_threshold_and_batch_frequency(tmp_path):
    model = make_model()
    path = tmp_path / "never.keras"
    fit(model, 2, validation_split=0.25, callbacks=[ModelCheckpoint(
        path, save_best_only=True, initial_value_threshold=0.0)])
    assert not path.exists()                   # no val_loss ever beats 0
    saved = []
    original = model.save
    model.save = lambda filepath, overwrite=True: saved.append(filepath) or original(filepath)
    fit(model, 2, callbacks=[ModelCheckpoint(tmp_path / "b{epoch}-{batch}.keras",
                                             save_freq=3)])
    # 4 batches per epoch, a save every 3 batches: after batches 3 and 6 (epoch 2, batch 2).
    assert [os.path.basename(p) for p in saved] == ["b1-3.keras", "b2-2.keras"]


def test_model_checkpoint_argument_errors(tmp_path):
    with pytest.raises(ValueError, match=r"must end in `\.keras`"):
        ModelCheckpoint(tmp_path / "m.h5x")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        ModelCheckpoint(tmp_path / "m.keras", save_weights_only=True)
    with pytest.raises(ValueError, match="save_freq"):
        ModelCheckpoint(tmp_path / "m.keras", save_freq="batch")
    model = make_model()
    with pytest.raises(KeyError, match="val_accuracy"):
        fit(model, 1, callbacks=[ModelCheckpoint(str(tmp_path / "{val_accuracy}.keras"))])


# ----------------------------------------------------------------- BackupAndRestore


class _Crash(mk.callbacks.Callback):
    def __init__(self, at_epoch):
        super().__init__()
        self.at_epoch = at_epoch

    def on_epoch_begin(self, epoch, logs=None):
        if epoch == self.at_epoch:
            raise KeyboardInterrupt("simulated crash")


def test_backup_and_restore_restores_weights_and_optimizer_state(tmp_path):
    model = make_model()
    twin = make_model()
    twin.set_weights(model.get_weights())
    backup = BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(model, 4, callbacks=[backup, _Crash(2)])
    assert sorted(os.listdir(tmp_path / "backup")) == ["latest.weights.h5",
                                                       "training_metadata.json"]
    fit(twin, 2)                               # where the crashed run was
    fresh = make_model(seed=9)
    backup.set_model(fresh)
    backup.on_train_begin()
    assert fresh._initial_epoch == 2
    np.testing.assert_array_equal(fresh.predict(X, verbose=0), twin.predict(X, verbose=0))
    assert fresh.optimizer.iterations == twin.optimizer.iterations


def test_backup_and_restore_resumes_at_the_saved_epoch(tmp_path):
    model = make_model()
    straight = make_model()
    straight.set_weights(model.get_weights())
    full = fit(straight, 4)
    backup = BackupAndRestore(tmp_path / "backup")
    with pytest.raises(KeyboardInterrupt):
        fit(model, 4, callbacks=[backup, _Crash(2)])
    resumed = fit(model, 4, callbacks=[backup])
    np.testing.assert_array_equal(resumed["loss"], full["loss"][2:])
    assert not (tmp_path / "backup").exists()   # deleted after a complete run


def test_backup_and_restore_argument_errors():
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore("x", save_freq=0)


# ------------------------------------------------------------------ optional h5py


def test_missing_h5py_gives_install_instructions(tmp_path, monkeypatch):
    model = make_model()
    monkeypatch.setitem(sys.modules, "h5py", None)
    for call in (lambda: model.save(tmp_path / "m.keras"),
                 lambda: model.save_weights(tmp_path / "m.weights.h5")):
        with pytest.raises(ImportError, match=r"pip install h5py.*minikeras\[h5\]"):
            call()
    assert os.listdir(tmp_path) == []
