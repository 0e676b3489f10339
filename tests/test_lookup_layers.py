"""Lookup and encoding layers without Keras: state kept on bad input, bounded files, configs,
and the hashes against published vectors (compat_tests/test_lookup_layers_compat.py compares
everything else with Keras)."""

import io
import re
import zipfile

import numpy as np
import pytest

import minikeras
from minikeras.layers import base_index_lookup
from minikeras.saving import keras_archive
from minikeras.utils.string_hash import fingerprint64, siphash

L = minikeras.layers


def test_siphash_reference_vector():
    # The SipHash-2-4 paper's test vector: key 00..0f, message 00..0e.
    key = (int.from_bytes(bytes(range(8)), "little"), int.from_bytes(bytes(range(8, 16)), "little"))
    assert siphash(bytes(range(15)), key) == 0xA129CA6149BE45E5
    assert siphash(b"", key) == 0x726FDB47DD0E0E31


def test_fingerprint64_covers_every_length_branch():
    # Lengths 0..200 go through the 0-16, 17-32, 33-64 and block branches; each gives a
    # distinct 64-bit value and a one-byte change changes it.
    values = [fingerprint64(bytes(range(n))) for n in range(201)]
    assert len(set(values)) == 201 and all(0 <= v < 2**64 for v in values)
    assert fingerprint64(b"a" * 100) != fingerprint64(b"a" * 99 + b"b")


def test_bad_vocabulary_leaves_the_old_one():
    lookup = L.StringLookup(vocabulary=["a", "b"], max_tokens=3)
    for bad in (["x", "x"], [], ["x", "y", "z"]):
        with pytest.raises(ValueError):
            lookup.set_vocabulary(bad)
        assert lookup.get_vocabulary() == ["[UNK]", "a", "b"]


def test_failed_adapt_leaves_the_learned_vocabulary():
    lookup = L.IntegerLookup()
    lookup.adapt(np.array([1, 1, 2]))
    with pytest.raises(ValueError, match="expects integers"):
        lookup.adapt(iter([np.array([5, 6]), np.array(["x"])]))
    assert lookup.get_vocabulary() == [-1, 1, 2]


def test_vocabulary_file_is_bounded(tmp_path, monkeypatch):
    path = tmp_path / "v.txt"
    path.write_text("a\nb\nc\n", encoding="utf-8")
    assert L.StringLookup(vocabulary=str(path)).get_vocabulary() == ["[UNK]", "a", "b", "c"]
    monkeypatch.setattr(base_index_lookup, "MAX_VOCABULARY_FILE_BYTES", 4)
    with pytest.raises(ValueError, match="refused"):
        L.StringLookup(vocabulary=str(path))
    with pytest.raises(ValueError, match="does not exist"):
        L.StringLookup(vocabulary=str(tmp_path))       # a folder is not a vocabulary file
    (tmp_path / "ints.txt").write_text("3\nx\n")
    with pytest.raises(ValueError, match="one integer per line"):
        L.IntegerLookup(vocabulary=str(tmp_path / "ints.txt"))


def _saved(layer, shape, dtype):
    model = minikeras.models.Sequential([L.Input(shape, dtype=dtype), layer])
    buffer = io.BytesIO()
    keras_archive.write_archive(model, buffer)
    return buffer


def _rewritten(buffer, replace):
    """The archive with members replaced: replace maps a name to new bytes."""
    out = io.BytesIO()
    with zipfile.ZipFile(buffer) as src, zipfile.ZipFile(out, "w") as dst:
        for info in src.infolist():
            dst.writestr(info.filename, replace.get(info.filename, src.read(info.filename)))
    out.seek(0)
    return out


def test_crafted_vocabulary_assets_are_refused(monkeypatch):
    lookup = L.StringLookup()
    lookup.adapt(np.array(["a", "b", "a"]))
    buffer = _saved(lookup, (1,), "string")
    member = "assets/layers/string_lookup/vocabulary.txt"
    with zipfile.ZipFile(buffer) as archive:
        assert archive.read(member) == b"[UNK]\na\nb"
    buffer.seek(0)
    loaded = keras_archive.read_archive(buffer, "m.keras")
    assert loaded.layers[-1].get_vocabulary() == ["[UNK]", "a", "b"]
    for text, message in ((b"\xff\xfe", "not UTF-8"), (b"[UNK]\na\na", "repeated")):
        buffer.seek(0)
        with pytest.raises(ValueError, match=message):
            keras_archive.read_archive(_rewritten(buffer, {member: text}), "m.keras")
    monkeypatch.setattr(keras_archive, "_MAX_ASSET_BYTES", 5)
    buffer.seek(0)
    with pytest.raises(ValueError, match="more than the 5 bytes"):
        keras_archive.read_archive(buffer, "m.keras")


def test_tf_idf_lookups_are_neither_saved_nor_loaded_without_their_weights(tmp_path):
    lookup = L.StringLookup(output_mode="tf_idf")
    lookup.adapt(np.array([["a", "b"], ["a", "c"]]))
    model = minikeras.models.Sequential([L.Input((2,), dtype="string"), lookup])
    with pytest.raises(ValueError, match="tf_idf"):
        model.save(tmp_path / "m.keras")
    assert not (tmp_path / "m.keras").exists()
    # a file holding one (as Keras writes it, idf weights aside) is refused on loading
    plain = L.StringLookup()
    plain.adapt(np.array([["a", "b"], ["a", "c"]]))
    buffer = _saved(plain, (2,), "string")
    config = zipfile.ZipFile(buffer).read("config.json").replace(
        b'"output_mode": "int"', b'"output_mode": "tf_idf"')
    buffer.seek(0)
    with pytest.raises(ValueError, match="tf_idf"):
        keras_archive.read_archive(_rewritten(buffer, {"config.json": config}), "m.keras")


@pytest.mark.parametrize("make", [
    lambda: L.StringLookup(vocabulary=["a", "b"], num_oov_indices=2, mask_token=""),
    lambda: L.IntegerLookup(vocabulary=[3, 4], output_mode="count"),
    lambda: L.CategoryEncoding(5, output_mode="one_hot"),
    lambda: L.Hashing(4, salt=[1, 2], mask_value="m"),
    lambda: L.Discretization(bin_boundaries=[0.5, 1.5], output_mode="count"),
    lambda: L.TextVectorization(vocabulary=["x", "y"], ngrams=(1, 2), output_sequence_length=3),
], ids=["string", "integer", "category", "hashing", "discretization", "text"])
def test_config_round_trip_gives_the_same_layer(make):
    layer = make()
    config = layer.get_config()
    again = type(layer).from_config(config)
    assert again.get_config() == config
    x = {L.StringLookup: np.array([["a", "q", ""]]), L.IntegerLookup: np.array([[3, 9, 4]]),
         L.CategoryEncoding: np.array([1, 4]), L.Hashing: np.array([["m"], ["z"]]),
         L.Discretization: np.array([[0.0, 1.0, 2.0]]),
         L.TextVectorization: np.array(["x y z x"])}[type(layer)]
    np.testing.assert_array_equal(again(x), layer(x))


def test_adapted_discretization_config_keeps_its_boundaries():
    layer = L.Discretization(num_bins=4)
    layer.adapt(np.arange(100.0))
    again = L.Discretization.from_config(layer.get_config())
    assert again.bin_boundaries == layer.bin_boundaries
    assert len(layer.bin_boundaries) == 3


def test_no_gradient_flows_back_through_a_lookup():
    layer = L.IntegerLookup(vocabulary=[1, 2], output_mode="multi_hot")
    x = np.array([[1, 2], [2, 7]])
    out, cache = layer.forward(x)
    dx, grads = layer.backward(np.ones(out.shape), cache)
    assert dx.shape == x.shape and not dx.any() and grads == []


def test_text_vectorization_callables_get_numpy_strings():
    # Under minikeras a callable standardize/split receives NumPy str arrays (Keras on
    # TensorFlow passes tf.string tensors, so tf.strings-based callables do not carry over).
    seen = []

    def standardize(texts):
        seen.append(texts.dtype.kind)
        return np.char.replace(texts, "-", " ")

    def split(texts):
        return [t.split(" ") for t in texts.tolist()]

    layer = L.TextVectorization(standardize=standardize, split=split)
    layer.adapt(np.array(["a-b b", "b-c"]))
    assert seen == ["U"]
    assert layer.get_vocabulary() == ["", "[UNK]", "b", "c", "a"]
    np.testing.assert_array_equal(layer(np.array(["c-a", "b zz"])), [[3, 4], [2, 1]])


def test_standardize_and_split_fast_paths_equal_the_regexes():
    # One translate per text stands for Keras's punctuation regex (and ASCII lower-casing);
    # str.split() stands for the ASCII-whitespace regex on texts where both agree.
    from minikeras.layers import text_vectorization as tv

    every_char = "".join(chr(c) for c in range(0x3100))
    expected = tv.PUNCTUATION.sub("", every_char)
    assert every_char.translate(tv.STANDARDIZE_TABLES["strip_punctuation"]) == expected
    lowered = "".join(c.lower() if "A" <= c <= "Z" else c for c in expected)
    assert every_char.translate(tv.STANDARDIZE_TABLES["lower_and_strip_punctuation"]) == lowered
    for text in (" a\tb\nc\rd\x0be\x0cf  ", "x\x1cy z", "u\xa0v w", "é\u3000ü q", ""):
        assert tv.split_whitespace(text) == [w for w in re.split(r"[ \t\n\r\x0b\x0c]+", text)
                                             if w]
