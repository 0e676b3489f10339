"""`CallbackList`: calls every callback's hook in turn."""

from minikeras.callbacks.callback import Callback
from minikeras.callbacks.history import History
from minikeras.callbacks.progbar_logger import ProgbarLogger

_HOOKS = [name for name in vars(Callback) if name.startswith("on_")]


class CallbackList:
    """The callbacks of one fit/evaluate/predict call.

    Adds a History (for fit) and a ProgbarLogger (when verbose) as Keras does.
    """

    def __init__(self, callbacks=None, add_history=False, add_progbar=False, model=None,
                 **params):
        self.callbacks = list(callbacks or [])
        for callback in self.callbacks:
            if not isinstance(callback, Callback):
                raise TypeError(
                    "Expected `callbacks` to be a list of minikeras.callbacks.Callback "
                    f"instances. Received: {callback!r}"
                )
        if add_progbar and not any(isinstance(c, ProgbarLogger) for c in self.callbacks):
            self.callbacks.append(ProgbarLogger())
        self.history = None
        if add_history:
            self.history = next((c for c in self.callbacks if isinstance(c, History)), None)
            if self.history is None:
                self.history = History()
                self.callbacks.append(self.history)
        for callback in self.callbacks:
            if model is not None:
                callback.set_model(model)
            callback.set_params(params)

    def __getattr__(self, name):
        if name in _HOOKS:
            def call_all(*args, **kwargs):
                for callback in self.callbacks:
                    getattr(callback, name)(*args, **kwargs)
            return call_all
        raise AttributeError(name)
