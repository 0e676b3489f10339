"""minikeras.backend / minikeras.config: float type, epsilon, image data format, names."""

import numpy as np
import pytest

import minikeras as keras
from minikeras import backend


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    backend.set_floatx("float32")
    backend.set_epsilon(1e-7)
    backend.set_image_data_format("channels_last")


def test_defaults():
    assert backend.floatx() == keras.config.floatx() == "float32"
    assert backend.epsilon() == 1e-7
    assert backend.image_data_format() == "channels_last"


def test_set_floatx_reaches_weights_data_and_outputs():
    keras.config.set_floatx("float64")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    assert model.layers[0].kernel.dtype == "float64"
    assert model.predict(np.ones((4, 2), dtype="float32"), verbose=0).dtype == np.float64
    with pytest.raises(ValueError, match="Received: value='float8'"):
        backend.set_floatx("float8")


def test_epsilon_and_image_data_format():
    backend.set_epsilon(1e-5)
    assert keras.config.epsilon() == 1e-5
    backend.set_image_data_format("channels_first")
    assert keras.layers.Flatten().data_format == "channels_first"
    with pytest.raises(ValueError, match="Received: data_format='nhwc'"):
        backend.set_image_data_format("nhwc")


def test_clear_session_restarts_default_names():
    backend.clear_session()
    first = keras.layers.Dense(1).name
    second = keras.layers.Dense(1).name
    backend.clear_session()
    assert (first, second) == ("dense", "dense_1")
    assert keras.layers.Dense(1).name == "dense"


def test_dtype_predicates():
    assert backend.is_float_dtype("float64") and not backend.is_float_dtype("int32")
    assert backend.is_int_dtype(np.int64) and not backend.is_int_dtype("float32")
    assert backend.is_keras_tensor(keras.Input((2,))) and not backend.is_keras_tensor(1.0)
