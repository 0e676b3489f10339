"""NumPy kernels (forward and backward pairs) used by the layers.

Convolution and pooling each come twice: a short reference implementation to read
(conv_reference.py, pooling_reference.py) and a fast one (conv_fast.py, pooling_fast.py).
conv.py and pooling.py are the entry points the layers call; they run the implementation
chosen here (`minikeras.config.set_kernels`).
"""

KERNELS = ("reference", "fast")

_chosen = "fast"


def kernels():
    """Which convolution/pooling kernels run: "fast" (the default) or "reference"."""
    return _chosen


def set_kernels(value):
    """Chooses the convolution/pooling kernels: "reference" (short, plain NumPy: the code
    the guide explains) or "fast" (the same results, faster). Affects calls made afterwards."""
    global _chosen
    if value not in KERNELS:
        raise ValueError(
            f"Expected kernels to be one of {KERNELS}. Received: kernels={value!r}"
        )
    _chosen = value
