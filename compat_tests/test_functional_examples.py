"""examples/inception_mnist.py and examples/multi_io.py, unchanged, reach Keras's results on
minikeras.

Each script runs twice as a subprocess: on Keras (`python examples/X.py`,
KERAS_BACKEND=tensorflow) and on minikeras (`python -m minikeras run examples/X.py`), with its
default epochs. The engines start from different random weights, so the outcomes are compared,
not the numbers: the Inception network's test accuracy (5 epochs; measured 0.934 on Keras and
0.931 on minikeras) must reach 0.90 on both and differ by at most 0.03; the two-output model's
department accuracy (20 epochs; 0.965 on minikeras) must reach 0.90 and its priority MAE stay
below 0.15 on both, and both print the same History keys.
"""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

import minikeras

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
EXAMPLES = PACKAGE_PARENT / "examples"


def _environment(keras_backend):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(PACKAGE_PARENT), TF_CPP_MIN_LOG_LEVEL="3", MPLBACKEND="Agg")
    if keras_backend is not None:
        env["KERAS_BACKEND"] = keras_backend
    return env


def _run_both(name, cwd):
    """{"keras": output, "minikeras": output} of one default run of examples/<name>."""
    outputs = {}
    for engine, command, backend in (("keras", [], "tensorflow"),
                                     ("minikeras", ["-m", "minikeras", "run"], None)):
        proc = subprocess.run([sys.executable, *command, str(EXAMPLES / name)], cwd=cwd,
                              env=_environment(backend), capture_output=True, text=True,
                              timeout=900)
        assert proc.returncode == 0, f"{engine}: {name} failed\n{proc.stdout}{proc.stderr}"
        outputs[engine] = proc.stdout
    return outputs


def _value(output, key):
    values = re.findall(rf"^{re.escape(key)}: ([0-9.]+)\s*$", output, re.MULTILINE)
    assert len(values) == 1, f"no single '{key}:' line in\n{output}"
    return float(values[0])


@pytest.mark.slow
def test_inception_example_accuracy_matches_keras(tmp_path):
    outputs = _run_both("inception_mnist.py", tmp_path)
    accuracy = {engine: _value(out, "test accuracy") for engine, out in outputs.items()}
    print("inception_mnist.py test accuracy:", accuracy)
    assert min(accuracy.values()) >= 0.90, accuracy
    assert abs(accuracy["keras"] - accuracy["minikeras"]) <= 0.03, accuracy


@pytest.mark.slow
def test_multi_io_example_matches_keras(tmp_path):
    outputs = _run_both("multi_io.py", tmp_path)
    keys = {engine: re.search(r"^History keys: (.*)$", out, re.MULTILINE).group(1)
            for engine, out in outputs.items()}
    assert keys["keras"] == keys["minikeras"], keys
    for engine, out in outputs.items():
        assert _value(out, "test department_accuracy") >= 0.90, (engine, out)
        assert _value(out, "test priority_mae") < 0.15, (engine, out)
