"""Loads crafted files in a child process, for tests/test_crafted_files.py.

    python tests/crafted_loader.py jobs.json

jobs.json: a list of {"kind": "weights" | "model", "path": ..., "skip_mismatch": bool}.
For each job, one JSON line on stdout: how the load ended (the exception's type and message,
or the loaded weights), how long it took, the peak of Python and NumPy allocations while it
ran, and whether the model's weights changed when the load failed.

A separate process, because a loader that walks a crafted file can hang in a way a test cannot
interrupt: each job has an alarm (ALARM_SECONDS) that raises inside the loader, and the test
kills this process if even that does not fire.
"""

import json
import signal
import sys
import time
import tracemalloc
import warnings

import numpy as np

import minikeras as mk

ALARM_SECONDS = 20


def make_model():
    """The model every crafted file was derived from (tests/test_crafted_files.py)."""
    model = mk.Sequential([mk.Input((2,)), mk.layers.Dense(3, name="hidden"),
                           mk.layers.Dense(1, name="out")])
    model.compile(optimizer="adam", loss="mse")
    return model


class Hung(Exception):
    pass


def _alarm(signum, frame):
    raise Hung(f"still loading after {ALARM_SECONDS} s")


def run(job):
    model = make_model() if job["kind"] == "weights" else None
    before = model.get_weights() if model is not None else None
    signal.signal(signal.SIGALRM, _alarm)
    tracemalloc.start()
    start = time.perf_counter()
    signal.alarm(ALARM_SECONDS)
    outcome = {"name": job["name"]}
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            if model is not None:
                model.load_weights(job["path"], skip_mismatch=job.get("skip_mismatch", False))
            else:
                model = mk.saving.load_model(job["path"])
        outcome.update(ok=True, weights=[w.tolist() for w in model.get_weights()],
                       warnings=[str(w.message) for w in caught])
    except BaseException as error:         # a RecursionError or MemoryError is a finding too
        outcome.update(ok=False, type=type(error).__name__,
                       value_error=isinstance(error, ValueError), message=str(error)[:4000])
        if before is not None:
            after = model.get_weights()
            outcome["changed"] = any(not np.array_equal(a, b) for a, b in zip(after, before))
    finally:
        signal.alarm(0)
        outcome["seconds"] = time.perf_counter() - start
        outcome["peak_bytes"] = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return outcome


def main():
    with open(sys.argv[1]) as f:
        jobs = json.load(f)
    for job in jobs:
        print(json.dumps(run(job)), flush=True)


if __name__ == "__main__":
    main()
