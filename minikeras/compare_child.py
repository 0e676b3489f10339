"""The child process of `minikeras compare`: runs a script on one engine and records its fits.

    python -m minikeras.compare_child ENGINE RECORD WEIGHTS_DIR SAME_START -- SCRIPT [ARGS...]

ENGINE is "keras" (the real Keras) or "minikeras" (through the same import aliasing as
`minikeras run`). Before the script runs, the engine's `Model.fit` is wrapped so that every fit
call is timed and its History, the sizes and checksums of its x and y, and its settings are
appended to the JSON file RECORD (rewritten after each fit, so a crash keeps what was done).

With SAME_START = 1, every fit runs with shuffle=False, and
- the Keras child saves the weights each fit starts from to WEIGHTS_DIR/fit<N>_initial.npz;
- the minikeras child loads that file into its model (set_weights) before its own fit N.
The .npz files hold plain arrays only (np.savez; read back with allow_pickle=False).

This module imports nothing of Keras itself until ENGINE says so: the same file serves both.
"""

import argparse
import functools
import hashlib
import inspect
import json
import os
import runpy
import sys
import time
import traceback

import numpy as np

KERAS_MISSING = 3   # exit code of a Keras child that cannot import Keras


class FitRecorder:
    """Wraps `model_class.fit` to record each call; writes everything to `record_path`."""

    def __init__(self, engine, record_path, weights_dir, same_start):
        self.engine = engine
        self.record_path = record_path
        self.weights_dir = weights_dir
        self.same_start = same_start
        self.fits = []
        self.info = {"engine": engine}
        self._depth = 0         # fits called from inside a fit (rare) are not recorded

    def write(self, **extra):
        self.info.update(extra)
        with open(self.record_path, "w") as f:
            json.dump({**self.info, "fits": self.fits}, f)

    def patch(self, model_class):
        original = model_class.fit
        signature = inspect.signature(original)
        recorder = self

        @functools.wraps(original)
        def fit(model, *args, **kwargs):
            if recorder._depth:
                return original(model, *args, **kwargs)
            bound = signature.bind(model, *args, **kwargs)
            entry = recorder._describe_call(model, bound)
            entry["index"] = len(recorder.fits) + 1
            if recorder.same_start:
                bound.arguments["shuffle"] = False
                entry["shuffle"] = False
                x = bound.arguments.get("x")
                entry["start"] = recorder._same_start(model, x, entry["index"])
            recorder._depth += 1
            started = time.perf_counter()
            try:
                history = original(*bound.args, **bound.kwargs)
            finally:
                recorder._depth -= 1
            entry["time_s"] = time.perf_counter() - started
            entry["history"] = {key: [float(v) for v in values]
                                for key, values in history.history.items()}
            entry["epoch"] = [int(e) for e in getattr(history, "epoch", [])]
            recorder.fits.append(entry)
            recorder.write()
            return history

        model_class.fit = fit

    @staticmethod
    def _describe_call(model, bound):
        arguments = bound.arguments
        return {
            "model": getattr(model, "name", type(model).__name__),
            "x": describe_array(arguments.get("x")),
            "y": describe_array(arguments.get("y")),
            "epochs": arguments.get("epochs", 1),
            "batch_size": arguments.get("batch_size"),
            "shuffle": arguments.get("shuffle", True),
        }

    def _same_start(self, model, x, number):
        """Saves (Keras) or loads (minikeras) the weights fit `number` starts from."""
        path = os.path.join(self.weights_dir, f"fit{number}_initial.npz")
        if not getattr(model, "built", True) and x is not None:
            try:
                model.build((None,) + tuple(np.shape(x)[1:]))
            except Exception as exc:     # an unusual model: say so, and fit from its own start
                return f"could not build the model before fit: {exc}"
        if self.engine == "keras":
            weights = [np.asarray(w) for w in model.get_weights()]
            np.savez(path, *weights)
            return "saved"
        if not os.path.exists(path):
            return "no Keras weights for this fit: started from minikeras's own initial weights"
        with np.load(path, allow_pickle=False) as saved:
            weights = [saved[f"arr_{i}"] for i in range(len(saved.files))]
        try:
            model.set_weights(weights)
        except ValueError as exc:
            return f"could not load Keras's initial weights: {exc}"
        return "loaded"


def describe_array(value):
    """Shape, dtype and SHA-256 of an array-like, or None (datasets, generators, None). The
    data of a model with several inputs (a list or dict of arrays) is described array by
    array."""
    if value is None:
        return None
    if isinstance(value, dict):
        return {"arrays": {str(key): describe_array(v) for key, v in value.items()}}
    if isinstance(value, (list, tuple)) and value and all(hasattr(v, "shape") for v in value):
        return {"arrays": [describe_array(v) for v in value]}
    try:
        array = np.ascontiguousarray(np.asarray(value))
    except Exception:
        return None
    if array.dtype == object:
        return None
    return {"shape": list(array.shape), "dtype": str(array.dtype),
            "sha256": hashlib.sha256(array.tobytes()).hexdigest()}


def _run_with_keras(script, script_args):
    """Runs the script as __main__ (as `python SCRIPT ARGS` would). Returns the exit code."""
    sys.argv = [script, *script_args]
    sys.path[0] = os.path.dirname(os.path.realpath(script))
    try:
        runpy.run_path(script, run_name="__main__")
    except Exception:
        traceback.print_exc()
        return 1
    return 0


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m minikeras.compare_child")
    parser.add_argument("engine", choices=["keras", "minikeras"])
    parser.add_argument("record")
    parser.add_argument("weights_dir")
    parser.add_argument("same_start", choices=["0", "1"])
    parser.add_argument("script")
    parser.add_argument("script_args", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)

    recorder = FitRecorder(args.engine, args.record, args.weights_dir, args.same_start == "1")
    if args.engine == "keras":
        try:
            import keras
        except ImportError as exc:
            recorder.write(error="keras_missing", message=f"{type(exc).__name__}: {exc}")
            return KERAS_MISSING
        recorder.info.update(version=keras.__version__, backend=keras.backend.backend())
        recorder.patch(keras.Model)
        runner = _run_with_keras
    else:
        import minikeras
        from minikeras.cli import run_script
        from minikeras.models.model import Model

        recorder.info.update(version=minikeras.__version__, backend="numpy")
        recorder.patch(Model)
        runner = run_script
    recorder.write()
    try:
        code = runner(args.script, args.script_args)
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    recorder.write(exit_code=code)
    return code


if __name__ == "__main__":
    sys.exit(main())
