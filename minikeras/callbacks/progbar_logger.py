"""`ProgbarLogger`: the progress output of fit, evaluate and predict.

fit with verbose=1 prints, per epoch ("Epoch i/N" only when epochs > 1):

    Epoch 1/2
    8/8 ━━━━━━━━━━━━━━━━━━━━ 0s 25ms/step - accuracy: 0.7375 - loss: 0.5401 - val_loss: 0.96

verbose=2 prints the same header and "8/8 - 0s - 25ms/step - accuracy: ..." once per epoch.
Validation inside fit is silent; evaluate and predict called on their own draw their own bar
(predict's has no metrics). The metrics appear in the order of the logs, which CallbackList
sorts by name; keys added at epoch end (val_*, learning_rate) follow.
"""

import sys

from minikeras.callbacks.callback import Callback
from minikeras.callbacks.progbar import Progbar


class ProgbarLogger(Callback):
    """Prints the progress bar (verbose=1) or one line per epoch (verbose=2).

    Args:
        stream: where to write; default sys.stdout (looked up at each write, so that
            redirecting sys.stdout works).
    """

    def __init__(self, stream=None):
        super().__init__()
        self.stream = stream
        self.progbar = None
        self.seen = 0
        self.target = None
        self.epochs = 1
        self.verbose = 1
        self._called_in_fit = False

    def set_params(self, params):
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else verbose
        self.epochs = params.get("epochs", 1)
        self.target = params.get("steps")

    def _print(self, text):
        out = self.stream or sys.stdout
        out.write(text + "\n")
        out.flush()

    def on_train_begin(self, logs=None):
        self._called_in_fit = True      # validation batches then stay silent

    def on_epoch_begin(self, epoch, logs=None):
        self._reset_progbar()
        if self.verbose and self.epochs > 1:
            self._print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_epoch_end(self, epoch, logs=None):
        self._finalize(logs)

    def on_test_begin(self, logs=None):
        if not self._called_in_fit:
            self._reset_progbar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._called_in_fit:
            self._update(batch, logs)

    def on_test_end(self, logs=None):
        if not self._called_in_fit:
            self._finalize(logs)

    def on_predict_begin(self, logs=None):
        self._reset_progbar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)       # the batch outputs are not metrics

    def on_predict_end(self, logs=None):
        self._finalize(None)

    def _reset_progbar(self):
        self.seen = 0
        # Every value is shown as logged: the model's logs are already running means.
        self.progbar = Progbar(target=self.target, verbose=self.verbose, unit_name="step",
                               stateless_metrics=set(), stream=self.stream)

    def _update(self, batch, logs):
        if self.progbar is None:
            self._reset_progbar()
        self.seen = batch + 1
        if self.verbose == 1:
            self.progbar.update(self.seen, list((logs or {}).items()), finalize=False)

    def _finalize(self, logs):
        if self.progbar is None:
            self._reset_progbar()
        if self.target is None:
            self.target = self.seen
            self.progbar.target = self.seen
        self.progbar.update(self.target, list((logs or {}).items()), finalize=True)
