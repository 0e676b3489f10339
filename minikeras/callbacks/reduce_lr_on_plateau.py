"""`ReduceLROnPlateau`: divide the learning rate when the monitored quantity stalls."""

import warnings

import numpy as np

from minikeras.callbacks.learning_rate_scheduler import current_learning_rate
from minikeras.callbacks.monitor_callback import MonitorCallback


class ReduceLROnPlateau(MonitorCallback):
    """lr <- max(lr * factor, min_lr) after `patience` epochs without improvement.

    After a reduction, `cooldown` epochs pass before epochs without improvement count again.
    The rate in effect during the epoch is added to its logs as "learning_rate" (before any
    reduction at that epoch's end), as Keras 3 does, so History has a "learning_rate" key.

    Args:
        monitor: the logs key to watch ("val_loss").
        factor: multiplier of the rate, < 1.
        patience: epochs without improvement before a reduction.
        verbose: 1 prints each reduction.
        mode: "auto", "min" or "max".
        min_delta: smallest change that counts as an improvement.
        cooldown: epochs to wait after a reduction.
        min_lr: the rate never goes below this.
    """

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__(monitor, mode, min_delta=min_delta)
        if factor >= 1.0:
            raise ValueError(
                f"ReduceLROnPlateau does not support a factor >= 1.0. Received factor={factor}"
            )
        self.factor = factor
        self.min_lr = min_lr
        self.patience = patience
        self.verbose = verbose
        self.cooldown = cooldown
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self.best = None
        self.cooldown_counter = 0
        self.wait = 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        if self.monitor_op is None:
            self._set_monitor_op()
        logs = logs if logs is not None else {}
        logs["learning_rate"] = current_learning_rate(self.model.optimizer)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(
                f"Learning rate reduction is conditioned on metric `{self.monitor}` which is "
                f"not available. Available metrics are: {','.join(logs)}.",
                stacklevel=2,
            )
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience and self._reduce_lr(epoch):
                self.cooldown_counter = self.cooldown
                self.wait = 0

    def _reduce_lr(self, epoch):
        """Returns whether the rate was lowered (it is not once it reached min_lr)."""
        optimizer = self.model.optimizer
        old_lr = current_learning_rate(optimizer)
        # Compared in float32, as Keras does, so that a rate stored as float32(min_lr)
        # counts as having reached min_lr.
        if old_lr <= np.float32(self.min_lr):
            return False
        new_lr = max(old_lr * self.factor, self.min_lr)
        optimizer.learning_rate = new_lr
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
        return True
