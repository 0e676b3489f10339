"""keras.utils.PyDataset: data a script serves batch by batch from Python code."""


class PyDataset:
    """Base class for a dataset given batch by batch: a subclass defines `__len__` (batches
    per epoch) and `__getitem__(index)` returning batch `index` as (x, y) or (x, y,
    sample_weight), and may define `on_epoch_end()`.

    workers, use_multiprocessing, max_queue_size: accepted for Keras's signature; minikeras
    reads the batches in order in the training process.
    """

    def __init__(self, workers=1, use_multiprocessing=False, max_queue_size=10):
        self._workers = workers
        self._use_multiprocessing = use_multiprocessing
        self._max_queue_size = max_queue_size

    @property
    def workers(self):
        return self._workers

    @property
    def use_multiprocessing(self):
        return self._use_multiprocessing

    @property
    def max_queue_size(self):
        return self._max_queue_size

    def __getitem__(self, index):
        raise NotImplementedError(f"{type(self).__name__} must define __getitem__(index).")

    def __len__(self):
        raise NotImplementedError(f"{type(self).__name__} must define __len__().")

    @property
    def num_batches(self):
        return len(self)

    def on_epoch_begin(self):
        pass

    def on_epoch_end(self):
        pass
