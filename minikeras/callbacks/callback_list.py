"""`CallbackList`: calls every callback's hook in turn."""

import numpy as np

from minikeras.callbacks.callback import Callback
from minikeras.callbacks.history import History
from minikeras.callbacks.progbar_logger import ProgbarLogger


def pythonify_logs(logs):
    """A new dict with the keys sorted and scalar values as Python floats (as Keras does).

    Nested dicts are flattened into the result; values that are not scalars (predict's
    batch outputs) are passed through unchanged.
    """
    result = {}
    for key, value in sorted((logs or {}).items()):
        if isinstance(value, dict):
            result.update(pythonify_logs(value))
        elif np.ndim(value) == 0 and not isinstance(value, str):
            try:
                result[key] = float(value)
            except (TypeError, ValueError):
                result[key] = value
        else:
            result[key] = value
    return result


# The base class's training-batch hooks only call their older names (see Callback).
_OLDER_NAMES = {"on_train_batch_begin": ("on_batch_begin",),
                "on_train_batch_end": ("on_batch_end",)}


def _does_nothing(callback, hook):
    """True when `callback.hook` is the base Callback's empty method (not overridden by the
    class, nor replaced on the instance as LambdaCallback does)."""
    for name in (hook, *_OLDER_NAMES.get(hook, ())):
        method = getattr(callback, name)
        if getattr(method, "__func__", None) is not getattr(Callback, name):
            return False
    return True


class CallbackList(Callback):
    """The callbacks of one fit/evaluate/predict call.

    The user's callbacks run first, in the order given, then a History (for fit) and a
    ProgbarLogger (when verbose) unless the user passed their own. That order matters: a
    callback that adds a key to the epoch logs (ReduceLROnPlateau's "learning_rate") does so
    before History records them and before the progress bar prints them.

    Each hook receives one shared, key-sorted copy of the logs, so what one callback adds
    the next ones see.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        super().__init__()
        self.callbacks = list(callbacks or [])
        self._listeners_of = ((), {})    # (callbacks, {hook: those that act on it})
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "Expected `callbacks` to be a list of minikeras.callbacks.Callback "
                    f"instances. Received: {callback!r}"
                )
        self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
        if self.history is None and add_history:
            self.history = History()
            self.callbacks.append(self.history)
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        if model is not None:
            self.set_model(model)
        self.set_params(params)

    def set_model(self, model):
        self.model = model
        if self.history is not None:
            model.history = self.history
        for callback in self.callbacks:
            callback.set_model(model)

    def set_params(self, params):
        self.params = params
        for callback in self.callbacks:
            callback.set_params(params)

    def _call(self, hook, *args, logs=None):
        listeners = self._listeners(hook)
        if not listeners:
            return      # nobody to give the logs to: skip preparing them (every batch)
        logs = pythonify_logs(logs)
        for callback in listeners:
            getattr(callback, hook)(*args, logs)

    def _listeners(self, hook):
        """The callbacks whose `hook` does something: those that override it (or, for the
        training-batch hooks, their older names), found once per hook and list of callbacks.
        Skipping the others changes nothing but the time they take."""
        callbacks = tuple(self.callbacks)
        if callbacks != self._listeners_of[0]:
            self._listeners_of = (callbacks, {})
        found = self._listeners_of[1]
        if hook not in found:
            found[hook] = [c for c in callbacks if not _does_nothing(c, hook)]
        return found[hook]

    def on_batch_begin(self, batch, logs=None):
        self._call("on_batch_begin", batch, logs=logs)

    def on_batch_end(self, batch, logs=None):
        self._call("on_batch_end", batch, logs=logs)

    def on_train_begin(self, logs=None):
        self._call("on_train_begin", logs=logs)

    def on_train_end(self, logs=None):
        self._call("on_train_end", logs=logs)

    def on_epoch_begin(self, epoch, logs=None):
        self._call("on_epoch_begin", epoch, logs=logs)

    def on_epoch_end(self, epoch, logs=None):
        self._call("on_epoch_end", epoch, logs=logs)

    def on_train_batch_begin(self, batch, logs=None):
        self._call("on_train_batch_begin", batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self._call("on_train_batch_end", batch, logs=logs)

    def on_test_begin(self, logs=None):
        self._call("on_test_begin", logs=logs)

    def on_test_end(self, logs=None):
        self._call("on_test_end", logs=logs)

    def on_test_batch_begin(self, batch, logs=None):
        self._call("on_test_batch_begin", batch, logs=logs)

    def on_test_batch_end(self, batch, logs=None):
        self._call("on_test_batch_end", batch, logs=logs)

    def on_predict_begin(self, logs=None):
        self._call("on_predict_begin", logs=logs)

    def on_predict_end(self, logs=None):
        self._call("on_predict_end", logs=logs)

    def on_predict_batch_begin(self, batch, logs=None):
        self._call("on_predict_batch_begin", batch, logs=logs)

    def on_predict_batch_end(self, batch, logs=None):
        self._call("on_predict_batch_end", batch, logs=logs)
