"""Running a whole-array NumPy pass on the two halves of a batch at the same time.

NumPy releases the GIL inside its loops over arrays, so two Python threads that each run
vectorised operations on half of the data keep two cores busy. The matrix products already
do this inside BLAS; the memory-bound passes (pooling, relu) gain the same way on the big
early-layer activations. The work must write only into its own half of preallocated
outputs.
"""

import functools
import os
from concurrent.futures import ThreadPoolExecutor

# Below this many elements, handing half the work to another thread costs more than it saves.
PARALLEL_MIN_ELEMENTS = 2**20


@functools.cache
def _second_thread():
    return ThreadPoolExecutor(max_workers=1, thread_name_prefix="minikeras-half")


def over_batch_halves(work, batch, elements):
    """Calls work(part) for the two halves `part` (slices) of the batch axis, in two threads.

    Args:
        work: function of a slice of the batch axis; its return value is ignored.
        batch: length of the batch axis.
        elements: size of the arrays involved: below PARALLEL_MIN_ELEMENTS (or on a single
            core, or with a batch of one) there is one call, work(slice(None)).
    """
    if elements < PARALLEL_MIN_ELEMENTS or batch < 2 or (os.cpu_count() or 1) < 2:
        work(slice(None))
        return
    half = batch // 2
    first_half = _second_thread().submit(work, slice(0, half))
    work(slice(half, None))
    first_half.result()                  # waits, and re-raises any error from the thread


__all__ = ["PARALLEL_MIN_ELEMENTS", "over_batch_halves"]
