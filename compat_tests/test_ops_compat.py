"""keras.ops forward results against Keras's own keras.ops (TensorFlow backend), on the same
inputs, for every case of the shared table (tests/op_cases.py)."""

import keras
import numpy as np
import pytest

from minikeras import ops
from tests.op_cases import CASES, make_inputs


@pytest.mark.parametrize("case", sorted(CASES))
def test_forward_matches_keras_ops(case):
    function, shapes, kind = CASES[case]
    arrays = make_inputs(shapes, kind, np.random.default_rng(3), dtype="float32")
    expected = keras.ops.convert_to_numpy(function(keras.ops, *arrays))
    ours = function(ops, *arrays)
    assert isinstance(ours, np.ndarray)
    assert ours.shape == expected.shape
    assert ours.dtype == expected.dtype, (ours.dtype, expected.dtype)
    np.testing.assert_allclose(ours, expected, rtol=2e-5, atol=1e-6)


def test_plain_python_numbers_become_floatx():
    assert ops.convert_to_tensor([1.0, 2.0]).dtype == keras.ops.convert_to_tensor(
        [1.0, 2.0]).dtype.name
    assert ops.one_hot(np.array([0, 2]), 3).dtype == np.float32
    np.testing.assert_array_equal(ops.one_hot(np.array([0, 2]), 3),
                                  keras.ops.convert_to_numpy(keras.ops.one_hot([0, 2], 3)))
