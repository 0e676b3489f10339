"""minikeras.kernels.memory.keep_freed_memory: freed arrays are reused without new page faults."""

import subprocess
import sys

import pytest

# Runs in a fresh interpreter: the setting is process-wide and must not leak into pytest.
STEP_FAULTS = """
import resource, sys
import numpy as np
from minikeras.kernels.memory import keep_freed_memory

if sys.argv[1] == "keep":
    assert keep_freed_memory() is True

def faults():
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt

def step():  # like a training step: a few big arrays alive together, then all freed
    held = [np.ones(2**20 * k, np.float32) for k in (4, 3, 2, 1)]  # 16, 12, 8, 4 MB
    del held

step(); step()
before = faults()
for _ in range(5):
    step()
print((faults() - before) / 5)
"""


def faults_per_step(mode):
    result = subprocess.run([sys.executable, "-c", STEP_FAULTS, mode], check=True,
                            capture_output=True, text=True)
    return float(result.stdout.strip().splitlines()[-1])


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's mallopt only")
def test_freed_arrays_are_reused_without_page_faults():
    kept = faults_per_step("keep")
    default = faults_per_step("default")
    assert kept < 50                  # 40 MB touched per step: 10,000 faults if re-mapped
    assert default > 10 * max(kept, 1)  # what the setting saves (glibc trims by default)

