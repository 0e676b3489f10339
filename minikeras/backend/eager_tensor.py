"""The tensor type minikeras hands back at its public boundary: a NumPy array with `.numpy()`.

On TensorFlow, `model(x)`, `layer(x)`, `loss(y, p)` and `tf.constant(...)` return tensors that
scripts read with `.numpy()`. minikeras computes on plain NumPy arrays; only the value leaving a
public call is viewed (no copy) as an `EagerTensor`, so such scripts run unchanged while the
training steps inside fit() never see this type.
"""

import numpy as np


class EagerTensor(np.ndarray):
    """An ndarray with TensorFlow's eager-tensor reading methods (`numpy`, `get_shape`)."""

    def numpy(self):
        """The value as a plain NumPy array (a copy, as TensorFlow's is independent)."""
        return np.array(self, copy=True).view(np.ndarray)

    def get_shape(self):
        return self.shape

    def __array_wrap__(self, array, context=None, return_scalar=False):
        # NumPy results computed from a tensor are plain arrays again (TensorFlow converts
        # the other way, but a plain array keeps later NumPy work at full speed).
        if return_scalar and array.ndim == 0:
            return array[()]
        return array.view(np.ndarray)

    def __repr__(self):
        value = np.array2string(self.view(np.ndarray), separator=", ")
        return f"<tf.Tensor: shape={self.shape}, dtype={self.dtype.name}, numpy={value}>"

    def __str__(self):
        return f"tf.Tensor({self.view(np.ndarray)}, shape={self.shape}, dtype={self.dtype.name})"


def as_tensor(value):
    """A plain array (or NumPy scalar) -> EagerTensor view; anything else (a tracked value on
    the tape, a list of outputs) is returned as it is, lists item by item."""
    if type(value) is np.ndarray:
        return value.view(EagerTensor)
    if isinstance(value, np.generic):
        return np.asarray(value).view(EagerTensor)
    if isinstance(value, list):
        return [as_tensor(v) for v in value]
    return value
