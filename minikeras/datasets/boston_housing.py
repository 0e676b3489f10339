"""`keras.datasets.boston_housing`: 506 houses, 13 features, prices; from Keras's cache."""

from minikeras.datasets import _housing


def load_data(path="boston_housing.npz", test_split=0.2, seed=113):
    """Loads `<keras home>/datasets/<path>`, shuffled and split as Keras does.

    Args:
        path: file name in the cache; test_split: fraction kept for testing, in [0, 1);
        seed: shuffle seed.

    Returns:
        ((x_train, y_train), (x_test, y_test)).
    """
    _housing.check_test_split(test_split)
    x, y = _housing.read_xy(path, "boston_housing.npz", "Boston housing file",
                            "keras.datasets.boston_housing.load_data()")
    return _housing.shuffle_and_split(x, y, test_split, seed)


__all__ = ["load_data"]
