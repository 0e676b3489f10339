"""Legacy HDF5 model files (`model.save("m.h5")`): the layout minikeras writes, and crafted
files refused quickly with clear ValueErrors (loaded in a child process, as in
test_crafted_files.py, so a hang cannot stop the test run)."""

import json
import pathlib
import re
import subprocess
import sys

import h5py
import numpy as np
import pytest

import minikeras as mk

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from crafted_loader import make_model  # noqa: E402

SECRET = b"root:x:0:0:SECRET-BYTES!"      # 24 bytes: exactly a (2, 3) float32 kernel
MAX_SECONDS = 5.0


def test_layout_matches_keras(tmp_path):
    model = make_model()
    x = np.random.default_rng(0).random((8, 2), dtype="float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    path = tmp_path / "m.h5"
    model.save(path)
    with h5py.File(path) as f:
        assert set(f.attrs) == {"keras_version", "backend", "model_config", "training_config"}
        config = json.loads(f.attrs["model_config"])
        assert config["class_name"] == "Sequential"
        training = json.loads(f.attrs["training_config"])
        assert training["optimizer_config"]["class_name"] == "Adam"
        assert "optimizer" not in training and training["loss"] == "mean_squared_error"
        weights = f["model_weights"]
        assert list(weights.attrs["layer_names"]) == ["hidden", "out"]
        assert list(weights["hidden"].attrs["weight_names"]) == [
            f"{model.name}/hidden/kernel", f"{model.name}/hidden/bias"]
        np.testing.assert_array_equal(f["model_weights/hidden"][f"{model.name}/hidden/kernel"],
                                      model.layers[0].kernel.value)
        assert len(weights["top_level_model_weights"].attrs["weight_names"]) == 0
        names = list(f["optimizer_weights"].attrs["weight_names"])
        adam = model.optimizer.name
        assert names[:2] == [f"{adam}/iteration", f"{adam}/learning_rate"]
        assert len(names) == 10                 # and 2 slots for each of the 4 weights
        assert f[f"optimizer_weights/{adam}/iteration"][()] == 1


def test_round_trip_restores_weights_compile_and_optimizer(tmp_path, capsys):
    rng = np.random.default_rng(1)
    x, y = rng.random((16, 2), dtype="float32"), rng.random((16, 1), dtype="float32")
    model = make_model()
    model.fit(x, y, epochs=2, verbose=0, shuffle=False)
    model.save(tmp_path / "m.h5")
    assert "WARNING:absl:You are saving your model as an HDF5 file" in capsys.readouterr().err
    loaded = mk.saving.load_model(tmp_path / "m.h5")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))
    for a, b in zip(loaded.optimizer.variables, model.optimizer.variables):
        np.testing.assert_array_equal(a, b)
    after = model.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    again = loaded.fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    np.testing.assert_allclose(again, after, rtol=1e-6)


def test_uncompiled_and_include_optimizer_false(tmp_path, capsys):
    model = make_model()
    model.save(tmp_path / "m.h5", include_optimizer=False)
    with h5py.File(tmp_path / "m.h5") as f:
        assert "training_config" not in f.attrs and "optimizer_weights" not in f
    loaded = mk.saving.load_model(tmp_path / "m.h5")
    assert not loaded.compiled
    assert "No training configuration found in the save file" in capsys.readouterr().err


def test_optimizer_saved_before_training_and_mismatched_state(tmp_path, capsys):
    model = make_model()
    model.optimizer.learning_rate = 0.05
    model.save(tmp_path / "fresh.h5")       # compiled, never trained: no slots yet
    with h5py.File(tmp_path / "fresh.h5") as f:
        assert len(f["optimizer_weights"].attrs["weight_names"]) == 2
    loaded = mk.saving.load_model(tmp_path / "fresh.h5")
    assert loaded.optimizer.iterations == 0
    np.testing.assert_allclose(float(loaded.optimizer.learning_rate), 0.05, rtol=1e-7)

    x = np.ones((4, 2), "float32")
    model.fit(x, x[:, :1], epochs=1, verbose=0)
    model.save(tmp_path / "bad.h5")
    with h5py.File(tmp_path / "bad.h5", "a") as f:
        group = f["optimizer_weights"]
        name = group.attrs["weight_names"][2]
        del group[name]
        group[name] = np.zeros(7, "float32")        # a slot of the wrong shape
    capsys.readouterr()
    loaded = mk.saving.load_model(tmp_path / "bad.h5")
    err = capsys.readouterr().err
    assert "freshly initialized optimizer" in err and "(7,)" in err
    assert loaded.optimizer.iterations == 0
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_load_weights_from_a_legacy_model_file(tmp_path):
    model = make_model()
    model.save(tmp_path / "m.h5")
    other = make_model()
    other.load_weights(tmp_path / "m.h5")
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    small = mk.Sequential([mk.Input((2,)), mk.layers.Dense(3)])
    with pytest.raises(ValueError, match=r"Layer count mismatch.*expected 1 layers"):
        small.load_weights(tmp_path / "m.h5")
    # Keras 3 writes no legacy weights-only files: save_weights wants `.weights.h5`.
    with pytest.raises(ValueError, match=r"must end in `\.weights\.h5`"):
        model.save_weights(tmp_path / "w.h5")


# ---------------------------------------------------------------- crafted files


def _kernel(f):
    """The path of the first Dense's kernel (named after the model, whose number varies)."""
    return "model_weights/hidden/" + f["model_weights/hidden"].attrs["weight_names"][0]


def _soft_link(f):
    kernel = _kernel(f)
    del f[kernel]
    f[kernel] = h5py.SoftLink("/" + kernel.replace("hidden", "out"))


def _soft_link_group(f):
    del f["model_weights/hidden"]
    f["model_weights/hidden"] = h5py.SoftLink("/model_weights/out")


def _external_link(source):
    def edit(f):
        kernel = _kernel(f)
        del f[kernel]
        f[kernel] = h5py.ExternalLink(str(source), "/data")
    return edit


def _external_storage(secret):
    def edit(f):
        kernel = _kernel(f)
        del f[kernel]
        f.create_dataset(kernel, shape=(2, 3), dtype="float32",
                         external=[(str(secret), 0, len(SECRET))])
    return edit


def _virtual(source):
    def edit(f):
        layout = h5py.VirtualLayout(shape=(2, 3), dtype="float32")
        layout[:] = h5py.VirtualSource(str(source), "data", shape=(2, 3))
        kernel = _kernel(f)
        del f[kernel]
        f.create_virtual_dataset(kernel, layout)
    return edit


def _weight_names(names):
    def edit(f):
        f["model_weights/hidden"].attrs["weight_names"] = [n.encode() for n in names]
    return edit


def _layer_names(names):
    def edit(f):
        f["model_weights"].attrs["layer_names"] = [n.encode() for n in names]
    return edit


def _strings(f):
    kernel = _kernel(f)
    del f[kernel]
    f.create_dataset(kernel, data=np.array([[b"a"] * 3] * 2))


def _huge_json(f):
    # variable-length, as Keras stores it: the text lives in the file's heap, not the header
    f.attrs.create("model_config", "[" + "0," * (40 * 2**20) + "0]", dtype=h5py.string_dtype())


def _deep_json(depth):
    def edit(f):
        config = json.loads(f.attrs["model_config"])
        for _ in range(depth):
            config = {"class_name": "Sequential", "config": config}
        f.attrs["model_config"] = json.dumps(config).encode()
    return edit


def _absurd_units(units):
    def edit(f):
        config = json.loads(f.attrs["model_config"])
        config["config"]["layers"][1]["config"]["units"] = units
        f.attrs["model_config"] = json.dumps(config).encode()
    return edit


def _many_chunks(f):
    group = f["model_weights"]
    names = list(group.attrs["layer_names"])
    del group.attrs["layer_names"]
    for i in range(1001):
        group.attrs[f"layer_names{i}"] = names


def _int_attribute(f):
    f["model_weights/hidden"].attrs["weight_names"] = np.arange(3)


def _top_level_weights(f):
    group = f["model_weights/top_level_model_weights"]
    group.attrs["weight_names"] = [b"w"]
    group["w"] = np.zeros(3, "float32")


# name: (edit, pattern the ValueError must match)
CASES = {
    "soft_link": (lambda d: _soft_link, r"not allowed.*SoftLink"),
    "soft_link_group": (lambda d: _soft_link_group, r"not allowed.*'model_weights/hidden'.*"
                                                    r"SoftLink"),
    "external_link": (lambda d: _external_link(d / "source.h5"), r"not allowed.*ExternalLink"),
    "external_storage": (lambda d: _external_storage(d / "secret.bin"),
                         r"not allowed.*external dataset"),
    "virtual": (lambda d: _virtual(d / "source.h5"), r"not allowed.*virtual dataset"),
    "strings": (lambda d: _strings, r"not allowed.*non-numeric"),
    "dotdot_weight_name": (lambda d: _weight_names(["../out/sequential/out/kernel",
                                                    "hidden/bias"]),
                           r"not allowed.*'\.\./out.*not a plain path"),
    "absolute_weight_name": (lambda d: _weight_names(["/model_weights/out/sequential/out/"
                                                      "kernel", "hidden/bias"]),
                             r"not allowed.*not a plain path"),
    "missing_weight_name": (lambda d: _weight_names(["nothere", "hidden/bias"]),
                            r"lists a weight 'nothere' that the file does not hold"),
    "dotdot_layer_name": (lambda d: _layer_names(["..", "out"]), r"not allowed.*'\.\.'"),
    "many_layer_name_chunks": (lambda d: _many_chunks, r"more than 1000 attributes"),
    "number_weight_names": (lambda d: _int_attribute, r"should hold text"),
    "top_level_weights": (lambda d: _top_level_weights, r"Model expects 0 top-level weight"),
    "huge_json": (lambda d: _huge_json, r"model_config.*more than"),
    "deep_json": (lambda d: _deep_json(150), r"model_config.*nested more than"),
    "absurd_units": (lambda d: _absurd_units(10**12), r"'hidden'.*Dense.*units=1000000000000"),
}


@pytest.fixture(scope="module")
def outcomes(tmp_path_factory):
    folder = tmp_path_factory.mktemp("legacy")
    (folder / "secret.bin").write_bytes(SECRET)
    with h5py.File(folder / "source.h5", "w") as f:
        f["data"] = np.frombuffer(SECRET, dtype="float32").reshape(2, 3)
    make_model().save(folder / "base.h5")
    jobs = []
    for name, (edit, _) in CASES.items():
        path = folder / f"{name}.h5"
        path.write_bytes((folder / "base.h5").read_bytes())
        with h5py.File(path, "a") as f:
            edit(folder)(f)
        jobs.append({"name": [name, "model", False], "kind": "model", "path": str(path)})
        jobs.append({"name": [name, "weights", False], "kind": "weights", "path": str(path)})
    (folder / "jobs.json").write_text(json.dumps(jobs))
    run = subprocess.run([sys.executable, str(HERE / "crafted_loader.py"),
                          str(folder / "jobs.json")], capture_output=True, text=True,
                         timeout=600, cwd=folder)
    results = {"stderr": run.stderr[-3000:]}
    for line in run.stdout.splitlines():
        outcome = json.loads(line)
        outcome["file_size"] = (folder / f"{outcome['name'][0]}.h5").stat().st_size
        results[tuple(outcome["name"][:2])] = outcome
    return results


# The configuration cases concern load_model only: load_weights reads no config.
CONFIG_CASES = {"huge_json", "deep_json", "absurd_units"}


@pytest.mark.parametrize("name,kind", [(name, kind) for name in sorted(CASES)
                                       for kind in ("model", "weights")
                                       if kind == "model" or name not in CONFIG_CASES])
def test_crafted_legacy_file_is_refused(outcomes, name, kind):
    key = (name, kind)
    assert key in outcomes, f"the load of {name} ({kind}) never finished: {outcomes['stderr']}"
    outcome = outcomes[key]
    assert outcome["seconds"] < MAX_SECONDS, f"{name} took {outcome['seconds']:.1f} s"
    assert not outcome["ok"], f"{name}.h5 loaded"
    assert outcome["value_error"], f"{outcome['type']}: {outcome['message']}"
    assert f"{name}.h5" in outcome["message"], outcome["message"]
    assert re.search(CASES[name][1], outcome["message"], re.S), outcome["message"]
    assert SECRET.decode() not in outcome["message"]
    assert not outcome.get("changed"), "the model changed although the load failed"
    # A variable-length string attribute is read before its length can be checked: that
    # costs at most the file's own size (it is stored uncompressed), never more.
    limit = 16 * 2**20 + 2 * outcome["file_size"]
    assert outcome["peak_bytes"] < limit, f"allocated {outcome['peak_bytes']} bytes"


def test_not_a_model_file(tmp_path):
    (tmp_path / "junk.h5").write_bytes(b"not an HDF5 file")
    with pytest.raises(ValueError, match=r"junk\.h5 is not a readable HDF5 file"):
        mk.saving.load_model(tmp_path / "junk.h5")
    with h5py.File(tmp_path / "empty.h5", "w"):
        pass
    with pytest.raises(ValueError, match=r"No model config found in the file at .*empty\.h5"):
        mk.saving.load_model(tmp_path / "empty.h5")
    with pytest.raises(ValueError, match=r"empty\.h5 is neither a legacy Keras model file"):
        make_model().load_weights(tmp_path / "empty.h5")
