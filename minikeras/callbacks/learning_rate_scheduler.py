"""`LearningRateScheduler`: set the learning rate at the start of each epoch."""

import numpy as np

from minikeras.callbacks.callback import Callback


def current_learning_rate(optimizer):
    """The optimizer's learning rate as Keras reads it: a float rounded to floatx, since
    Keras keeps it in a floatx variable (so 0.01 * 0.1 reads back as 0.0009999999776)."""
    from minikeras import backend

    if not hasattr(optimizer, "learning_rate"):
        raise ValueError('Optimizer must have a "learning_rate" attribute.')
    return float(np.asarray(optimizer.learning_rate, dtype=backend.floatx()))


class LearningRateScheduler(Callback):
    """At each epoch begin: optimizer.learning_rate = schedule(epoch, current_lr).

    Args:
        schedule: f(epoch, lr) -> new lr (a float); epoch counts from 0. A one-argument
            f(epoch) is accepted too, as in Keras.
        verbose: 1 prints the new rate each epoch.

    The rate in effect is added to each epoch's logs as "learning_rate" (so it is in History).
    """

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = current_learning_rate(optimizer)
        try:
            lr = self.schedule(epoch, lr)
        except TypeError:           # the one-argument form schedule(epoch)
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):
            raise ValueError(
                f"The output of the `schedule` function should be a float. Got: {lr}"
            )
        optimizer.learning_rate = float(lr)
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = current_learning_rate(self.model.optimizer)
