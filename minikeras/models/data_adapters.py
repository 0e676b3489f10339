"""Where fit / evaluate / predict take their batches from.

NumPy data is cut into batches here (`ArrayBatches`, by data.EpochBatches's plan). Data that
already comes in batches, as Keras accepts it, is read batch by batch (`StreamBatches`):

- a `tf.data.Dataset` (minikeras's stand-in, minikeras/tf_standin/data.py): a new pass over it
  every epoch, or, with steps_per_epoch, one pass continued from epoch to epoch (as Keras's
  TensorFlow trainer does; a repeated dataset never runs out);
- a Python generator or iterator: one pass for the whole run;
- a `keras.utils.PyDataset`: its batches 0 .. len - 1 every epoch (in a new random order when
  fit's shuffle is on), between its on_epoch_begin and on_epoch_end.

Each batch is Keras's `data`: x, (x,), (x, y) or (x, y, sample_weight); the model turns each
part into its lists of arrays (`convert(x, y, sample_weight) -> (xs, ys, sw)`).
"""

import warnings

import numpy as np

from minikeras.models import data


def is_stream(x):
    """True for data given as batches (dataset, generator, iterator, PyDataset)."""
    from minikeras.tf_standin.data import Dataset
    from minikeras.utils.py_dataset import PyDataset

    if isinstance(x, (Dataset, PyDataset)):
        return True
    return hasattr(x, "__next__") and not isinstance(x, (np.ndarray, list, tuple, dict))


def unpack(batch):
    """Keras's unpacking of one batch: (x, y, sample_weight), missing parts None."""
    if isinstance(batch, list):
        batch = tuple(batch)
    if not isinstance(batch, tuple):
        return batch, None, None
    if len(batch) == 1:
        return batch[0], None, None
    if len(batch) == 2:
        return batch[0], batch[1], None
    if len(batch) == 3:
        return batch
    raise ValueError("Each batch must be x, (x,), (x, y) or (x, y, sample_weight). "
                     f"Received: a tuple of {len(batch)} items")


class ArrayBatches:
    """Batches of in-memory arrays: xs, ys lists of arrays, sample_weight an array or None."""

    def __init__(self, xs, ys, sample_weight, plan):
        self.xs, self.ys, self.sample_weight = xs, ys, sample_weight
        self.plan = plan            # data.EpochBatches

    @property
    def steps(self):
        return self.plan.steps

    def epoch(self):
        """Yields (step, (xs, ys, sample_weight)) for one epoch."""
        for step, batch in self.plan.epoch():
            sw = None if self.sample_weight is None else self.sample_weight[batch]
            yield step, ([a[batch] for a in self.xs], [a[batch] for a in self.ys], sw)


class StreamBatches:
    """Batches read from a dataset, generator or PyDataset.

    convert(x, y, sample_weight) -> (xs, ys, sample_weight): the model's conversion of one
    batch. steps: batches per epoch (None: until the data runs out).
    """

    def __init__(self, source, convert, steps=None, name="x", shuffle=False):
        from minikeras.utils.py_dataset import PyDataset

        self.source = source
        self.shuffle = shuffle      # a PyDataset's batches in a new order every epoch
        self.convert = convert
        self.steps_per_epoch = steps
        self.is_py_dataset = isinstance(source, PyDataset)
        self.is_iterator = hasattr(source, "__next__")
        self._iterator = None
        self.name = name
        if self.is_py_dataset:
            # Keras's epoch iterator resets itself when made, which calls on_epoch_end once
            # before the first epoch: a PyDataset that reshuffles there sees the same calls.
            source.on_epoch_end()

    @property
    def steps(self):
        """Steps per epoch as the progress bar shows them (None: unknown)."""
        if self.steps_per_epoch is not None:
            return self.steps_per_epoch
        try:
            return len(self.source)
        except TypeError:           # a generator, or an infinite dataset
            return None

    def _batches(self):
        if self.is_py_dataset:
            order = range(len(self.source))
            if self.shuffle:
                from minikeras import random

                order = random.generator().permutation(len(self.source))
            return (self.source[int(i)] for i in order)
        if self.is_iterator:
            return self.source
        return iter(self.source.as_numpy_iterator())

    def epoch(self):
        """Yields (step, (xs, ys, sample_weight)) for one epoch."""
        if self.is_py_dataset:
            self.source.on_epoch_begin()
        if self._iterator is None or self.steps_per_epoch is None and not self.is_iterator:
            self._iterator = self._batches()
        step = 0
        while self.steps_per_epoch is None or step < self.steps_per_epoch:
            batch = next(self._iterator, _END)
            if batch is _END:
                self._iterator = None
                if self.steps_per_epoch is not None or step == 0:
                    warnings.warn(
                        "Your input ran out of data; interrupting training. Make sure that "
                        "your dataset or generator can generate at least `steps_per_epoch * "
                        "epochs` batches. You may need to use the `.repeat()` function when "
                        "building your dataset.", stacklevel=3)
                break
            yield step, self.convert(*unpack(batch))
            step += 1
        if self.is_py_dataset:
            self.source.on_epoch_end()


_END = object()


def check_stream_arguments(method, y=None, sample_weight=None, batch_size=None, **others):
    """Keras refuses y, sample_weight and batch_size next to data that comes in batches."""
    given = {"y": y, "sample_weight": sample_weight, "batch_size": batch_size, **others}
    for name, value in given.items():
        if value is not None:
            raise ValueError(
                f"`{name}` is not accepted by `{method}()` when `x` is a dataset, generator or "
                f"PyDataset: give it inside each batch. Received: {name}={value!r:.80}")


__all__ = ["ArrayBatches", "StreamBatches", "check_stream_arguments", "data", "is_stream",
           "unpack"]


def model_batch(model, x, y, sample_weight):
    """One batch as the model's step takes it: (list of input arrays, list of target
    arrays, sample_weight array or None), converted and checked as fit's arrays are."""
    xs = model._input_arrays(x, "x")
    if y is None:
        if not (model._overrides("train_step") or model._overrides("test_step")):
            raise ValueError("Each batch must hold targets, as (x, y) or (x, y, "
                             "sample_weight). Received: a batch with inputs only")
        ys = []
    else:
        ys = model._target_arrays(y, "y")
    if sample_weight is not None:
        sample_weight = data.check_sample_weight(sample_weight)
    return xs, ys, sample_weight


def build_from_stream(model, source):
    """Builds a model without an input shape from the first batch of a dataset or
    PyDataset (a generator is not read ahead: its first batch would be lost)."""
    from minikeras.utils.py_dataset import PyDataset

    if getattr(model, "_graph", None) is not None or hasattr(source, "__next__"):
        return
    first = source[0] if isinstance(source, PyDataset) else next(
        iter(source.as_numpy_iterator()), None)
    if first is not None:
        model._input_arrays(unpack(first)[0], "x")
