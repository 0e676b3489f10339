"""`ProgbarLogger`: the progress output of fit/evaluate/predict (verbose=1 bar, 2 a line)."""

import sys
import time

from minikeras.callbacks.callback import Callback


def format_logs(logs):
    return " - ".join(f"{key}: {value:.4f}" for key, value in sorted(logs.items()))


def format_time(seconds):
    if seconds >= 1:
        return f"{seconds:.0f}s"
    return f"{seconds * 1000:.0f}ms" if seconds >= 1e-3 else f"{seconds * 1e6:.0f}us"


class ProgbarLogger(Callback):
    """Prints progress as Keras does: with verbose=1, a bar updated every batch
    ("25/25 ━━━━ 0s 2ms/step - accuracy: 0.91 - loss: 0.23"); with verbose=2, one line per
    epoch."""

    BAR_WIDTH = 20

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream

    def _out(self):
        return self.stream or sys.stdout

    @property
    def verbose(self):
        return self.params.get("verbose", 1)

    def on_train_begin(self, logs=None):
        self._mode = "train"

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()
        self._mode = "train"
        if self.verbose == 1 and self.params.get("epochs", 1) > 1 or self.verbose == 1:
            self._out().write(f"Epoch {epoch + 1}/{self.params.get('epochs', 1)}\n")

    def on_train_batch_end(self, batch, logs=None):
        if self.verbose == 1:
            self._bar(batch + 1, self.params.get("steps"), logs or {}, final=False)

    def on_epoch_end(self, epoch, logs=None):
        steps = self.params.get("steps")
        if self.verbose == 1:
            self._bar(steps, steps, logs or {}, final=True)
        elif self.verbose == 2:
            elapsed = time.perf_counter() - self._start
            per_step = elapsed / max(steps or 1, 1)
            self._out().write(f"{steps}/{steps} - {format_time(elapsed)} - "
                              f"{format_time(per_step)}/step - {format_logs(logs or {})}\n")
        self._out().flush()

    def on_test_begin(self, logs=None):
        if self._mode_is_standalone():
            self._start = time.perf_counter()

    def on_test_batch_end(self, batch, logs=None):
        if self._mode_is_standalone() and self.verbose == 1:
            self._bar(batch + 1, self.params.get("steps"), logs or {}, final=False)

    def on_test_end(self, logs=None):
        if self._mode_is_standalone() and self.verbose in (1, 2):
            steps = self.params.get("steps")
            self._bar(steps, steps, logs or {}, final=True)

    def on_predict_begin(self, logs=None):
        self._start = time.perf_counter()

    def on_predict_end(self, logs=None):
        if self.verbose in (1, 2):
            steps = self.params.get("steps")
            self._bar(steps, steps, {}, final=True)

    def _mode_is_standalone(self):
        return getattr(self, "_mode", None) != "train"

    def _bar(self, step, steps, logs, final):
        elapsed = time.perf_counter() - self._start
        steps = steps or step
        filled = int(self.BAR_WIDTH * step / steps) if steps else self.BAR_WIDTH
        bar = "━" * filled + " " * (self.BAR_WIDTH - filled)
        per_step = elapsed / max(step, 1)
        line = f"\r{step}/{steps} {bar} {format_time(elapsed)} {format_time(per_step)}/step"
        if logs:
            line += " - " + format_logs(logs)
        self._out().write(line + ("\n" if final else ""))
        self._out().flush()
