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
