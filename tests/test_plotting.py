"""plot_history and plot_decision_boundary (matplotlib, Agg backend)."""

import sys

import matplotlib  # an optional extra of minikeras ([plot]), but a test dependency
import numpy as np
import pytest

matplotlib.use("Agg")
import matplotlib.image  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

import minikeras  # noqa: E402
from minikeras import layers  # noqa: E402
from minikeras.utils.plotting import plot_decision_boundary, plot_history  # noqa: E402

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _circles(n=120, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 2, n)
    angle = rng.uniform(0, 2 * np.pi, n)
    radius = np.where(y == 1, 0.5, 1.0)
    x = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    return x.astype("float32"), y.astype("float32")


def _assert_png(path):
    with open(path, "rb") as f:
        assert f.read(8) == PNG_SIGNATURE
    image = matplotlib.image.imread(path)
    assert image.ndim == 3 and image.shape[0] > 50 and image.shape[1] > 50


def _trained_history():
    minikeras.utils.set_random_seed(0)
    model = minikeras.Sequential([layers.Dense(6, input_dim=2, activation="tanh"),
                                  layers.Dense(1, activation="sigmoid")])
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    x, y = _circles()
    return model, model.fit(x, y, epochs=3, validation_split=0.25, verbose=0)


def test_plot_history_one_panel_per_metric_train_and_validation(tmp_path):
    _, history = _trained_history()
    path = tmp_path / "history.png"
    fig = plot_history(history, title="circles", filename=path)
    assert isinstance(fig, matplotlib.figure.Figure)
    axes = fig.get_axes()
    assert sorted(ax.get_title() for ax in axes) == ["accuracy", "loss"]
    loss_lines = next(ax for ax in axes if ax.get_title() == "loss").get_lines()
    assert [line.get_label() for line in loss_lines] == ["train", "train (val)"]
    np.testing.assert_allclose(loss_lines[0].get_ydata(), history.history["loss"])
    np.testing.assert_allclose(loss_lines[1].get_ydata(), history.history["val_loss"])
    np.testing.assert_array_equal(loss_lines[0].get_xdata(), [1, 2, 3])
    assert fig._suptitle.get_text() == "circles"
    _assert_png(path)


def test_plot_history_overlays_labelled_runs_and_selects_metrics():
    runs = {"lr=0.1": {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "accuracy": [0.5, 0.8]},
            "lr=1": {"loss": [1.0, 2.0], "accuracy": [0.5, 0.4]}}
    fig = plot_history(runs, metrics=["loss"])
    (ax,) = fig.get_axes()
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["lr=0.1", "lr=0.1 (val)", "lr=1"]
    assert ax.get_lines()[1].get_linestyle() == "--"


def test_plot_history_errors():
    with pytest.raises(TypeError, match="History"):
        plot_history([0.5, 0.4])
    with pytest.raises(ValueError, match="'acc'"):
        plot_history({"loss": [1.0]}, metrics=["acc"])
    with pytest.raises(ValueError, match="empty"):
        plot_history({})


def test_decision_boundary_binary_and_into_given_axes(tmp_path):
    model, _ = _trained_history()
    x, y = _circles()
    path = tmp_path / "boundary.png"
    fig = plot_decision_boundary(model, x, y, resolution=40, title="after 3 epochs",
                                 filename=path)
    (ax,) = fig.get_axes()
    assert ax.get_title() == "after 3 epochs"
    # The plotted area covers the data with a margin.
    assert ax.get_xlim()[0] < x[:, 0].min() and ax.get_xlim()[1] > x[:, 0].max()
    _assert_png(path)

    fig, axes = plt.subplots(1, 2)
    returned = plot_decision_boundary(model, x, y, ax=axes[1], resolution=20)
    assert returned is fig
    assert axes[1].collections and not axes[0].collections


def test_decision_boundary_multiclass_with_one_hot_labels():
    minikeras.utils.set_random_seed(0)
    model = minikeras.Sequential([layers.Dense(3, input_dim=2, activation="softmax")])
    x, y = _circles(n=30)
    one_hot = np.eye(3)[np.arange(30) % 3]
    fig = plot_decision_boundary(model, x, one_hot, resolution=20)
    assert len(fig.get_axes()) == 1


def test_decision_boundary_errors():
    model, _ = _trained_history()
    with pytest.raises(ValueError, match=r"x.shape=\(5, 3\)"):
        plot_decision_boundary(model, np.zeros((5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="one label per point"):
        plot_decision_boundary(model, np.zeros((5, 2)), np.zeros(4))
    with pytest.raises(ValueError, match="resolution=1"):
        plot_decision_boundary(model, np.zeros((5, 2)), np.zeros(5), resolution=1)


def test_without_matplotlib_the_error_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(ImportError, match=r"pip install minikeras\[plot\]"):
        plot_history({"loss": [1.0]})
    with pytest.raises(ImportError, match=r"pip install minikeras\[plot\]"):
        plot_decision_boundary(None, np.zeros((2, 2)), np.zeros(2))
