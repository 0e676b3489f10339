"""`keras.datasets.california_housing`: 20,640 districts, 8 features, median house values."""

from minikeras.datasets import _housing


def load_data(version="large", path="california_housing.npz", test_split=0.2, seed=113):
    """Loads `<keras home>/datasets/<path>`, shuffled and split as Keras does.

    Args:
        version: "large" (all districts) or "small" (the first 600).
        path, test_split, seed: as boston_housing.load_data.

    Returns:
        ((x_train, y_train), (x_test, y_test)).
    """
    _housing.check_test_split(test_split)
    if version not in ("small", "large"):
        raise ValueError(
            f"Argument `version` must be one of 'small', 'large'. Received: version={version!r}"
        )
    x, y = _housing.read_xy(path, "california_housing.npz", "California housing file",
                            "keras.datasets.california_housing.load_data()")
    if version == "small":
        x, y = x[:600], y[:600]
    return _housing.shuffle_and_split(x, y, test_split, seed)


__all__ = ["load_data"]
