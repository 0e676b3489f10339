"""minikeras's data set loaders against Keras's own, on the same cache files.

Each test writes small files in the exact format Keras's loaders read into a temporary cache
folder, points both Keras and minikeras at it, and compares what they return. Keras is
stopped from downloading: its hash check is made to accept the local file and its download
function fails the test if it is ever called.
"""

import gzip
import io
import os
import pickle  # only to WRITE test files in Keras's format; minikeras never unpickles
import tarfile

import keras
import numpy as np
import pytest

import minikeras


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty Keras cache (<tmp>/datasets) used by both engines; Keras cannot download."""
    from keras.src.backend import config
    from keras.src.utils import file_utils

    def no_download(*args, **kwargs):
        raise AssertionError(f"Keras tried to download {args[:1]}")

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    monkeypatch.setattr(config, "keras_home", lambda: str(tmp_path))
    monkeypatch.setattr(file_utils, "validate_file", lambda *a, **k: True)
    monkeypatch.setattr(file_utils, "urlretrieve", no_download)
    folder = tmp_path / "datasets"
    folder.mkdir()
    return folder


def assert_same_sequences(ours, theirs):
    """Object arrays of lists (or 2-D object arrays when all lists are equally long)."""
    assert ours.dtype == theirs.dtype == object and ours.shape == theirs.shape
    assert [list(x) for x in ours] == [list(x) for x in theirs]


def assert_same_arrays(ours, theirs):
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)


def ragged(rng, n, vocabulary=60, longest=30):
    sequences = np.empty(n, dtype=object)
    for i in range(n):
        sequences[i] = [int(w) for w in rng.integers(1, vocabulary, rng.integers(1, longest))]
    return sequences


# ------------------------------------------------------------------------------ IMDB, Reuters

WORD_ARGS = [
    dict(),
    dict(num_words=20),
    dict(num_words=25, skip_top=4, seed=7),
    dict(maxlen=15),
    dict(start_char=None, oov_char=None, index_from=0),
    dict(start_char=None, index_from=5, num_words=40, oov_char=None),
    dict(maxlen=20, num_words=30, skip_top=2, start_char=9, oov_char=8, index_from=10),
]


@pytest.mark.parametrize("kwargs", WORD_ARGS, ids=[str(i) for i in range(len(WORD_ARGS))])
def test_imdb_matches_keras(cache, kwargs):
    rng = np.random.default_rng(0)
    np.savez(cache / "imdb.npz", x_train=ragged(rng, 40), y_train=rng.integers(0, 2, 40),
             x_test=ragged(rng, 30), y_test=rng.integers(0, 2, 30))
    ours = minikeras.datasets.imdb.load_data(**kwargs)
    theirs = keras.datasets.imdb.load_data(**kwargs)
    for (x, y), (kx, ky) in zip(ours, theirs, strict=True):
        assert_same_sequences(x, kx)
        assert_same_arrays(y, ky)


def test_imdb_maxlen_keeping_nothing_fails_like_keras(cache):
    rng = np.random.default_rng(0)
    np.savez(cache / "imdb.npz", x_train=ragged(rng, 5), y_train=np.zeros(5, int),
             x_test=ragged(rng, 5), y_test=np.zeros(5, int))
    with pytest.raises(ValueError, match="no sequence was kept") as theirs:
        keras.datasets.imdb.load_data(maxlen=1)
    with pytest.raises(ValueError, match="no sequence was kept") as ours:
        minikeras.datasets.imdb.load_data(maxlen=1)
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("kwargs", WORD_ARGS + [dict(test_split=0.5), dict(test_split=0.0)],
                         ids=[str(i) for i in range(len(WORD_ARGS) + 2)])
def test_reuters_matches_keras(cache, kwargs):
    rng = np.random.default_rng(1)
    np.savez(cache / "reuters.npz", x=ragged(rng, 50), y=rng.integers(0, 46, 50))
    ours = minikeras.datasets.reuters.load_data(**kwargs)
    theirs = keras.datasets.reuters.load_data(**kwargs)
    for (x, y), (kx, ky) in zip(ours, theirs, strict=True):
        assert_same_sequences(x, kx)
        assert_same_arrays(y, ky)
    assert minikeras.datasets.reuters.get_label_names() == keras.datasets.reuters.get_label_names()


@pytest.mark.parametrize("name", ["imdb", "reuters"])
def test_word_index_matches_keras(cache, name):
    (cache / f"{name}_word_index.json").write_text('{"the": 1, "and": 2, "caf\\u00e9": 3}')
    ours = getattr(minikeras.datasets, name).get_word_index()
    assert ours == getattr(keras.datasets, name).get_word_index()
    assert ours["café"] == 3


# ------------------------------------------------------------------------------ Fashion-MNIST

def write_idx(path, array):
    """An IDX file as Yann LeCun's format (and Keras's reader) has it, gzipped."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(
        int(n).to_bytes(4, "big") for n in array.shape)
    with gzip.open(path, "wb") as f:
        f.write(header + array.astype(np.uint8).tobytes())


def test_fashion_mnist_matches_keras(cache):
    rng = np.random.default_rng(2)
    folder = cache / "fashion-mnist"
    folder.mkdir()
    for prefix, n in (("train", 12), ("t10k", 5)):
        write_idx(folder / f"{prefix}-labels-idx1-ubyte.gz", rng.integers(0, 10, n))
        write_idx(folder / f"{prefix}-images-idx3-ubyte.gz", rng.integers(0, 256, (n, 28, 28)))
    ours = minikeras.datasets.fashion_mnist.load_data()
    theirs = keras.datasets.fashion_mnist.load_data()
    for ours_pair, their_pair in zip(ours, theirs, strict=True):
        for a, b in zip(ours_pair, their_pair, strict=True):
            assert_same_arrays(a, b)


# ------------------------------------------------------------------------------ housing

@pytest.mark.parametrize("kwargs", [dict(), dict(test_split=0.5, seed=3), dict(test_split=0)])
def test_boston_housing_matches_keras(cache, kwargs):
    rng = np.random.default_rng(3)
    np.savez(cache / "boston_housing.npz", x=rng.random((31, 13)), y=rng.random(31))
    ours = minikeras.datasets.boston_housing.load_data(**kwargs)
    theirs = keras.datasets.boston_housing.load_data(**kwargs)
    for ours_pair, their_pair in zip(ours, theirs, strict=True):
        for a, b in zip(ours_pair, their_pair, strict=True):
            assert_same_arrays(a, b)


@pytest.mark.parametrize("kwargs", [dict(), dict(version="small", seed=5),
                                    dict(test_split=0.3)])
def test_california_housing_matches_keras(cache, kwargs):
    rng = np.random.default_rng(4)
    np.savez(cache / "california_housing.npz", x=rng.random((650, 8)).astype("float32"),
             y=rng.random(650).astype("float32"))
    ours = minikeras.datasets.california_housing.load_data(**kwargs)
    theirs = keras.datasets.california_housing.load_data(**kwargs)
    for ours_pair, their_pair in zip(ours, theirs, strict=True):
        for a, b in zip(ours_pair, their_pair, strict=True):
            assert_same_arrays(a, b)


@pytest.mark.parametrize("module,kwargs", [
    ("boston_housing", dict(test_split=1.0)), ("california_housing", dict(test_split=-0.1)),
    ("california_housing", dict(version="medium")), ("cifar100", dict(label_mode="middle")),
])
def test_bad_arguments_fail_like_keras(cache, module, kwargs):
    rng = np.random.default_rng(4)
    for name in ("boston_housing", "california_housing"):
        np.savez(cache / f"{name}.npz", x=rng.random((10, 8)), y=rng.random(10))
    with pytest.raises(ValueError) as theirs:
        getattr(keras.datasets, module).load_data(**kwargs)
    with pytest.raises(ValueError) as ours:
        getattr(minikeras.datasets, module).load_data(**kwargs)
    assert str(theirs.value).split(".")[0] in str(ours.value)


# ------------------------------------------------------------------------------ CIFAR

def write_tar_gz(path, folder, batches):
    """A .tar.gz holding folder/<name> for each pickled batch, as the CIFAR archives do."""
    with tarfile.open(path, "w:gz", compresslevel=1) as tar:
        for name, batch in batches.items():
            data = pickle.dumps(batch, protocol=3)
            info = tarfile.TarInfo(f"{folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))


def cifar_batch(rng, n, label_keys, filenames=True):
    data = np.zeros((n, 3072), dtype=np.uint8)       # mostly zeros: quick to compress
    data[:, :16] = rng.integers(0, 256, (n, 16))
    data[:, -3:] = rng.integers(0, 256, (n, 3))
    batch = {b"batch_label": b"testing batch", b"data": data}
    if filenames:  # the real batches list them; neither loader uses them
        batch[b"filenames"] = [b"img%d.png" % i for i in range(n)]
    for key, classes in label_keys.items():
        batch[key] = [int(v) for v in rng.integers(0, classes, n)]
    return batch


def compare_loaders(ours_load, their_load, **kwargs):
    ours = ours_load(**kwargs)
    theirs = their_load(**kwargs)
    for ours_pair, their_pair in zip(ours, theirs, strict=True):
        for a, b in zip(ours_pair, their_pair, strict=True):
            assert_same_arrays(a, b)


def test_cifar10_matches_keras(cache):
    # Keras's loader needs the real layout: five training batches of 10,000 images (so this
    # test takes several seconds; channels_first is compared on CIFAR-100's smaller files).
    rng = np.random.default_rng(5)
    batches = {f"data_batch_{i}": cifar_batch(rng, 10000, {b"labels": 10}, filenames=False)
               for i in range(1, 6)}
    batches["test_batch"] = cifar_batch(rng, 7, {b"labels": 10})
    write_tar_gz(cache / "cifar-10-batches-py-target_archive", "cifar-10-batches-py", batches)
    before = set(os.listdir(cache))
    ours_from_archive = minikeras.datasets.cifar10.load_data()
    assert set(os.listdir(cache)) == before            # read in place, nothing extracted
    theirs = keras.datasets.cifar10.load_data()        # extracts next to the archive
    assert (cache / "cifar-10-batches-py-target" / "cifar-10-batches-py").is_dir()
    ours_from_folder = minikeras.datasets.cifar10.load_data()
    for ours in (ours_from_archive, ours_from_folder):
        for ours_pair, their_pair in zip(ours, theirs, strict=True):
            for a, b in zip(ours_pair, their_pair, strict=True):
                assert_same_arrays(a, b)


@pytest.mark.parametrize("label_mode", ["fine", "coarse"])
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_cifar100_matches_keras(cache, label_mode, data_format):
    rng = np.random.default_rng(6)
    keys = {b"fine_labels": 100, b"coarse_labels": 20}
    write_tar_gz(cache / "cifar-100-python-target_archive", "cifar-100-python",
                 {"train": cifar_batch(rng, 9, keys), "test": cifar_batch(rng, 4, keys),
                  "meta": {b"fine_label_names": [b"apple"]}})
    keras.config.set_image_data_format(data_format)
    minikeras.backend.set_image_data_format(data_format)
    try:
        compare_loaders(minikeras.datasets.cifar100.load_data,
                        keras.datasets.cifar100.load_data, label_mode=label_mode)
        # again, now from the folder Keras extracted
        compare_loaders(minikeras.datasets.cifar100.load_data,
                        keras.datasets.cifar100.load_data, label_mode=label_mode)
    finally:
        keras.config.set_image_data_format("channels_last")
        minikeras.backend.set_image_data_format("channels_last")
