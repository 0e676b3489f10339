"""Every script in examples/ runs on minikeras (`minikeras run`) with a reduced epoch count.

The examples are plain Keras scripts; they all accept `--epochs N`. Scripts that save a figure
also accept `--out FILE`; the figure is checked to be a PNG.
"""

import os
import subprocess
import sys
from pathlib import Path

import pytest

import minikeras

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
EXAMPLES = PACKAGE_PARENT / "examples"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Scripts not listed run with `--epochs 1` and must only succeed. The MNIST convnet runs with
# one epoch too: about 3 s in all (measured 3.2 s with 1 epoch, 2.3 s with 0, on 2 cores). Its
# 10-epoch accuracy check against Keras lives in compat_tests/test_mnist_cnn_example.py.
EPOCHS = {"learning_rates.py": 2, "activations_compared.py": 2, "decision_boundary.py": 4}
# Scripts that save a figure to `--out`, and a line their output must contain.
FIGURES = {"learning_rates.py", "activations_compared.py", "decision_boundary.py"}
EXPECTED_OUTPUT = {
    "two_circles.py": "test accuracy",
    "learning_rates.py": "well chosen (0.1)",
    "activations_compared.py": "tanh",
    "decision_boundary.py": "epoch    4",
    "mnist_cnn.py": "test accuracy",
    "text_classification.py": "convnet   test loss",
}


def _example_names():
    return sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_the_teaching_examples_are_there():
    assert {"two_circles.py", "learning_rates.py", "activations_compared.py",
            "decision_boundary.py"} <= set(_example_names())


@pytest.mark.slow
@pytest.mark.parametrize("name", _example_names())
def test_example_runs_on_minikeras(name, tmp_path):
    args = ["--epochs", str(EPOCHS.get(name, 1))]
    figure = tmp_path / (Path(name).stem + ".png")
    if name in FIGURES:
        args += ["--out", str(figure)]
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(PACKAGE_PARENT), MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    proc = subprocess.run([sys.executable, "-m", "minikeras", "run", str(EXAMPLES / name), *args],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if name in EXPECTED_OUTPUT:
        assert EXPECTED_OUTPUT[name] in proc.stdout, proc.stdout
    if name in FIGURES:
        assert figure.read_bytes()[:8] == PNG_SIGNATURE
