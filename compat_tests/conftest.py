"""Shared set-up for the comparisons with real Keras (TensorFlow backend).

These tests import keras and tensorflow directly: they are test dependencies, and a missing
one is an error, never a skip.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# TensorFlow's own CPU convolutions take NHWC only: the channels_first (NCHW) layers Keras is
# compared with here run through oneDNN, which TensorFlow turns on by default only on some
# CPUs (AVX-512 ones); on others (an AMD EPYC without AVX-512, seen here) every channels_first
# convolution fails with "The Conv2D op currently only supports the NHWC tensor format".
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "1")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import minikeras  # noqa: E402

assert keras.backend.backend() == "tensorflow", keras.backend.backend()


@pytest.fixture(autouse=True)
def _reset_float_types():
    """Every test starts in float32 on both engines, whatever the previous one set."""
    yield
    keras.config.set_floatx("float32")
    keras.config.set_dtype_policy("float32")
    minikeras.backend.set_floatx("float32")
    np.random.seed(None)
