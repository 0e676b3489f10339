"""tf.data: `Dataset` for in-memory data, a lazily run pipeline of NumPy values.

A dataset is a recipe: `_elements()` yields its elements afresh each time it is iterated
(each epoch), every transformation wrapping the recipe before it. An element is a structure of
NumPy values: one array, a tuple or a dict of them, as `from_tensor_slices` was given.

Batching the slices of arrays (optionally shuffled, with a buffer covering them all) cuts
whole batches with one indexing operation; any other pipeline goes element by element.
"""

import numpy as np

from minikeras import random as _random
from minikeras.backend.eager_tensor import as_tensor
from minikeras.tf_standin._common import arg, missing

AUTOTUNE = -1
INFINITE_CARDINALITY = -1
UNKNOWN_CARDINALITY = -2


# ------------------------------------------------------------------ structures


def _map_structure(function, element):
    # Tuples and dicts are structures; a list is one value (TensorFlow makes it a tensor).
    if isinstance(element, tuple):
        return tuple(_map_structure(function, e) for e in element)
    if isinstance(element, dict):
        return {key: _map_structure(function, value) for key, value in element.items()}
    return function(element)


def _leaves(element):
    if isinstance(element, tuple):
        return [leaf for e in element for leaf in _leaves(e)]
    if isinstance(element, dict):
        return [leaf for value in element.values() for leaf in _leaves(value)]
    return [element]


def _stack(elements):
    """A list of elements with one structure -> one element of stacked arrays."""
    first = elements[0]
    if isinstance(first, tuple):
        return type(first)(_stack([e[i] for e in elements]) for i in range(len(first)))
    if isinstance(first, dict):
        return {key: _stack([e[key] for e in elements]) for key in first}
    return np.stack([np.asarray(e) for e in elements])


def _as_numpy(value):
    value = arg(value)
    if hasattr(value, "_is_variable"):
        return np.array(value.value)
    array = np.asarray(value)
    if isinstance(value, (np.ndarray, np.generic)):
        return array
    if array.dtype == np.float64:
        array = array.astype("float32")     # Python floats are float32 tensors in TensorFlow
    elif array.dtype == np.int64:
        array = array.astype("int32")
    return array


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        raise ValueError(f"Expected `{name}` to be an integer >= {minimum}. "
                         f"Received: {name}={value!r}")
    return int(value)


# ------------------------------------------------------------------ the dataset


class Dataset:
    """A sequence of elements, built with the static constructors and transformed by methods
    that return new datasets (the original is unchanged)."""

    def __init__(self, elements, cardinality):
        self._make = elements           # () -> iterator over elements
        self._cardinality = cardinality

    def _elements(self):
        return self._make()

    # ---------------------------------------------------------------- constructors

    @staticmethod
    def from_tensor_slices(tensors, name=None):
        """One element per index of the first axis of `tensors` (an array, or a tuple / dict
        of arrays of the same length)."""
        arrays = _map_structure(_as_numpy, tensors)
        lengths = {a.shape[0] if a.ndim else None for a in _leaves(arrays)}
        if None in lengths:
            raise ValueError("`from_tensor_slices` needs arrays with at least one axis to "
                             "slice. Received: a scalar")
        if len(lengths) != 1:
            raise ValueError("`from_tensor_slices` needs arrays of one length along the first "
                             f"axis. Received lengths: {sorted(lengths)}")
        return _Slices(arrays, lengths.pop())

    @staticmethod
    def from_tensors(tensors, name=None):
        """A dataset of one element: `tensors` itself."""
        element = _map_structure(_as_numpy, tensors)
        return Dataset(lambda: iter([element]), 1)

    @staticmethod
    def range(*args, output_type="int64", name=None):
        values = np.arange(*args).astype(output_type)
        return _Slices(values, len(values))

    @staticmethod
    def zip(*datasets, name=None):
        """Elements paired up: zip((a, b)) yields (a_i, b_i); stops at the shortest."""
        if len(datasets) == 1 and isinstance(datasets[0], (tuple, dict)):
            datasets = datasets[0]
        if isinstance(datasets, dict):
            keys = list(datasets)
            return Dataset(
                lambda: (dict(zip(keys, items)) for items in
                         zip(*(datasets[k]._elements() for k in keys))),
                _min_cardinality([d._cardinality for d in datasets.values()]))
        datasets = tuple(datasets)
        return Dataset(lambda: zip(*(d._elements() for d in datasets)),
                       _min_cardinality([d._cardinality for d in datasets]))

    # ---------------------------------------------------------------- transformations

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        """Consecutive elements stacked into batches of `batch_size` (the last one smaller
        unless drop_remainder)."""
        batch_size = _check_count("batch_size", batch_size, 1)

        def batches():
            pending = []
            for element in self._elements():
                pending.append(element)
                if len(pending) == batch_size:
                    yield _stack(pending)
                    pending = []
            if pending and not drop_remainder:
                yield _stack(pending)

        return Dataset(batches, _batched_cardinality(self._cardinality, batch_size,
                                                      drop_remainder))

    def unbatch(self, name=None):
        """Each batch split back into its elements."""
        def elements():
            for batch in self._elements():
                count = _leaves(batch)[0].shape[0]
                for i in range(count):
                    yield _map_structure(lambda a, i=i: a[i], batch)
        return Dataset(elements, UNKNOWN_CARDINALITY)

    def shuffle(self, buffer_size, seed=None, reshuffle_each_iteration=True, name=None):
        """Elements in a random order, as TensorFlow draws it: a buffer of `buffer_size`
        elements, from which a random one is taken and replaced by the next element. A buffer
        at least as large as the dataset gives a uniform shuffle. Seeded by `seed`, else by
        minikeras's generator (tf.random.set_seed); a new order on every iteration unless
        reshuffle_each_iteration=False."""
        buffer_size = _check_count("buffer_size", buffer_size, 1)
        rng = np.random.default_rng(seed if seed is not None
                                    else _random.generator().integers(2**31))
        first_seed = rng.integers(2**31)

        def elements():
            order_rng = rng if reshuffle_each_iteration else np.random.default_rng(first_seed)
            return _buffer_shuffle(self._elements(), buffer_size, order_rng)

        return _Shuffled(self, elements, buffer_size, rng, reshuffle_each_iteration,
                         first_seed)

    def map(self, map_func, num_parallel_calls=None, deterministic=None, name=None):
        """map_func applied to every element (a tuple element is passed as its items)."""
        def elements():
            for element in self._elements():
                if isinstance(element, tuple):
                    result = map_func(*_map_structure(as_tensor, element))
                else:
                    result = map_func(_map_structure(as_tensor, element))
                yield _map_structure(_as_numpy, result)
        return Dataset(elements, self._cardinality)

    def filter(self, predicate, name=None):
        def elements():
            for element in self._elements():
                args = element if isinstance(element, tuple) else (element,)
                if bool(np.asarray(arg(predicate(*_map_structure(as_tensor, args))))):
                    yield element
        return Dataset(elements, UNKNOWN_CARDINALITY)

    def repeat(self, count=None, name=None):
        """The dataset `count` times over (forever when count is None or -1)."""
        if count is not None and count != -1:
            count = _check_count("count", count, 0)

        def elements():
            done = 0
            while count is None or count == -1 or done < count:
                yield from self._elements()
                done += 1
        if count is None or count == -1:
            cardinality = INFINITE_CARDINALITY if self._cardinality != 0 else 0
        elif self._cardinality < 0:
            cardinality = self._cardinality
        else:
            cardinality = self._cardinality * count
        return Dataset(elements, cardinality)

    def take(self, count, name=None):
        """The first `count` elements (all of them for -1)."""
        if count == -1:
            return self
        count = _check_count("count", count, 0)

        def elements():
            iterator = self._elements()
            for _ in range(count):
                try:
                    yield next(iterator)
                except StopIteration:
                    return
        cardinality = count if self._cardinality == INFINITE_CARDINALITY else (
            min(count, self._cardinality) if self._cardinality >= 0 else UNKNOWN_CARDINALITY)
        return Dataset(elements, cardinality)

    def skip(self, count, name=None):
        count = _check_count("count", count, 0)

        def elements():
            iterator = self._elements()
            for _ in range(count):
                if next(iterator, _END) is _END:
                    return
            yield from iterator
        cardinality = self._cardinality if self._cardinality < 0 else max(
            self._cardinality - count, 0)
        return Dataset(elements, cardinality)

    def cache(self, filename="", name=None):
        """The elements kept in memory after the first full pass (a filename is ignored:
        minikeras never writes the cache to disk)."""
        store = {}

        def elements():
            if "elements" in store:
                return iter(store["elements"])
            return self._fill(store)
        return Dataset(elements, self._cardinality)

    def _fill(self, store):
        seen = []
        for element in self._elements():
            seen.append(element)
            yield element
        store["elements"] = seen

    def prefetch(self, buffer_size, name=None):
        """Accepted for TensorFlow's spelling: elements are made when asked for."""
        return self

    def with_options(self, options, name=None):
        return self

    def concatenate(self, dataset, name=None):
        def elements():
            yield from self._elements()
            yield from dataset._elements()
        cards = (self._cardinality, dataset._cardinality)
        cardinality = (INFINITE_CARDINALITY if INFINITE_CARDINALITY in cards else
                       UNKNOWN_CARDINALITY if min(cards) < 0 else sum(cards))
        return Dataset(elements, cardinality)

    def enumerate(self, start=0, name=None):
        def elements():
            for index, element in enumerate(self._elements(), start):
                yield (np.asarray(index, dtype="int64"), element)
        return Dataset(elements, self._cardinality)

    # ---------------------------------------------------------------- reading

    def __iter__(self):
        for element in self._elements():
            yield _map_structure(as_tensor, element)

    def as_numpy_iterator(self):
        return self._elements()

    def cardinality(self):
        return as_tensor(np.asarray(self._cardinality, dtype="int64"))

    def __len__(self):
        if self._cardinality == INFINITE_CARDINALITY:
            raise TypeError("The dataset is infinite.")
        if self._cardinality < 0:
            raise TypeError("The dataset length is unknown.")
        return self._cardinality

    def __bool__(self):
        return True

    def __repr__(self):
        return f"<Dataset (minikeras) cardinality={self._cardinality}>"


_END = object()


def _buffer_shuffle(iterator, buffer_size, rng):
    buffer = []
    for element in iterator:
        if len(buffer) < buffer_size:
            buffer.append(element)
            continue
        index = rng.integers(buffer_size)
        yield buffer[index]
        buffer[index] = element
    while buffer:
        yield buffer.pop(rng.integers(len(buffer)))


def _min_cardinality(cards):
    finite = [c for c in cards if c >= 0]
    if finite:
        return min(finite)
    return UNKNOWN_CARDINALITY if UNKNOWN_CARDINALITY in cards else INFINITE_CARDINALITY


def _batched_cardinality(cardinality, batch_size, drop_remainder):
    if cardinality < 0:
        return cardinality
    return cardinality // batch_size if drop_remainder else -(-cardinality // batch_size)


class _Slices(Dataset):
    """from_tensor_slices: the arrays are kept whole, so that batching them (in order or
    through a buffer covering them all) is one indexing operation per batch."""

    def __init__(self, arrays, length, order=None):
        self._arrays = arrays
        self._length = length
        self._order = order         # () -> index order for one pass, or None (in order)
        super().__init__(self._each, length)

    def _each(self):
        order = range(self._length) if self._order is None else self._order()
        for i in order:
            yield _map_structure(lambda a, i=i: a[i], self._arrays)

    def batch(self, batch_size, drop_remainder=False, num_parallel_calls=None,
              deterministic=None, name=None):
        batch_size = _check_count("batch_size", batch_size, 1)
        stop = self._length - self._length % batch_size if drop_remainder else self._length

        def batches():
            order = None if self._order is None else self._order()
            for start in range(0, stop, batch_size):
                end = min(start + batch_size, stop)
                index = slice(start, end) if order is None else order[start:end]
                yield _map_structure(lambda a, index=index: a[index], self._arrays)
        return Dataset(batches, _batched_cardinality(self._length, batch_size,
                                                      drop_remainder))


class _Shuffled(Dataset):
    """A shuffled dataset; shuffling whole slices with a buffer covering them is a
    permutation, kept as slices so that batching stays fast."""

    def __new__(cls, source, elements, buffer_size, rng, reshuffle, first_seed):
        if isinstance(source, _Slices) and source._order is None and \
                buffer_size >= source._length:
            def order():
                if reshuffle:
                    return rng.permutation(source._length)
                return np.random.default_rng(first_seed).permutation(source._length)
            return _Slices(source._arrays, source._length, order)
        return Dataset(elements, source._cardinality)


def __getattr__(name):
    raise missing("tensorflow.data", name)


class experimental:
    """tf.data.experimental: only AUTOTUNE and the cardinality constants."""
    AUTOTUNE = AUTOTUNE
    INFINITE_CARDINALITY = INFINITE_CARDINALITY
    UNKNOWN_CARDINALITY = UNKNOWN_CARDINALITY
