"""`Callback`: hooks that `fit`, `evaluate` and `predict` call at fixed points."""


class Callback:
    """Base class. Override any of the `on_*` methods; `self.model` is set by `fit`.

    `logs` is a dict of the current metric values (e.g. {"accuracy": 0.9, "loss": 0.3}).
    Order of calls in `fit`:

        on_train_begin
          on_epoch_begin(epoch)
            on_train_batch_begin(batch) / on_train_batch_end(batch, logs)   per batch
            on_test_begin ... on_test_end(logs)                             validation
          on_epoch_end(epoch, logs)            logs = training + "val_" values
        on_train_end(logs)

    `on_batch_begin` / `on_batch_end` are the older names of the training-batch hooks: the
    default `on_train_batch_*` call them, as in Keras.
    """

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass
