"""A reader for the few pickle streams Keras's data set files contain, without `pickle`.

Keras stores the IMDB and Reuters word-id sequences as NumPy object arrays (an .npz member
that NumPy writes as a pickle), and the CIFAR batches are pickled Python dicts holding a
NumPy array. Unpickling runs whatever callables the file names, so minikeras never calls
`pickle`: this module reads the pickle byte codes itself and understands only plain data --

    None, True/False, ints, floats, str, bytes, lists, tuples, dicts,
    and NumPy arrays and dtypes in the form NumPy pickles them
    (numpy.core.multiarray._reconstruct / numpy.ndarray / numpy.dtype, numpy's _frombuffer
    for protocol 5, and _codecs.encode, which Python 3 uses for bytes in protocol 2).

Any other opcode or global is refused with an error; nothing is ever imported or called by
name. Every length is checked against the bytes left in the stream before anything is
allocated, and an array's data must be exactly as long as its shape and dtype say.

    load(data, bytes_strings=True) -> the object the stream describes

Python 2 strings (CIFAR's files were written by Python 2) come back as bytes, as with
pickle.load(..., encoding="bytes"), which is how Keras reads them.
"""

import struct

import numpy as np

_ALLOWED_GLOBALS = {
    ("numpy.core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy._core.multiarray", "_reconstruct"): "reconstruct",
    ("numpy", "ndarray"): "ndarray",
    ("numpy", "dtype"): "dtype",
    ("numpy.core.numeric", "_frombuffer"): "frombuffer",
    ("numpy._core.numeric", "_frombuffer"): "frombuffer",
    ("_codecs", "encode"): "encode",
}
_MAX_LONG_BYTES = 16      # ints wider than 128 bits are not data set contents


class UnsafePickleError(ValueError):
    """The stream holds something other than plain data and NumPy arrays."""


class _Global:
    """A permitted global, by role ("reconstruct", "ndarray", "dtype", "frombuffer",
    "encode")."""

    def __init__(self, role):
        self.role = role


class _PendingArray:
    """An ndarray from _reconstruct, waiting for its state (shape, dtype, data) in BUILD."""


class _PendingDtype:
    """A dtype from numpy.dtype(typestr, ...), waiting for its byte order in BUILD."""

    def __init__(self, typestr):
        self.typestr = typestr


class _Mark:
    """The MARK opcode's stack marker."""


def _text(value):
    return value.decode("latin1") if isinstance(value, bytes) else value


def _make_dtype(pending, state):
    """numpy.dtype's pickled state is (version, byteorder, subarray, names, fields, ...)."""
    if not isinstance(state, tuple) or len(state) < 5 or state[2] is not None or \
            state[3] is not None or state[4] is not None:
        raise UnsafePickleError("Only plain (unstructured) NumPy dtypes are read. "
                                f"Received dtype state: {state!r:.200}")
    typestr = _text(pending.typestr)
    if not isinstance(typestr, str) or not typestr.isalnum():
        raise UnsafePickleError(f"Unknown NumPy type code. Received: {typestr!r:.50}")
    dtype = np.dtype(typestr)
    byteorder = _text(state[1])
    if byteorder in ("<", ">"):
        dtype = dtype.newbyteorder(byteorder)
    return dtype


def _make_array(state):
    """ndarray's pickled state is (version, shape, dtype, is_fortran, data): data is the raw
    bytes, or for an object array the list of its elements."""
    if not isinstance(state, tuple) or len(state) != 5:
        raise UnsafePickleError(f"Unexpected ndarray state. Received: {state!r:.200}")
    _, shape, dtype, fortran, data = state
    if not isinstance(shape, tuple) or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in shape):
        raise UnsafePickleError(f"Bad array shape. Received: {shape!r:.100}")
    if not isinstance(dtype, np.dtype):
        raise UnsafePickleError(f"Bad array dtype. Received: {dtype!r:.100}")
    count = int(np.prod(shape, dtype=np.int64))
    order = "F" if fortran else "C"
    if dtype.hasobject:
        if not isinstance(data, list) or len(data) != count:
            received = len(data) if isinstance(data, list) else type(data).__name__
            raise UnsafePickleError(
                f"An object array of shape {shape} needs a list of {count} elements. "
                f"Received: {received}")
        out = np.empty(count, dtype=object)
        for i, element in enumerate(data):
            out[i] = element
        return out.reshape(shape, order=order)
    data = data.encode("latin1") if isinstance(data, str) else data
    if not isinstance(data, bytes) or len(data) != count * dtype.itemsize:
        raise UnsafePickleError(
            f"An array of shape {shape} and dtype {dtype} needs {count * dtype.itemsize} "
            f"bytes. Received: {len(data) if isinstance(data, bytes) else type(data).__name__}")
    return np.frombuffer(data, dtype=dtype).reshape(shape, order=order).copy(order=order)


def _reduce(func, args):
    if not isinstance(func, _Global) or not isinstance(args, tuple):
        raise UnsafePickleError(f"Refusing to call {func!r:.100}")
    if func.role == "reconstruct":
        return _PendingArray()
    if func.role == "dtype" and args:
        return _PendingDtype(args[0])
    if func.role == "frombuffer" and len(args) == 4:
        buffer, dtype, shape, order = args
        return _make_array((1, shape, dtype, _text(order) == "F", buffer))
    if func.role == "encode" and len(args) == 2 and isinstance(args[0], str) \
            and args[1] == "latin1":
        return args[0].encode("latin1")
    raise UnsafePickleError(f"Refusing to call {func.role} with {args!r:.100}")


def _build(target, state):
    if isinstance(target, _PendingArray):
        return _make_array(state)
    if isinstance(target, _PendingDtype):
        return _make_dtype(target, state)
    raise UnsafePickleError(f"Refusing to set the state of {type(target).__name__}")


def load(data):
    """Reads one pickle stream (bytes) of plain data and NumPy arrays; see the module doc."""
    view = bytes(data)
    pos = 0
    stack = []
    marks = []
    memo = {}

    def take(n):
        nonlocal pos
        if n < 0 or pos + n > len(view):
            raise UnsafePickleError(
                f"Truncated pickle stream: {n} bytes wanted at offset {pos}, "
                f"{len(view) - pos} left")
        chunk = view[pos : pos + n]
        pos += n
        return chunk

    def unpack(fmt):
        return struct.unpack(fmt, take(struct.calcsize(fmt)))[0]

    def line():
        nonlocal pos
        end = bytes(view[pos : pos + 256]).find(b"\n")
        if end < 0:
            raise UnsafePickleError(f"Unterminated name at offset {pos}")
        text = bytes(view[pos : pos + end]).decode("ascii")
        pos += end + 1
        return text

    def pop_mark():
        if not marks:
            raise UnsafePickleError("Pickle stream pops a MARK it never set")
        start = marks.pop()
        items = stack[start:]
        del stack[start:]
        return items

    def global_of(module, name):
        role = _ALLOWED_GLOBALS.get((module, name))
        if role is None:
            raise UnsafePickleError(
                f"Refusing to load `{module}.{name}`: Keras's data set files hold only plain "
                "data and NumPy arrays. The file may be corrupted or malicious.")
        return _Global(role)

    def top():
        if not stack:
            raise UnsafePickleError("Pickle stream reads from an empty stack")
        return stack[-1]

    while True:
        if pos < len(view) - 5 and view[pos] in _SMALL_INTS:
            pos = _read_int_run(view, pos, stack)
            continue
        op = take(1)
        if op == b"\x80":                                   # PROTO
            take(1)
        elif op == b"\x95":                                 # FRAME (a length hint)
            take(8)
        elif op == b".":                                    # STOP
            if len(stack) != 1:
                raise UnsafePickleError("Pickle stream ends with a malformed stack")
            return stack[0]
        elif op == b"(":
            marks.append(len(stack))
        elif op == b"}":
            stack.append({})
        elif op == b"]":
            stack.append([])
        elif op == b")":
            stack.append(())
        elif op == b"N":
            stack.append(None)
        elif op == b"\x88":
            stack.append(True)
        elif op == b"\x89":
            stack.append(False)
        elif op == b"J":                 # the integers of the stream's last bytes (above:
            stack.append(unpack("<i"))   # the fast path for all the others)
        elif op == b"K":
            stack.append(unpack("<B"))
        elif op == b"M":
            stack.append(unpack("<H"))
        elif op == b"\x8a":                                 # LONG1
            size = unpack("<B")
            if size > _MAX_LONG_BYTES:
                raise UnsafePickleError(f"Integer of {size} bytes refused")
            stack.append(int.from_bytes(take(size), "little", signed=True))
        elif op == b"G":
            stack.append(unpack(">d"))
        elif op == b"X":
            stack.append(str(take(unpack("<I")), "utf-8"))
        elif op == b"\x8c":
            stack.append(str(take(unpack("<B")), "utf-8"))
        elif op == b"\x8d":
            stack.append(str(take(unpack("<Q")), "utf-8"))
        elif op in (b"B", b"T"):                            # BINBYTES, py2 BINSTRING
            stack.append(bytes(take(unpack("<I"))))
        elif op in (b"C", b"U"):                            # SHORT_BINBYTES/_BINSTRING
            stack.append(bytes(take(unpack("<B"))))
        elif op in (b"\x8e", b"\x96"):                    # BINBYTES8, BYTEARRAY8
            stack.append(bytes(take(unpack("<Q"))))
        elif op == b"t":
            stack.append(tuple(pop_mark()))
        elif op in (b"\x85", b"\x86", b"\x87"):             # TUPLE1..3
            n = op[0] - 0x84
            if len(stack) < n:
                raise UnsafePickleError("Pickle stream reads from an empty stack")
            items = tuple(stack[-n:])
            del stack[-n:]
            stack.append(items)
        elif op == b"l":
            stack.append(pop_mark())
        elif op == b"d":
            items = pop_mark()
            stack.append(dict(zip(items[::2], items[1::2], strict=True)))
        elif op == b"a":
            value = stack.pop()
            _append(top(), [value])
        elif op == b"e":
            items = pop_mark()
            _append(top(), items)
        elif op == b"s":
            value, key = stack.pop(), stack.pop()
            _set_items(top(), [key, value])
        elif op == b"u":
            items = pop_mark()
            _set_items(top(), items)
        elif op == b"\x94":                                 # MEMOIZE
            memo[len(memo)] = top()
        elif op == b"q":
            memo[unpack("<B")] = top()
        elif op == b"r":
            memo[unpack("<I")] = top()
        elif op in (b"h", b"j"):                            # BINGET, LONG_BINGET
            key = unpack("<B" if op == b"h" else "<I")
            if key not in memo:
                raise UnsafePickleError(f"Pickle stream refers to unknown memo entry {key}")
            stack.append(memo[key])
        elif op == b"c":                                    # GLOBAL
            module = line()
            stack.append(global_of(module, line()))
        elif op == b"\x93":                                 # STACK_GLOBAL
            name, module = stack.pop(), stack.pop()
            if not isinstance(module, str) or not isinstance(name, str):
                raise UnsafePickleError("STACK_GLOBAL needs two strings")
            stack.append(global_of(module, name))
        elif op == b"R":                                    # REDUCE
            args = stack.pop()
            func = stack.pop()
            stack.append(_reduce(func, args))
        elif op == b"b":                                    # BUILD
            state = stack.pop()
            pending = top()
            built = _build(pending, state)
            stack[-1] = built
            # The pending object may have been memoised before its state arrived.
            for key, value in memo.items():
                if value is pending:
                    memo[key] = built
        else:
            raise UnsafePickleError(
                f"Unsupported pickle opcode {op!r} at offset {pos - 1}: Keras's data set "
                "files hold only plain data and NumPy arrays.")


_BININT, _BININT1, _BININT2 = 0x4A, 0x4B, 0x4D      # opcodes J, K, M
_SMALL_INTS = (_BININT, _BININT1, _BININT2)


def _read_int_run(view, pos, stack):
    """Pushes a run of BININT/BININT1/BININT2 opcodes (the body of a list of word ids: most
    of an IMDB file) onto the stack in one tight loop. Returns the position after the run."""
    push = stack.append
    from_bytes = int.from_bytes
    safe_end = len(view) - 5        # before it every integer's bytes are surely there
    while pos < safe_end:
        op = view[pos]
        if op == _BININT2:
            push(view[pos + 1] | view[pos + 2] << 8)
            pos += 3
        elif op == _BININT1:
            push(view[pos + 1])
            pos += 2
        elif op == _BININT:
            push(from_bytes(view[pos + 1 : pos + 5], "little", signed=True))
            pos += 5
        else:
            return pos
    return pos


def _append(target, items):
    if not isinstance(target, list):
        raise UnsafePickleError(f"Cannot append to {type(target).__name__}")
    target.extend(items)


def _set_items(target, items):
    if not isinstance(target, dict) or len(items) % 2:
        raise UnsafePickleError(f"Cannot set items on {type(target).__name__}")
    for key, value in zip(items[::2], items[1::2], strict=True):
        if not isinstance(key, (str, bytes, int)):
            raise UnsafePickleError(f"Dict keys must be str, bytes or int. Received: {key!r:.50}")
        target[key] = value


__all__ = ["UnsafePickleError", "load"]
