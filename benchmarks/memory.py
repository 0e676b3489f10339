"""How the C allocator treats the large arrays a training step frees (glibc only): a
benchmark comparison (bench_conv.py's minikeras-keepmem), not part of minikeras, whose layers
reuse their big arrays instead (minikeras/kernels/workspace.py).

A training step allocates and frees tens of megabytes of arrays (im2col matrices, conv
outputs, their gradients). glibc's malloc hands the top of its heap back to the kernel as
soon as about twice the largest array so far lies free there, which happens at the end of
every step; the next step then takes a page fault for every 4 KB page it touches again.
On a small VM a fault costs a few microseconds, so the MNIST convnet (about 14 MB
re-faulted per batch of 128) loses some 10 ms per batch, a fifth of its time.
TensorFlow never pays this: it keeps its own memory pool.

keep_freed_memory() tells malloc to keep freed memory for the next arrays instead. It
changes the whole process's allocator (memory is not given back to the system until the
process ends, so its resident size stays at its peak), which is why minikeras does not
call it.
"""

import ctypes
import ctypes.util
import sys

# mallopt parameters, from glibc's <malloc.h>
_M_TRIM_THRESHOLD = -1  # free bytes at the top of the heap before it is handed back
_M_MMAP_THRESHOLD = -3  # allocations from this size up get their own mapping (freed at once)

_MAX_MMAP_THRESHOLD = 32 * 2**20  # the largest value glibc accepts on 64-bit systems


def keep_freed_memory(keep_bytes=2**30):
    """Make glibc's malloc reuse freed memory instead of returning it to the kernel.

    Args:
        keep_bytes: free memory at the top of the heap that malloc keeps rather than trims.

    Arrays up to 32 MB then come from the heap (larger ones still get their own mapping),
    and up to `keep_bytes` of freed heap stays mapped for the next allocations.

    Returns:
        True when the settings were applied; False on a system without glibc's mallopt
        (macOS, Windows, musl), where nothing changes.
    """
    if not sys.platform.startswith("linux"):
        return False
    libc_path = ctypes.util.find_library("c")
    if libc_path is None:
        return False
    libc = ctypes.CDLL(libc_path)
    if not hasattr(libc, "mallopt"):
        return False
    # mallopt returns 1 on success, 0 on an invalid value.
    mmap_ok = libc.mallopt(_M_MMAP_THRESHOLD, _MAX_MMAP_THRESHOLD)
    trim_ok = libc.mallopt(_M_TRIM_THRESHOLD, int(keep_bytes))
    return bool(mmap_ok and trim_ok)


__all__ = ["keep_freed_memory"]
