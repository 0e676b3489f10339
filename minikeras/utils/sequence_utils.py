"""`pad_sequences`: a list of variable-length sequences -> one rectangular array."""

import numpy as np

_SIDES = ("pre", "post")


def pad_sequences(sequences, maxlen=None, dtype="int32", padding="pre", truncating="pre",
                  value=0.0):
    """Pads (and truncates) sequences to a common length, as Keras does.

    Args:
        sequences: a list (anything with a length) of sequences; each sequence is a list or
            array of steps, every step a scalar or an array of one common shape.
        maxlen: the output length; None means the longest sequence's length.
        dtype: the output's dtype (default "int32"; use object for variable-length strings).
        padding: "pre" (zeros before each sequence) or "post" (after).
        truncating: "pre" (drop the start of a longer sequence) or "post" (drop its end).
        value: the padding value.

    Returns:
        (len(sequences), maxlen) + step shape array.

    Raises:
        ValueError: for a non-iterable `sequences` or element, an unknown padding or
            truncating, a string `value` with a non-string dtype, or steps of different shapes.
    """
    if not hasattr(sequences, "__len__"):
        raise ValueError(f"`sequences` must be iterable. Received: sequences={sequences!r}")
    if truncating not in _SIDES:
        raise ValueError(f'Truncating type "{truncating}" not understood. Expected "pre" or '
                         f'"post". Received: truncating={truncating!r}')
    if padding not in _SIDES:
        raise ValueError(f'Padding type "{padding}" not understood. Expected "pre" or '
                         f'"post". Received: padding={padding!r}')
    lengths = []
    step_shape = None              # the shape of one step, from the first non-empty sequence
    for sequence in sequences:
        try:
            lengths.append(len(sequence))
        except TypeError as error:
            raise ValueError(
                f"`sequences` must be a list of iterables. Found non-iterable: {sequence}"
            ) from error
        if step_shape is None and len(sequence):
            step_shape = np.asarray(sequence).shape[1:]
    step_shape = step_shape or ()
    if maxlen is None:
        maxlen = max(lengths, default=0)
    is_text = np.issubdtype(dtype, np.str_) or np.issubdtype(dtype, np.bytes_)
    if isinstance(value, str) and dtype is not object and not is_text:
        raise ValueError(
            f"`dtype` {dtype} is not compatible with `value`'s type: {type(value)}\n"
            "You should set `dtype=object` for variable length strings."
        )
    out = np.full((len(lengths), maxlen) + tuple(step_shape), value, dtype=dtype)
    for index, sequence in enumerate(sequences):
        if not len(sequence) or not maxlen:
            continue
        kept = sequence[-maxlen:] if truncating == "pre" else sequence[:maxlen]
        kept = np.asarray(kept, dtype=dtype)
        if kept.shape[1:] != step_shape:
            raise ValueError(
                f"Shape of sample {kept.shape[1:]} of sequence at position {index} is "
                f"different from expected shape {step_shape}"
            )
        if padding == "post":
            out[index, : len(kept)] = kept
        else:
            out[index, maxlen - len(kept) :] = kept
    return out


__all__ = ["pad_sequences"]
