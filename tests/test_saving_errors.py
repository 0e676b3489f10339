"""Bad files and interrupted saves: every failure is a clear error naming the file and the
problem, nothing in a file is ever run, and a failed save leaves the previous file intact."""

import errno
import io
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import zipfile

import h5py
import numpy as np
import pytest

import minikeras as mk
from minikeras.saving import h5_weights, keras_archive, saving_api


def make_model(units=3):
    model = mk.Sequential([mk.Input((2,)), mk.layers.Dense(units, name="hidden"),
                           mk.layers.Dense(1, name="out")])
    model.compile(optimizer="adam", loss="mse")
    return model


@pytest.fixture
def saved(tmp_path):
    """A model and its .keras and .weights.h5 files."""
    model = make_model()
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    model.save_weights(tmp_path / "m.weights.h5")
    return model, tmp_path / "m.keras", tmp_path / "m.weights.h5"


def rewrite_archive(source, target, config=None, members=None):
    """Copies a .keras archive, replacing config.json (a dict) and/or other members."""
    with zipfile.ZipFile(source) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    if config is not None:
        contents["config.json"] = json.dumps(config).encode()
    for name, data in (members or {}).items():
        if data is None:
            contents.pop(name, None)
        else:
            contents[name] = data
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return target


def read_config(path):
    with zipfile.ZipFile(path) as archive:
        return json.loads(archive.read("config.json"))


# -------------------------------------------------------------------- missing files


def test_missing_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="nothere.keras"):
        saving_api.load_model(tmp_path / "nothere.keras")
    with pytest.raises(FileNotFoundError, match=r"nothere\.weights\.h5"):
        make_model().load_weights(tmp_path / "nothere.weights.h5")


def test_wrong_extensions(tmp_path, saved):
    model = saved[0]
    with pytest.raises(ValueError, match=r"`\.keras` extension.*`\.h5` extension"):
        model.save(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "m.h5")
    (tmp_path / "m.txt").write_text("hello")
    with pytest.raises(ValueError, match=r"m\.txt.*\.keras"):
        saving_api.load_model(tmp_path / "m.txt")
    with pytest.raises(ValueError, match=r"\.weights\.h5`, `\.keras` or \(legacy\) `\.h5`"):
        model.load_weights(tmp_path / "m.txt")


# ---------------------------------------------------------------- damaged archives


def test_truncated_archive(tmp_path, saved):
    data = saved[1].read_bytes()
    for size in (len(data) // 2, len(data) - 10, 30):
        path = tmp_path / f"cut{size}.keras"
        path.write_bytes(data[:size])
        with pytest.raises(ValueError, match=rf"cut{size}\.keras.*(truncated|damaged)"):
            saving_api.load_model(path)


def test_file_that_is_not_a_zip(tmp_path):
    path = tmp_path / "text.keras"
    path.write_text("this is not a model")
    with pytest.raises(ValueError, match=r"text\.keras is not a valid \.keras file"):
        saving_api.load_model(path)


def test_zip_that_is_not_a_model(tmp_path):
    path = tmp_path / "other.keras"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("readme.txt", "hi")
    with pytest.raises(ValueError, match=r"other\.keras is not a Keras model archive.*config"):
        saving_api.load_model(path)


def test_config_that_is_not_json_or_not_a_model(tmp_path, saved):
    path = rewrite_archive(saved[1], tmp_path / "bad.keras",
                           members={"config.json": b"{not json"})
    with pytest.raises(ValueError, match=r"bad\.keras: config\.json is not valid JSON"):
        saving_api.load_model(path)
    path = rewrite_archive(saved[1], tmp_path / "list.keras", members={"config.json": b"[1]"})
    with pytest.raises(ValueError, match=r"list\.keras.*does not describe a model"):
        saving_api.load_model(path)
    config = read_config(saved[1])["config"]["layers"][1]      # a Dense, not a model
    path = rewrite_archive(saved[1], tmp_path / "layer.keras", config=config)
    with pytest.raises(ValueError, match=r"layer\.keras holds a Dense, not a model"):
        saving_api.load_model(path)


def test_archive_without_weights(tmp_path, saved):
    path = rewrite_archive(saved[1], tmp_path / "noweights.keras",
                           members={"model.weights.h5": None})
    with pytest.raises(ValueError, match=r"noweights\.keras has no model\.weights\.h5"):
        saving_api.load_model(path)


def test_weights_member_that_is_not_hdf5(tmp_path, saved):
    path = rewrite_archive(saved[1], tmp_path / "garbage.keras",
                           members={"model.weights.h5": b"\x00" * 64})
    with pytest.raises(ValueError, match=r"garbage\.keras.*not a readable HDF5"):
        saving_api.load_model(path)


# -------------------------------------------------------------------- unknown classes


def test_unknown_class_is_refused_unless_registered(tmp_path, saved):
    config = read_config(saved[1])
    layer = config["config"]["layers"][1]
    layer.update(module="evil.module", class_name="Backdoor", registered_name="Custom>Backdoor")
    path = rewrite_archive(saved[1], tmp_path / "evil.keras", config=config)
    with pytest.raises(ValueError, match=r"evil\.keras.*unknown class 'Custom>Backdoor'"
                                         r".*custom_objects"):
        saving_api.load_model(path)


def test_unknown_keras_class_is_named(tmp_path, saved):
    config = read_config(saved[1])
    config["config"]["layers"][1]["class_name"] = "ConvLSTM2D"
    path = rewrite_archive(saved[1], tmp_path / "conv_lstm.keras", config=config)
    with pytest.raises(ValueError, match=r"conv_lstm\.keras.*no layer named 'ConvLSTM2D'"):
        saving_api.load_model(path)
    config = read_config(saved[1])
    config["class_name"] = "Functional"
    path = rewrite_archive(saved[1], tmp_path / "functional.keras", config=config)
    # A Sequential's layer list under the Functional class: its layers have no names and no
    # inbound_nodes, so there is no graph to rebuild.
    with pytest.raises(ValueError, match=r"functional\.keras, layer 0: each layer needs a string "
                                         r"`name` and a list `inbound_nodes`"):
        saving_api.load_model(path)


def test_code_in_a_file_is_never_run(tmp_path, saved):
    config = read_config(saved[1])
    config["config"]["layers"][1] = {
        "module": "keras.layers", "class_name": "Lambda", "registered_name": None,
        "config": {"function": {"class_name": "__lambda__",
                                "config": {"code": "YmFkIGNvZGU=", "defaults": None}}}}
    path = rewrite_archive(saved[1], tmp_path / "lambda.keras", config=config)
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match=r"lambda\.keras.*never runs code"):
            saving_api.load_model(path, safe_mode=safe_mode)
    config["config"]["layers"][1] = {"class_name": "__lambda__", "config": {}}
    path = rewrite_archive(saved[1], tmp_path / "lambda2.keras", config=config)
    with pytest.raises(ValueError, match="never runs code"):
        saving_api.load_model(path, safe_mode=False)


def test_no_pickle_marshal_or_eval_in_the_saving_code():
    folder = pathlib.Path(h5_weights.__file__).parent
    for source in folder.glob("*.py"):
        text = source.read_text()
        for word in ("import pickle", "import marshal", "eval(", "exec(", "np.load(",
                     "allow_pickle"):
            assert word not in text, (source.name, word)


def test_unsupported_keras_argument_is_refused(tmp_path, saved):
    config = read_config(saved[1])
    config["config"]["layers"][1]["config"]["lora_rank"] = 8
    path = rewrite_archive(saved[1], tmp_path / "lora.keras", config=config)
    with pytest.raises(ValueError, match=r"lora\.keras.*lora_rank=8"):
        saving_api.load_model(path)


def test_bad_layer_argument_value_names_the_file(tmp_path, saved):
    config = read_config(saved[1])
    config["config"]["layers"][1]["config"]["units"] = -4
    path = rewrite_archive(saved[1], tmp_path / "units.keras", config=config)
    with pytest.raises(ValueError, match=r"units\.keras.*Dense.*units"):
        saving_api.load_model(path)


def test_unknown_optimizer_points_to_compile_false(tmp_path, saved):
    config = read_config(saved[1])
    config["compile_config"]["optimizer"]["class_name"] = "Muon"
    path = rewrite_archive(saved[1], tmp_path / "muon.keras", config=config)
    with pytest.raises(ValueError, match=r"muon\.keras.*'Muon'"):
        saving_api.load_model(path)
    model = saving_api.load_model(path, compile=False)
    assert not model.compiled


# ------------------------------------------------------------------- weights mismatch


def _edit_h5(source, target, edit):
    target.write_bytes(pathlib.Path(source).read_bytes())
    with h5py.File(target, "a") as f:
        edit(f)
    return target


def test_missing_weights(tmp_path, saved):
    path = _edit_h5(saved[2], tmp_path / "a.weights.h5", lambda f: f.__delitem__("layers/dense_1"))
    with pytest.raises(ValueError, match=r"a\.weights\.h5: missing weights for layer 'out'.*"
                                         r"layers/dense_1/vars"):
        make_model().load_weights(path)
    path = _edit_h5(saved[2], tmp_path / "b.weights.h5",
                    lambda f: f.__delitem__("layers/dense/vars/1"))
    with pytest.raises(ValueError, match=r"b\.weights\.h5: layer 'hidden' expects 2 .*has 1.*"
                                         r"missing"):
        make_model().load_weights(path)


def test_extra_weights(tmp_path, saved):
    path = _edit_h5(saved[2], tmp_path / "c.weights.h5",
                    lambda f: f.create_dataset("layers/dense/vars/2", data=np.zeros(3)))
    with pytest.raises(ValueError, match=r"c\.weights\.h5: layer 'hidden' expects 2 .*has 3.*"
                                         r"extra"):
        make_model().load_weights(path)

    def add_layer(f):
        f.create_dataset("layers/dense_2/vars/0", data=np.zeros((1, 1)))

    path = _edit_h5(saved[2], tmp_path / "d.weights.h5", add_layer)
    with pytest.raises(ValueError, match=r"d\.weights\.h5.*layers/dense_2/vars.*extra"):
        make_model().load_weights(path)


def test_wrong_shapes(tmp_path, saved):
    model = make_model(units=5)
    before = model.get_weights()
    with pytest.raises(ValueError, match=r"m\.weights\.h5: weight 0 of layer 'hidden' \(kernel\)"
                                         r" has shape \(2, 5\) in the model but \(2, 3\)"):
        model.load_weights(saved[2])
    with pytest.raises(ValueError, match=r"m\.keras.*shape \(2, 5\) in the model but \(2, 3\)"):
        model.load_weights(saved[1])
    for a, b in zip(model.get_weights(), before):           # nothing was changed
        np.testing.assert_array_equal(a, b)


def test_skip_mismatch_loads_the_layers_that_fit(tmp_path, saved):
    model = make_model(units=5)
    with pytest.warns(UserWarning, match="Skipping.*hidden"):
        model.load_weights(saved[2], skip_mismatch=True)
    # "out" does not fit either (its kernel is (5, 1) here): so nothing changed but no error.
    path = _edit_h5(saved[2], tmp_path / "e.weights.h5",
                    lambda f: f.create_dataset("layers/dense/vars/2", data=np.zeros(3)))
    model = make_model()
    with pytest.warns(UserWarning, match="Skipping.*hidden"):
        model.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(model.layers[1].get_weights()[0],
                                  saved[0].layers[1].get_weights()[0])


def test_truncated_and_foreign_weight_files(tmp_path, saved):
    data = saved[2].read_bytes()
    path = tmp_path / "cut.weights.h5"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(ValueError, match=r"cut\.weights\.h5 is not a readable HDF5 weights file"):
        make_model().load_weights(path)
    path = tmp_path / "legacy.weights.h5"
    with h5py.File(path, "w") as f:
        f.attrs["layer_names"] = [b"dense"]
    with pytest.raises(ValueError, match=r"legacy\.weights\.h5.*legacy Keras 2"):
        make_model().load_weights(path)


def test_links_and_non_numeric_arrays_are_refused(tmp_path, saved):
    def external(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink("/etc/passwd", "/x")

    path = _edit_h5(saved[2], tmp_path / "link.weights.h5", external)
    with pytest.raises(ValueError, match=r"link\.weights\.h5: not allowed: 'layers/dense/vars/0' "
                                         "is a link of type ExternalLink"):
        make_model().load_weights(path)

    def strings(f):
        del f["layers/dense/vars/1"]
        f.create_dataset("layers/dense/vars/1", data=np.array([b"a", b"b", b"c"]))

    path = _edit_h5(saved[2], tmp_path / "str.weights.h5", strings)
    with pytest.raises(ValueError, match=r"str\.weights\.h5: not allowed: array "
                                         r"'layers/dense/vars/1' has non-numeric dtype"):
        make_model().load_weights(path)


def test_optimizer_of_another_kind_is_skipped_with_a_warning(saved):
    model = make_model()
    model.compile(optimizer=mk.optimizers.SGD(0.1, momentum=0.9), loss="mse")
    with pytest.warns(UserWarning, match="skipping the optimizer state"):
        model.load_weights(saved[2])
    np.testing.assert_array_equal(model.get_weights()[0], saved[0].get_weights()[0])


def test_loading_into_an_unbuilt_model(saved):
    model = mk.Sequential([mk.layers.Dense(3)])
    with pytest.raises(ValueError, match="not yet been built"):
        model.load_weights(saved[2])
    with pytest.raises(ValueError, match="not yet been built"):
        model.save_weights("x.weights.h5")


# ------------------------------------------------------------------ interrupted saves


def _write_half_then_fail(h5file, model, include_optimizer=True):
    h5file.create_dataset("layers/dense/vars/0", data=np.zeros((2, 3)))
    raise OSError("disk full (simulated)")


@pytest.mark.parametrize("kind", ["keras", "weights"])
def test_interrupted_save_keeps_the_old_file_and_leaves_no_temporary(tmp_path, saved,
                                                                     monkeypatch, kind):
    model, keras_path, weights_path = saved
    target = keras_path if kind == "keras" else weights_path
    before = target.read_bytes()
    listing = sorted(os.listdir(tmp_path))
    fit_more = make_model()
    monkeypatch.setattr(h5_weights, "write_weights", _write_half_then_fail)
    with pytest.raises(OSError, match="disk full"):
        if kind == "keras":
            fit_more.save(target)
        else:
            fit_more.save_weights(target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(tmp_path)) == listing
    monkeypatch.undo()
    reloaded = saving_api.load_model(keras_path)
    np.testing.assert_array_equal(reloaded.get_weights()[0], model.get_weights()[0])


def test_interrupted_archive_write_after_the_config(tmp_path, monkeypatch):
    """The failure comes after part of the zip is already on disk."""
    calls = []
    real_writestr = zipfile.ZipFile.writestr

    def failing_writestr(self, name, data, *args, **kwargs):
        calls.append(name)
        if name == keras_archive.WEIGHTS_NAME:
            raise KeyboardInterrupt("interrupted (simulated)")
        return real_writestr(self, name, data, *args, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "writestr", failing_writestr)
    with pytest.raises(KeyboardInterrupt):
        make_model().save(tmp_path / "new.keras")
    assert calls == ["metadata.json", "config.json", "model.weights.h5"]
    assert os.listdir(tmp_path) == []           # no half-written file, no temporary


def test_overwrite_false_refuses_without_a_terminal(saved, monkeypatch):
    model, keras_path, weights_path = saved
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    before = keras_path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save(keras_path, overwrite=False)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        model.save_weights(weights_path, overwrite=False)
    assert keras_path.read_bytes() == before


def test_saving_into_a_missing_directory_or_onto_a_directory(tmp_path):
    model = make_model()
    with pytest.raises(FileNotFoundError, match="does not exist"):
        model.save(tmp_path / "no" / "such" / "m.keras")
    (tmp_path / "d.keras").mkdir()
    with pytest.raises(IsADirectoryError, match="is a directory"):
        model.save(tmp_path / "d.keras")
    assert os.listdir(tmp_path) == ["d.keras"]


# ------------------------------------------------------- failed and killed saves


def _refuse_creating_files_in(directory, monkeypatch):
    """What the OS does in a read-only directory (simulated: as root, chmod does not stop
    writes): creating a file there fails with EACCES, naming the file being created."""
    real_open = os.open

    def open_(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and os.path.dirname(os.path.abspath(path)) == str(directory):
            raise PermissionError(errno.EACCES, "Permission denied", path)
        return real_open(path, flags, *args, **kwargs)

    monkeypatch.setattr(os, "open", open_)


@pytest.mark.parametrize("kind", ["keras", "weights"])
def test_failed_save_names_the_path_the_user_gave(tmp_path, monkeypatch, kind):
    model = make_model()
    target = tmp_path / ("m.keras" if kind == "keras" else "m.weights.h5")
    save = model.save if kind == "keras" else model.save_weights
    _refuse_creating_files_in(tmp_path, monkeypatch)
    with pytest.raises(PermissionError) as raised:
        save(target)
    assert str(raised.value) == f"[Errno {errno.EACCES}] Permission denied: '{target}'"
    monkeypatch.undo()
    if os.geteuid() != 0:                   # the real thing, where chmod is obeyed
        tmp_path.chmod(0o555)
        try:
            with pytest.raises(PermissionError, match=re.escape(repr(str(target)))):
                save(target)
        finally:
            tmp_path.chmod(0o755)
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("kind", ["keras", "weights"])
def test_disk_full_names_the_path_and_keeps_the_old_file(saved, monkeypatch, kind):
    model, keras_path, weights_path = saved
    target = keras_path if kind == "keras" else weights_path
    before = target.read_bytes()
    listing = sorted(os.listdir(target.parent))

    def full(fd):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OSError, match=re.escape(f"No space left on device: '{target}'")):
        model.save(target) if kind == "keras" else model.save_weights(target)
    assert target.read_bytes() == before
    assert sorted(os.listdir(target.parent)) == listing


_KILLED_SAVE = """
import os, signal, sys
import minikeras as mk
model = mk.Sequential([mk.Input((2,)), mk.layers.Dense(4)])
os.fsync = lambda fd: os.kill(os.getpid(), signal.SIGKILL)   # dies with the bytes written
model.save(sys.argv[1]) if sys.argv[1].endswith(".keras") else model.save_weights(sys.argv[1])
"""


@pytest.mark.parametrize("kind", ["keras", "weights"])
def test_a_killed_save_leaves_a_temporary_that_the_next_save_removes(saved, kind):
    model, keras_path, weights_path = saved
    target = keras_path if kind == "keras" else weights_path
    folder = target.parent
    before = target.read_bytes()
    killed = subprocess.run([sys.executable, "-c", _KILLED_SAVE, str(target)],
                            capture_output=True, timeout=120)
    assert killed.returncode == -signal.SIGKILL, killed.stderr.decode()
    assert target.read_bytes() == before            # the crash did not touch the old file
    stale = [name for name in os.listdir(folder)
             if name.startswith(f".{target.name}.") and name.endswith(".tmp")]
    assert len(stale) == 1, os.listdir(folder)
    # Temporaries that must survive: one of a running process (pid 1), one of another file.
    running = folder / f".{target.name}.1.abcdefgh.tmp"
    other = folder / f".other.keras.{stale[0].split('.')[-3]}.abcdefgh.tmp"
    running.write_bytes(b"")
    other.write_bytes(b"")
    model.save(target) if kind == "keras" else model.save_weights(target)
    assert stale[0] not in os.listdir(folder)
    assert running.exists() and other.exists()
    if kind == "keras":
        reloaded = saving_api.load_model(target)
    else:
        reloaded = make_model()
        reloaded.load_weights(target)
    np.testing.assert_array_equal(reloaded.get_weights()[0], model.get_weights()[0])
