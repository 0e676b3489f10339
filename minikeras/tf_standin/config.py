"""tf.config: the devices minikeras runs on (one CPU) and the eager-execution switch."""

from collections import namedtuple

from minikeras.tf_standin._common import missing

PhysicalDevice = namedtuple("PhysicalDevice", ["name", "device_type"])
LogicalDevice = namedtuple("LogicalDevice", ["name", "device_type"])

_EAGER = {"functions": False}


def list_physical_devices(device_type=None):
    """[the CPU] for None or "CPU"; [] for any other type (minikeras runs on NumPy only)."""
    if device_type is None or str(device_type).upper() == "CPU":
        return [PhysicalDevice("/physical_device:CPU:0", "CPU")]
    return []


def list_logical_devices(device_type=None):
    if device_type is None or str(device_type).upper() == "CPU":
        return [LogicalDevice("/device:CPU:0", "CPU")]
    return []


def run_functions_eagerly(run_eagerly):
    """Accepted for TensorFlow's spelling: minikeras always runs functions eagerly."""
    _EAGER["functions"] = bool(run_eagerly)


def functions_run_eagerly():
    return _EAGER["functions"]


def __getattr__(name):
    raise missing("tensorflow.config", name)
