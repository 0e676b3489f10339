"""Plots for learning: training curves and the decision boundary of a two-feature classifier.

matplotlib is an optional dependency (`pip install minikeras[plot]`); it is imported inside
the functions, so `import minikeras` never needs it. Both functions work with minikeras and
with Keras objects (anything with a `.history` dict / a `.predict` method).
"""

import numpy as np

_INSTALL_HINT = "pip install minikeras[plot]"


def _require_matplotlib(function_name):
    """Imports matplotlib, or raises an ImportError that says how to install it."""
    try:
        import matplotlib  # noqa: F401
    except ImportError as exc:
        raise ImportError(
            f"{function_name} draws with matplotlib, which is not installed. Install it with "
            f"`{_INSTALL_HINT}` (or `pip install matplotlib`)."
        ) from exc


def _new_figure(figsize):
    """A figure managed by pyplot, so that `plt.show()` displays it as usual."""
    import matplotlib.pyplot as plt

    return plt.figure(figsize=figsize)


# ------------------------------------------------------------------------------ history


def plot_history(history, metrics=None, title=None, filename=None, figsize=None):
    """Training curves: one panel per metric, training (solid) and validation (dashed).

    Args:
        history: what `fit` returned (a History), its `.history` dict
            ({"loss": [...], "val_loss": [...], ...}), or a dict mapping a label to either of
            those to overlay several runs ({"lr=0.01": history_1, "lr=0.1": history_2}).
        metrics: metric names to plot, without the "val_" prefix (default: every metric).
        title: figure title.
        filename: if given, the figure is also saved there (format from the extension).
        figsize: (width, height) in inches (default: 5 inches wide per panel).

    Returns:
        The matplotlib Figure.
    """
    _require_matplotlib("plot_history")
    runs = _as_runs(history)
    metrics = _check_metrics(metrics, runs)
    fig = _new_figure(figsize or (5 * len(metrics), 4))
    draw_histories(fig, runs, metrics, title)
    if filename is not None:
        fig.savefig(filename, dpi=100, bbox_inches="tight")
    return fig


def draw_histories(fig, runs, metrics=None, title=None, styles=None):
    """Draws labelled histories into `fig`, one axes per metric.

    runs: dict label -> {metric name: per-epoch values}. styles: optional dict label -> dict
    of line keyword arguments (e.g. color). Used by plot_history and `minikeras compare`.
    """
    from matplotlib.ticker import MaxNLocator

    metrics = metrics or _metric_names(runs)
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    colors = [f"C{i}" for i in range(10)]
    for ax, metric in zip(axes, metrics):
        for i, (label, curves) in enumerate(runs.items()):
            style = {"color": colors[i % len(colors)]}
            style.update((styles or {}).get(label, {}))
            for key, dashes, suffix in ((metric, "-", ""), ("val_" + metric, "--", " (val)")):
                if key in curves and len(curves[key]):
                    values = np.asarray(curves[key], dtype=float)
                    epochs = np.arange(1, values.size + 1)
                    ax.plot(epochs, values, linestyle=dashes, label=label + suffix, **style)
        ax.set_xlabel("epoch")
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.set_ylabel(metric)
        ax.set_title(metric)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize="small")
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _is_history_dict(obj):
    """True for {"loss": [..], ...}: every value a sequence of numbers."""
    if not isinstance(obj, dict) or not obj:
        return False
    return all(isinstance(v, (list, tuple, np.ndarray)) for v in obj.values())


def _curves(obj, what):
    if hasattr(obj, "history") and isinstance(obj.history, dict):
        return obj.history
    if _is_history_dict(obj):
        return obj
    raise TypeError(
        f"Expected a History (what fit() returns) or its .history dict of per-epoch lists. "
        f"Received: {what} of type {type(obj).__name__}"
    )


def _as_runs(history):
    """history (one run or a dict label -> run) -> dict label -> curves dict."""
    if isinstance(history, dict) and not history:
        raise ValueError("The history is empty: there is nothing to plot. Received: history={}")
    if isinstance(history, dict) and history and not _is_history_dict(history):
        return {str(label): _curves(run, f"history[{label!r}]") for label, run in history.items()}
    curves = _curves(history, "history")
    if not curves:
        raise ValueError("The history is empty: fit() ran no epoch. Received: an empty History")
    return {"train": curves}


def _metric_names(runs):
    names = []
    for curves in runs.values():
        for key in curves:
            base = key[4:] if key.startswith("val_") else key
            if base not in names:
                names.append(base)
    return names


def _check_metrics(metrics, runs):
    available = _metric_names(runs)
    if metrics is None:
        return available
    if isinstance(metrics, str):
        metrics = [metrics]
    missing = [m for m in metrics if m not in available]
    if missing:
        raise ValueError(
            f"Unknown metric {missing[0]!r}: the history has {available}. "
            f"Received: metrics={list(metrics)}"
        )
    return list(metrics)


# ------------------------------------------------------------------------- decision boundary


def plot_decision_boundary(model, x, y, ax=None, resolution=200, title=None, filename=None,
                           figsize=(5, 5)):
    """The regions a two-feature classifier assigns to each class, with the data on top.

    Binary classifiers (one sigmoid output) are shaded by the predicted probability of class
    1, with the 0.5 contour drawn as the boundary; multi-class ones (softmax) by the predicted
    class.

    Args:
        model: a trained model with `predict` (minikeras or Keras).
        x: (samples, 2) the points to show; the plotted area covers them with a margin.
        y: (samples,) class labels, or one-hot (samples, classes).
        ax: a matplotlib Axes to draw into (e.g. one panel of a grid); default a new figure.
        resolution: grid points per axis (the model predicts resolution**2 points).
        title: axes title.
        filename: if given, the figure is also saved there.
        figsize: size of the new figure when `ax` is None.

    Returns:
        The matplotlib Figure.
    """
    _require_matplotlib("plot_decision_boundary")
    x = np.asarray(x, dtype=float)
    if x.ndim != 2 or x.shape[1] != 2:
        raise ValueError(
            "plot_decision_boundary needs inputs with exactly two features, shape (samples, 2). "
            f"Received: x.shape={x.shape}"
        )
    labels = _class_labels(y, x.shape[0])
    if isinstance(resolution, bool) or not isinstance(resolution, (int, np.integer)) \
            or resolution < 2:
        raise ValueError(
            f"`resolution` must be an integer >= 2. Received: resolution={resolution!r}"
        )

    low, high = x.min(axis=0), x.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-3)
    g0 = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    g1 = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    grid0, grid1 = np.meshgrid(g0, g1)
    grid = np.column_stack([grid0.ravel(), grid1.ravel()]).astype("float32")
    probabilities = np.asarray(model.predict(grid, batch_size=8192, verbose=0))
    probabilities = probabilities.reshape(grid.shape[0], -1)

    if ax is None:
        fig = _new_figure(figsize)
        ax = fig.add_subplot(1, 1, 1)
    else:
        fig = ax.figure
    if probabilities.shape[1] == 1:
        p1 = probabilities[:, 0].reshape(grid0.shape)
        ax.contourf(grid0, grid1, p1, levels=np.linspace(0, 1, 11), cmap="RdBu_r", alpha=0.6)
        ax.contour(grid0, grid1, p1, levels=[0.5], colors="k", linewidths=1.5)
    else:
        classes = probabilities.argmax(axis=1).reshape(grid0.shape)
        k = probabilities.shape[1]
        ax.contourf(grid0, grid1, classes, levels=np.arange(k + 1) - 0.5, cmap="tab10",
                    vmin=0, vmax=9, alpha=0.4)
    ax.scatter(x[:, 0], x[:, 1], c=labels, cmap="RdBu_r" if probabilities.shape[1] == 1
               else "tab10", vmin=0, vmax=1 if probabilities.shape[1] == 1 else 9,
               s=12, edgecolors="k", linewidths=0.3)
    ax.set_xlim(g0[0], g0[-1])
    ax.set_ylim(g1[0], g1[-1])
    ax.set_xlabel("x[:, 0]")
    ax.set_ylabel("x[:, 1]")
    if title:
        ax.set_title(title)
    if filename is not None:
        fig.savefig(filename, dpi=100, bbox_inches="tight")
    return fig


def _class_labels(y, samples):
    """y as (samples,) integer labels: one-hot and (samples, 1) columns are accepted."""
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] > 1:
        y = y.argmax(axis=1)
    y = y.reshape(-1)
    if y.shape[0] != samples:
        raise ValueError(
            f"`y` must have one label per point of `x` ({samples}). Received: {y.shape[0]} "
            "labels"
        )
    return y
