"""minikeras.datasets.mnist: reads Keras's cache file, never downloads."""

import os

import numpy as np
import pytest

from minikeras.datasets import mnist


def write_fake_mnist(directory, name="mnist.npz", n_train=6, n_test=4):
    rng = np.random.default_rng(0)
    os.makedirs(directory, exist_ok=True)
    arrays = {
        "x_train": rng.integers(0, 256, (n_train, 28, 28), dtype=np.uint8),
        "y_train": rng.integers(0, 10, n_train, dtype=np.uint8),
        "x_test": rng.integers(0, 256, (n_test, 28, 28), dtype=np.uint8),
        "y_test": rng.integers(0, 10, n_test, dtype=np.uint8),
    }
    np.savez(os.path.join(directory, name), **arrays)
    return arrays


def test_load_data_reads_keras_home_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    arrays = write_fake_mnist(tmp_path / "datasets")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
    for name, value in zip(("x_train", "y_train", "x_test", "y_test"),
                           (x_train, y_train, x_test, y_test), strict=True):
        np.testing.assert_array_equal(value, arrays[name])
        assert value.dtype == np.uint8
    assert x_train.shape == (6, 28, 28) and y_test.shape == (4,)


def test_load_data_with_another_file_name(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    write_fake_mnist(tmp_path / "datasets", name="digits.npz", n_train=3)
    (x_train, _), _ = mnist.load_data(path="digits.npz")
    assert x_train.shape == (3, 28, 28)


def test_default_location_is_home_dot_keras(tmp_path, monkeypatch):
    monkeypatch.delenv("KERAS_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert mnist.cache_path() == str(tmp_path / ".keras" / "datasets" / "mnist.npz")
    write_fake_mnist(tmp_path / ".keras" / "datasets")
    assert mnist.load_data()[0][0].shape == (6, 28, 28)


def test_missing_file_says_where_to_put_it(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    expected = str(tmp_path / "datasets" / "mnist.npz")
    with pytest.raises(FileNotFoundError, match="does not download") as info:
        mnist.load_data()
    assert expected in str(info.value)


def test_bad_paths_and_files_raise(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="path='some/dir/mnist.npz'"):
        mnist.load_data(path="some/dir/mnist.npz")
    with pytest.raises(ValueError, match="path=''"):
        mnist.load_data(path="")
    os.makedirs(tmp_path / "datasets")
    np.savez(tmp_path / "datasets" / "mnist.npz", x_train=np.zeros((1, 28, 28)))
    with pytest.raises(ValueError, match="y_train"):
        mnist.load_data()


def test_module_is_importable_as_keras_does():
    import minikeras

    assert minikeras.datasets.mnist.load_data is mnist.load_data


# ------------------------------------------------------------------------------ other data sets
# (compat_tests/test_datasets_compat.py compares every loader's output with Keras's own.)

import minikeras  # noqa: E402

LOADERS = [
    ("imdb", "load_data", {}, "imdb.npz"),
    ("imdb", "get_word_index", {}, "imdb_word_index.json"),
    ("reuters", "load_data", {}, "reuters.npz"),
    ("reuters", "get_word_index", {}, "reuters_word_index.json"),
    ("fashion_mnist", "load_data", {}, "train-labels-idx1-ubyte.gz"),
    ("boston_housing", "load_data", {}, "boston_housing.npz"),
    ("california_housing", "load_data", {}, "california_housing.npz"),
    ("cifar10", "load_data", {}, "cifar-10-batches-py-target_archive"),
    ("cifar100", "load_data", {}, "cifar-100-python-target_archive"),
]


@pytest.mark.parametrize("module,function,kwargs,file_name", LOADERS)
def test_missing_files_say_where_to_put_them(tmp_path, monkeypatch, module, function, kwargs,
                                             file_name):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(FileNotFoundError, match="does not download") as info:
        getattr(getattr(minikeras.datasets, module), function)(**kwargs)
    assert str(tmp_path / "datasets") in str(info.value) and file_name in str(info.value)
    assert f"keras.datasets.{module}." in str(info.value)


@pytest.mark.parametrize("module", ["imdb", "reuters", "boston_housing", "california_housing"])
def test_paths_are_refused_as_in_keras_3(tmp_path, monkeypatch, module):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ValueError, match="paths are not accepted"):
        getattr(minikeras.datasets, module).load_data(path="../elsewhere/data.npz")


def test_a_link_in_the_cache_is_not_followed(tmp_path, monkeypatch):
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    real = tmp_path / "elsewhere.npz"
    np.savez(real, x=np.zeros((3, 2)), y=np.zeros(3))
    os.symlink(real, tmp_path / "datasets" / "boston_housing.npz")
    with pytest.raises(FileNotFoundError):
        minikeras.datasets.boston_housing.load_data()


def test_object_arrays_are_read_without_numpy_pickle(tmp_path, monkeypatch):
    """IMDB's ragged sequences are NumPy object arrays: read by the restricted reader, and a
    file whose object array holds anything else is refused."""
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    sequences = np.empty(2, dtype=object)
    sequences[:] = [[5, 6, 7], [8]]
    np.savez(tmp_path / "datasets" / "reuters.npz", x=sequences, y=np.array([3, 4]))
    (x_train, y_train), (x_test, y_test) = minikeras.datasets.reuters.load_data(test_split=0.5)
    # start_char 1, ids + 3; the largest id (11) is out of range, as in Keras: oov_char 2
    assert sorted(map(list, list(x_train) + list(x_test))) == [[1, 2], [1, 8, 9, 10]]
    evil = np.empty(1, dtype=object)
    evil[0] = np.float64  # a class: pickled as a global, which the reader refuses
    np.savez(tmp_path / "datasets" / "reuters.npz", x=evil, y=np.array([1]))
    with pytest.raises(ValueError, match="Refusing to load"):
        minikeras.datasets.reuters.load_data()


def test_every_data_set_is_importable_as_keras_names_them():
    for name in ("imdb", "reuters", "fashion_mnist", "cifar10", "cifar100", "boston_housing",
                 "california_housing", "mnist"):
        assert hasattr(minikeras.datasets, name)


def test_an_npz_member_announcing_more_data_than_it_holds_is_refused(tmp_path, monkeypatch):
    """The .npy header's shape is checked against the bytes present before anything that
    size is allocated."""
    import io
    import zipfile

    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    (tmp_path / "datasets").mkdir()
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.zeros(3))
    forged = buffer.getvalue().replace(b"(3,)", b"(10000000000,)".ljust(4))
    header_end = forged.index(b"\n") + 1
    forged = forged[:header_end] + np.zeros(3).tobytes()  # header claims 80 GB: 24 bytes follow
    with zipfile.ZipFile(tmp_path / "datasets" / "boston_housing.npz", "w") as archive:
        archive.writestr("x.npy", forged)
        archive.writestr("y.npy", buffer.getvalue())
    from minikeras.datasets import _files

    with pytest.raises(ValueError, match="announces"):
        _files.load_npz(str(tmp_path / "datasets" / "boston_housing.npz"), ("x", "y"))
