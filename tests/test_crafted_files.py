"""Weight files and model archives crafted as an attacker would, each loaded through both
`model.load_weights(...)` and `load_model(...)`.

Every crafted file is refused with a ValueError naming the file and the path inside it, or (when
the oddity lies where the model never looks) loads the model's weights correctly; every load
takes under a few seconds and allocates no more than the model needs.

The loads run in one child process (tests/crafted_loader.py) so that a loader that hangs on a
crafted file fails the test instead of blocking the test run.
"""

import json
import pathlib
import re
import subprocess
import sys
import zipfile
import zlib

import h5py
import numpy as np
import pytest

import minikeras as mk

HERE = pathlib.Path(__file__).parent
sys.path.insert(0, str(HERE))
from crafted_loader import make_model  # noqa: E402

SECRET = b"root:x:0:0:SECRET-BYTES!"      # 24 bytes: exactly a (2, 3) float32 kernel
MAX_SECONDS = 5.0                          # "within a second", with room for a busy machine


# ----------------------------------------------------------------------- crafting files


def _copy_h5(base, target, edit):
    target.write_bytes(base.read_bytes())
    with h5py.File(target, "a") as f:
        edit(f)
    return target


def _archive_with_weights(base_keras, target, weights_path):
    """A copy of base_keras whose model.weights.h5 is the file at weights_path."""
    return _rewrite_archive(base_keras, target,
                            {"model.weights.h5": pathlib.Path(weights_path).read_bytes()})


def _rewrite_archive(base_keras, target, members):
    with zipfile.ZipFile(base_keras) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    contents.update(members)
    with zipfile.ZipFile(target, "w") as archive:
        for name, data in contents.items():
            archive.writestr(name, data)
    return target


def _replace(f, path, **create):
    del f[path]
    f.create_dataset(path, **create)


def _external_storage(secret_path, path="layers/dense/vars/0"):
    def edit(f):
        _replace(f, path, shape=(2, 3), dtype="float32",
                 external=[(str(secret_path), 0, len(SECRET))])
    return edit


def _virtual(source_path):
    def edit(f):
        layout = h5py.VirtualLayout(shape=(2, 3), dtype="float32")
        layout[:] = h5py.VirtualSource(str(source_path), "data", shape=(2, 3))
        del f["layers/dense/vars/0"]
        f.create_virtual_dataset("layers/dense/vars/0", layout)
    return edit


def _soft_link(f):
    del f["layers/dense/vars/0"]
    f["layers/dense/vars/0"] = h5py.SoftLink("/layers/dense_1/vars/0")


def _soft_link_group(f):
    del f["layers/dense"]
    f["layers/dense"] = h5py.SoftLink("/layers/dense_1")


def _external_link(source_path):
    def edit(f):
        del f["layers/dense/vars/0"]
        f["layers/dense/vars/0"] = h5py.ExternalLink(str(source_path), "/data")
    return edit


def _dag(parent, depth=60):
    """depth groups, each linked twice (hard links) to the next: 2**depth paths."""
    groups = [parent.create_group(f"g{i}") for i in range(depth)]
    for here, below in zip(groups, groups[1:]):
        here["a"] = below
        here["b"] = below
    return groups[0]


def _dag_beside(f):
    _dag(f.create_group("junk"))


def _dag_as_extra_layer(f):
    _dag(f.create_group("layers/dense_2"))


def _dag_as_array(f):
    del f["layers/dense/vars/0"]
    f["layers/dense/vars/0"] = _dag(f.create_group("junk"))


def _cycle_beside(f):
    f.create_group("junk")
    f["junk/loop"] = f["/"]                 # a hard link back to the root


def _cycle_in_layers(f):
    f["layers/dense_2"] = f["layers"]


def _nested(parent, depth=1500):
    group = parent
    for _ in range(depth):
        group = group.create_group("g")


def _nested_beside(f):
    _nested(f.create_group("junk"))


def _nested_as_extra_layer(f):
    _nested(f.create_group("layers/dense_2"))


def _absurd_shape(f):
    _replace(f, "layers/dense/vars/0", shape=(2**31, 2**31), dtype="float64", chunks=(1, 1))


def _absurd_shape_beside(f):
    f.create_dataset("junk/vars/0", shape=(2**31, 2**31), dtype="float64", chunks=(1, 1))


def _null_dataspace(f):
    _replace(f, "layers/dense/vars/1", data=h5py.Empty("float32"))


def _enum(f):
    _replace(f, "layers/dense/vars/1", data=np.arange(3, dtype="int8"),
             dtype=h5py.enum_dtype({"A": 0, "B": 1, "C": 2}, basetype="int8"))


def _compound(f):
    _replace(f, "layers/dense/vars/1", shape=(3,), dtype=np.dtype([("a", "f4"), ("b", "f4")]))


def _strings(f):
    _replace(f, "layers/dense/vars/1", data=np.array([b"a", b"b", b"c"]))


def _references(f):
    _replace(f, "layers/dense/vars/1", shape=(3,), dtype=h5py.ref_dtype)


def _subarray(f):
    _replace(f, "layers/dense/vars/1", shape=(3,), dtype=np.dtype(("<f8", (2000, 2000))))


def _complex(f):
    _replace(f, "layers/dense/vars/1", data=np.zeros(3, "complex64"))


def _unknown_filter(f):
    """An array of the right shape whose data needs a compression filter nobody has: reading
    it fails (in the second layer, after the first one has been read)."""
    del f["layers/dense_1/vars/0"]
    dataset = f.create_dataset("layers/dense_1/vars/0", shape=(3, 1), dtype="float32",
                               chunks=(3, 1), compression=32123, allow_unknown_filter=True)
    dataset.id.write_direct_chunk((0, 0), b"not really compressed")


def _huge_chunk(f):
    """The right shape, stored (gzip) in one chunk of 256 MiB that packs into 256 KB."""
    _replace(f, "layers/dense/vars/0", shape=(2, 3), maxshape=(None, None), dtype="float32",
             chunks=(2**14, 2**12), compression="gzip")
    packer = zlib.compressobj(1)
    packed = [packer.compress(bytes(2**24)) for _ in range(16)] + [packer.flush()]
    f["layers/dense/vars/0"].id.write_direct_chunk((0, 0), b"".join(packed))


def _many_extra_layers(f):
    empty = f.create_group("empty")
    for i in range(2000):
        f[f"layers/extra_{i}"] = empty


H5_CASES = {
    # name: (edit, None for "loads correctly" or the regex the error message must match)
    "external_storage": ("secret", r"'layers/dense/vars/0'.*external"),
    "external_storage_optimizer": ("secret_optimizer", r"'optimizer/vars/2'.*external"),
    "virtual": ("source", r"'layers/dense/vars/0'.*virtual"),
    "external_link": ("source_link", r"'layers/dense/vars/0'.*ExternalLink"),
    "soft_link": (_soft_link, r"'layers/dense/vars/0'.*SoftLink"),
    "soft_link_group": (_soft_link_group, r"'layers/dense'.*SoftLink"),
    "dag_beside": (_dag_beside, None),
    "dag_as_extra_layer": (_dag_as_extra_layer, None),
    "dag_as_array": (_dag_as_array, r"'layers/dense/vars/0'.*group"),
    "cycle_beside": (_cycle_beside, None),
    "cycle_in_layers": (_cycle_in_layers, None),
    "nested_beside": (_nested_beside, None),
    "nested_as_extra_layer": (_nested_as_extra_layer, None),
    "absurd_shape": (_absurd_shape, r"(?=.*'layers/dense/vars')"
                                    r".*\(2, 3\) in the model but \(2147483648, 2147483648\)"),
    "absurd_shape_beside": (_absurd_shape_beside, None),
    "huge_chunk": (_huge_chunk, r"'layers/dense/vars/0'.*chunks"),
    "many_extra_layers": (_many_extra_layers, r"'layers' holds 2002 entries"),
    "null_dataspace": (_null_dataspace, r"'layers/dense/vars/1'.*no shape"),
    "enum": (_enum, r"'layers/dense/vars/1'.*enum"),
    "compound": (_compound, r"'layers/dense/vars/1'.*non-numeric"),
    "strings": (_strings, r"'layers/dense/vars/1'.*non-numeric"),
    "references": (_references, r"'layers/dense/vars/1'.*non-numeric"),
    "subarray": (_subarray, r"'layers/dense/vars/1'.*non-numeric"),
    "complex": (_complex, r"'layers/dense/vars/1'.*non-numeric"),
    "unknown_filter": (_unknown_filter, r"'layers/dense_1/vars/0'.*cannot be read"),
}
# Refusals that skip_mismatch=True must not turn into a warning.
SECURITY_CASES = ["external_storage", "external_storage_optimizer", "virtual", "external_link",
                  "soft_link", "enum"]


def _deep_config(config, depth):
    """config.json text with `depth` nested lists as the first Dense's initializer seed (built
    as text: json.dumps itself recurses)."""
    config["config"]["layers"][1]["config"]["kernel_initializer"]["config"]["seed"] = "DEEP"
    return json.dumps(config).replace('"DEEP"', "[" * depth + "0" + "]" * depth)


def _absurd_units(config, units):
    config["config"]["layers"][1]["config"]["units"] = units
    return config


def _big_stored_weights(base_weights, target):
    """A valid weights file for the model plus 20 MiB of noise where no layer looks."""
    def edit(f):
        noise = np.random.default_rng(0).integers(0, 2**62, 20 * 2**17, dtype=np.int64)
        f.create_dataset("junk/vars/0", data=noise)
    return _copy_h5(base_weights, target, edit)


def _write_bomb(target, base_keras):
    """model.weights.h5 replaced by 24 MiB of zeros stored in about 24 KB (deflate)."""
    with zipfile.ZipFile(base_keras) as archive:
        contents = {name: archive.read(name) for name in archive.namelist()}
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in contents.items():
            if name != "model.weights.h5":
                archive.writestr(name, data)
        with archive.open("model.weights.h5", "w", force_zip64=True) as member:
            zeros = bytes(2**20)
            for _ in range(24):
                member.write(zeros)
    return target


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    """The model, its clean files, and every crafted file."""
    folder = tmp_path_factory.mktemp("crafted")
    model = make_model()
    model.fit(np.ones((4, 2), "float32"), np.ones((4, 1), "float32"), epochs=1, verbose=0)
    base_weights = folder / "base.weights.h5"
    base_keras = folder / "base.keras"
    model.save_weights(base_weights)
    model.save(base_keras)
    secret = folder / "secret.bin"
    secret.write_bytes(SECRET)
    source = folder / "source.h5"
    with h5py.File(source, "w") as f:
        f.create_dataset("data", data=np.full((2, 3), 42.0, "float32"))
    edits = {"secret": _external_storage(secret),
             "secret_optimizer": _external_storage(secret, "optimizer/vars/2"),
             "source": _virtual(source),
             "source_link": _external_link(source)}
    paths = {}
    for name, (edit, _) in H5_CASES.items():
        edit = edits.get(edit, edit)
        weights = _copy_h5(base_weights, folder / f"{name}.weights.h5", edit)
        paths[name] = {"weights": weights,
                       "model": _archive_with_weights(base_keras, folder / f"{name}.keras",
                                                      weights)}
    config = json.loads(zipfile.ZipFile(base_keras).read("config.json"))
    texts = {"deep_config_200": _deep_config(json.loads(json.dumps(config)), 200),
             "deep_config_5000": _deep_config(json.loads(json.dumps(config)), 5000),
             "units_1e12": json.dumps(_absurd_units(json.loads(json.dumps(config)), 10**12)),
             "units_1e7": json.dumps(_absurd_units(json.loads(json.dumps(config)), 10**7))}
    for name, text in texts.items():
        paths[name] = {"model": _rewrite_archive(base_keras, folder / f"{name}.keras",
                                                 {"config.json": text.encode()})}
    big = _big_stored_weights(base_weights, folder / "big_member.weights.h5")
    paths["big_member"] = {"model": _archive_with_weights(base_keras, folder / "big_member.keras",
                                                          big)}
    paths["zip_bomb"] = {"model": _write_bomb(folder / "zip_bomb.keras", base_keras)}
    # load_weights reads the model.weights.h5 of a .keras archive too.
    for name in ("big_member", "zip_bomb"):
        paths[name]["weights"] = paths[name]["model"]
    return model, paths, folder


@pytest.fixture(scope="module")
def outcomes(files):
    """{(case, kind, skip_mismatch): how loading it ended}, all loads in one child process."""
    _, paths, folder = files
    jobs = []
    for name, kinds in paths.items():
        for kind, path in kinds.items():
            jobs.append({"name": [name, kind, False], "kind": kind, "path": str(path)})
            if name in SECURITY_CASES and kind == "weights":
                jobs.append({"name": [name, kind, True], "kind": kind, "path": str(path),
                             "skip_mismatch": True})
    jobs_file = folder / "jobs.json"
    jobs_file.write_text(json.dumps(jobs))
    try:
        run = subprocess.run([sys.executable, str(HERE / "crafted_loader.py"), str(jobs_file)],
                             capture_output=True, text=True, timeout=600, cwd=folder)
        lines = run.stdout.splitlines()
    except subprocess.TimeoutExpired as expired:
        lines = (expired.stdout or b"").decode().splitlines()
    results = {}
    for line in lines:
        outcome = json.loads(line)
        results[tuple(outcome["name"])] = outcome
    return results


def _outcome(outcomes, name, kind, skip_mismatch=False):
    key = (name, kind, skip_mismatch)
    if key not in outcomes:
        pytest.fail(f"the load of {name} ({kind}) never finished: the loader hung or crashed")
    outcome = outcomes[key]
    assert outcome["seconds"] < MAX_SECONDS, f"{name} ({kind}) took {outcome['seconds']:.1f} s"
    return outcome


def _assert_refused(outcome, file_name, pattern):
    assert not outcome["ok"], f"{file_name} loaded: {outcome.get('weights')}"
    assert outcome["value_error"], f"{outcome['type']}: {outcome['message']}"
    message = outcome["message"]
    assert file_name in message, message
    assert re.search(pattern, message, re.S), message
    return message


@pytest.mark.parametrize("kind", ["weights", "model"])
@pytest.mark.parametrize("name", sorted(H5_CASES))
def test_crafted_weights_file(files, outcomes, name, kind):
    model, paths, _ = files
    outcome = _outcome(outcomes, name, kind)
    pattern = H5_CASES[name][1]
    file_name = paths[name][kind].name
    if pattern is None:         # the oddity lies where the model never looks
        assert outcome["ok"], f"{outcome['type']}: {outcome['message']}"
        for loaded, saved in zip(outcome["weights"], model.get_weights()):
            np.testing.assert_array_equal(np.asarray(loaded, "float32"), saved)
        return
    message = _assert_refused(outcome, file_name, pattern)
    assert SECRET.decode() not in message
    assert not outcome.get("changed"), "the model changed although the load failed"
    assert outcome["peak_bytes"] < 16 * 2**20, f"allocated {outcome['peak_bytes']} bytes"


@pytest.mark.parametrize("name", SECURITY_CASES)
def test_skip_mismatch_does_not_skip_a_forbidden_array(files, outcomes, name):
    _, paths, _ = files
    outcome = _outcome(outcomes, name, "weights", skip_mismatch=True)
    _assert_refused(outcome, paths[name]["weights"].name, H5_CASES[name][1])
    assert not outcome["changed"]


@pytest.mark.parametrize("kind", ["weights", "model"])
def test_external_storage_never_reads_the_other_file(files, outcomes, kind):
    outcome = _outcome(outcomes, "external_storage", kind)
    assert not outcome["ok"]
    assert "not allowed" in outcome["message"].lower()


@pytest.mark.parametrize("depth", [200, 5000])
def test_deeply_nested_config(files, outcomes, depth):
    _, paths, _ = files
    outcome = _outcome(outcomes, f"deep_config_{depth}", "model")
    _assert_refused(outcome, f"deep_config_{depth}.keras", r"config\.json.*nested")


@pytest.mark.parametrize("units", ["1e12", "1e7"])
def test_absurd_layer_in_a_config(files, outcomes, units):
    """Dense(units=10**12) fails at build (the allocation); Dense(units=10**7) would allocate
    80 MB for a file holding a few KB of weights: both are refused before allocating,
    naming the file, the layer and the argument."""
    outcome = _outcome(outcomes, f"units_{units}", "model")
    value = str(int(float(units)))
    _assert_refused(outcome, f"units_{units}.keras", rf"'hidden'.*Dense.*units={value}")
    assert outcome["peak_bytes"] < 16 * 2**20, f"allocated {outcome['peak_bytes']} bytes"


@pytest.mark.parametrize("kind", ["weights", "model"])
@pytest.mark.parametrize("name", ["big_member", "zip_bomb"])
def test_weights_member_larger_than_the_model_needs(files, outcomes, name, kind):
    """The member's declared size is checked before a byte of it is read."""
    outcome = _outcome(outcomes, name, kind)
    _assert_refused(outcome, f"{name}.keras", r"model\.weights\.h5.*bytes")
    assert outcome["peak_bytes"] < 16 * 2**20, f"allocated {outcome['peak_bytes']} bytes"


def test_model_from_json_with_an_absurd_layer():
    model = mk.Sequential([mk.Input((2,)), mk.layers.Dense(3, name="hidden")])
    config = json.loads(model.to_json())
    config["config"]["layers"][1]["config"]["units"] = 10**12
    with pytest.raises(ValueError, match=r"'hidden'.*Dense.*units=1000000000000"):
        mk.models.model_from_json(json.dumps(config))
