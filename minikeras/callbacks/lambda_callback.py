"""`LambdaCallback`: a callback made of plain functions."""

from minikeras.callbacks.callback import Callback

_HOOKS = ("on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end",
          "on_train_batch_begin", "on_train_batch_end")


class LambdaCallback(Callback):
    """Calls the functions given for the hooks given.

    on_epoch_begin / on_epoch_end: f(epoch, logs); on_train_begin / on_train_end: f(logs);
    on_train_batch_begin / on_train_batch_end: f(batch, logs). Any other keyword
    (e.g. on_test_end=f) sets that attribute as is, so any hook can be given.
    """

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        given = dict(on_epoch_begin=on_epoch_begin, on_epoch_end=on_epoch_end,
                     on_train_begin=on_train_begin, on_train_end=on_train_end,
                     on_train_batch_begin=on_train_batch_begin,
                     on_train_batch_end=on_train_batch_end)
        for hook in _HOOKS:
            if given[hook] is not None:
                setattr(self, hook, given[hook])
