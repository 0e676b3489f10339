"""Checks shared by layer constructors. Messages quote the value received, as Keras's do."""

import numpy as np


def positive_int(name, value, owner=None):
    """Returns `value` as an int if it is a positive integer, else raises ValueError."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value <= 0:
        where = f" ({owner})" if owner else ""
        raise ValueError(
            f"Expected a positive integer for `{name}`{where}. Received: {name}={value!r}"
        )
    return int(value)


def int_tuple(name, value, n, owner=None, allow_zero=False):
    """An int or an iterable of `n` ints -> a tuple of `n` positive (or >= 0) ints."""
    if isinstance(value, (int, np.integer)) and not isinstance(value, bool):
        values = (int(value),) * n
    else:
        try:
            values = tuple(value)
        except TypeError:
            values = None
        if values is None or len(values) != n or not all(
            isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values
        ):
            raise ValueError(
                f"The `{name}` argument must be a tuple of {n} integers. "
                f"Received: {name}={value!r}"
            )
        values = tuple(int(v) for v in values)
    low = 0 if allow_zero else 1
    if any(v < low for v in values):
        kind = "non-negative" if allow_zero else "positive"
        where = f" ({owner})" if owner else ""
        raise ValueError(
            f"The `{name}` argument must contain only {kind} integers{where}. "
            f"Received: {name}={value!r}"
        )
    return values


def one_of(name, value, choices):
    """Lower-cases a string argument and checks it is among `choices`."""
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(
            f"The `{name}` argument must be one of {list(choices)}. Received: {name}={value!r}"
        )
    return value.lower()
