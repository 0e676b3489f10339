"""minikeras.datasets._safe_pickle: reads plain data and NumPy arrays, refuses the rest.

The streams are made with the standard pickle module (the format Keras's data set files use),
or written out byte by byte for Python 2's format; minikeras's reader never imports pickle.
"""

import pickle  # only to WRITE streams for the tests

import numpy as np
import pytest

from minikeras.datasets import _safe_pickle
from minikeras.datasets._safe_pickle import UnsafePickleError, load


@pytest.mark.parametrize("protocol", [2, 3, 4, 5])
def test_plain_data_and_arrays_round_trip(protocol):
    words = np.empty(3, dtype=object)
    words[:] = [[1, 2, 70000], [], list(range(300))]
    value = {
        b"data": np.arange(24, dtype=np.uint8).reshape(4, 6),
        b"labels": [0, 1, 255, 256, 65536, -1, -(2 ** 40)],
        "name": "café", "none": None, "flags": (True, False), "pi": 3.25,
        "big_endian": np.arange(6, dtype=">f4").reshape(2, 3),
        "fortran": np.asfortranarray(np.arange(6.0).reshape(2, 3)),
        "words": words, "last": 7,
    }
    got = load(pickle.dumps(value, protocol=protocol))
    assert got.keys() == value.keys()
    for key, expected in value.items():
        if isinstance(expected, np.ndarray):
            assert got[key].dtype == expected.dtype and got[key].shape == expected.shape
            if expected.dtype == object:
                assert [list(x) for x in got[key]] == [list(x) for x in expected]
            else:
                np.testing.assert_array_equal(got[key], expected)
        else:
            assert got[key] == expected


def test_python2_cifar_style_stream():
    """A dict pickled by Python 2 (protocol 2): its str are SHORT_BINSTRING and come back as
    bytes, as pickle.load(..., encoding="bytes") gives them."""
    stream = (
        b"\x80\x02}q\x00(U\x06labelsq\x01]q\x02(K\x01K\x02e"
        b"U\x04dataq\x03cnumpy.core.multiarray\n_reconstruct\nq\x04cnumpy\nndarray\nq\x05"
        b"K\x00\x85U\x01b\x87Rq\x06(K\x01K\x02K\x02\x86cnumpy\ndtype\nq\x07U\x02u1K\x00K\x01"
        b"\x87Rq\x08(K\x03U\x01|NNNJ\xff\xff\xff\xffJ\xff\xff\xff\xffK\x00tb\x89"
        b"U\x04\x01\x02\x03\x04tbu."
    )
    got = load(stream)
    assert got[b"labels"] == [1, 2]
    assert got[b"data"].dtype == np.uint8
    np.testing.assert_array_equal(got[b"data"], [[1, 2], [3, 4]])


class Evil:
    def __reduce__(self):
        import os
        return (os.system, ("echo pwned",))


@pytest.mark.parametrize("stream,match", [
    (pickle.dumps(Evil(), protocol=2), "Refusing to load `posix.system`"),
    (pickle.dumps(Evil(), protocol=4), "Refusing to load `posix.system`"),
    (pickle.dumps({1, 2}, protocol=4), "Unsupported pickle opcode"),          # a set
    (b"\x80\x02X\xff\xff\xff\x7fab.", "Truncated pickle stream"),             # 2 GB string
    (b"\x80\x02cbuiltins\neval\n.", "Refusing to load `builtins.eval`"),
    (b"\x80\x02K\x01K\x02.", "malformed stack"),
    (b"\x80\x02h\x05.", "unknown memo entry"),
    (b"\x80\x02e.", "never set"),
    (b"\x80\x02\x8a\x40" + b"\x01" * 64 + b".", "Integer of 64 bytes"),
])
def test_refusals(stream, match):
    with pytest.raises(UnsafePickleError, match=match):
        load(stream)


def test_array_data_must_match_its_shape():
    good = pickle.dumps(np.arange(4, dtype=np.int32), protocol=3)
    shorter = good.replace(b"C\x10" + np.arange(4, dtype=np.int32).tobytes(),
                           b"C\x0c" + np.arange(3, dtype=np.int32).tobytes())
    assert shorter != good
    with pytest.raises(UnsafePickleError, match="needs 16 bytes"):
        load(shorter)


def test_reader_imports_neither_pickle_nor_anything_by_name():
    import ast

    tree = ast.parse(open(_safe_pickle.__file__).read())
    imported = {alias.name for node in ast.walk(tree)
                if isinstance(node, (ast.Import, ast.ImportFrom)) for alias in node.names}
    imported |= {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert imported <= {"struct", "numpy"}, imported
    calls = {node.func.id for node in ast.walk(tree)
             if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
    assert not calls & {"eval", "exec", "getattr", "__import__"}, calls
