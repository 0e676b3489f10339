"""NumPy kernels (forward and backward pairs) used by the layers.

Convolution and pooling each come twice: a short reference implementation to read
(conv_reference.py, pooling_reference.py) and a fast one (conv_fast.py, pooling_fast.py).
conv.py and pooling.py are the entry points the layers call; they run the implementation
chosen here (`minikeras.config.set_kernels`). BatchNormalization's plain version is the
layer's own forward/backward (layers/batch_normalization.py); its fast one, for features on
the last axis, is batch_norm_fast.py, and the layer asks the same switch which to run. So do
DepthwiseConv2D and SeparableConv2D (depthwise.py: depthwise_reference.py, depthwise_fast.py).
conv_batch_norm.py holds the algebra of a BatchNormalization folded into the convolution before
it (models/fusion.py).
"""

KERNELS = ("reference", "fast")

_chosen = "fast"


def kernels():
    """Which convolution/pooling/batch normalization kernels run: "fast" (the default) or
    "reference"."""
    return _chosen


def set_kernels(value):
    """Chooses the convolution/pooling/batch normalization kernels: "reference" (short,
    plain NumPy: the code the guide explains) or "fast" (the same results, faster). Affects
    calls made afterwards."""
    global _chosen
    if value not in KERNELS:
        raise ValueError(
            f"Expected kernels to be one of {KERNELS}. Received: kernels={value!r}"
        )
    _chosen = value
