"""`MonitorCallback`: the shared part of callbacks that watch one logged quantity.

EarlyStopping, ReduceLROnPlateau and ModelCheckpoint all ask the same question at the end of an
epoch: "is `logs[monitor]` better than the best value so far, by at least `min_delta`?" This base
class answers it, in Keras's way:

    mode="min":   improved  <=>  current - (-min_delta) < best      i.e. current < best - min_delta
    mode="max":   improved  <=>  current - min_delta > best         i.e. current > best + min_delta
    mode="auto":  "min" for "loss" / "val_loss", else the direction the compiled metric of that
                  name declares (accuracy, AUC, precision... go up; errors go down).
"""

import warnings

import numpy as np

from minikeras.callbacks.callback import Callback

MODES = ("auto", "min", "max")


class MonitorCallback(Callback):
    """Base class for callbacks that compare a monitored value with the best one so far.

    Args:
        monitor: the logs key to watch ("val_loss" by default).
        mode: "auto", "min" or "max" (anything else warns and falls back to "auto").
        baseline: initial best value; None takes the first value seen.
        min_delta: the smallest change counted as an improvement (its sign is ignored).
    """

    def __init__(self, monitor="val_loss", mode="auto", baseline=None, min_delta=0):
        super().__init__()
        if mode not in MODES:
            warnings.warn(
                f"{type(self).__name__} mode '{mode}' is unknown, fallback to auto mode.",
                stacklevel=2,
            )
            mode = "auto"
        self.monitor = monitor
        self.mode = mode
        self.best = baseline
        self.min_delta = abs(min_delta)
        self.monitor_op = None

    def _set_monitor_op(self):
        """Chooses np.less or np.greater. Called at the first epoch end, once the model's
        metrics exist; min_delta then carries the sign that makes `_is_improvement` work."""
        if self.mode == "min":
            self.monitor_op = np.less
        elif self.mode == "max":
            self.monitor_op = np.greater
        else:
            metric_name = self.monitor.removeprefix("val_")
            if metric_name == "loss":
                self.monitor_op = np.less
            for metric in getattr(self.model, "metrics", None) or []:
                if metric.name != metric_name:
                    continue
                direction = getattr(metric, "_direction", None)
                if direction == "up":
                    self.monitor_op = np.greater
                elif direction == "down":
                    self.monitor_op = np.less
            if self.monitor_op is None:
                raise ValueError(
                    f"{type(self).__name__} callback received monitor={self.monitor}, but "
                    "minikeras cannot tell whether that metric should be maximized or "
                    "minimized. Pass `mode='max'` to keep the highest value, or `mode='min'` "
                    "to keep the lowest."
                )
        if self.monitor_op is np.less:
            self.min_delta *= -1

    def _is_improvement(self, monitor_value, reference_value):
        if reference_value is None:
            return True
        return bool(self.monitor_op(monitor_value - self.min_delta, reference_value))
