"""`minikeras compare`: one end-to-end run against real Keras (TensorFlow starts once, in a child
process), plus fast tests of the argument handling, the summary and the minikeras child."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import minikeras
from minikeras.compare import (
    _write_plots,
    build_summary,
    curve_difference,
    format_table,
    split_command,
)

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
TWO_CIRCLES = PACKAGE_PARENT / "examples" / "two_circles.py"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(PACKAGE_PARENT)
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.update(extra)
    return env


def _write(path, source):
    path.write_text(textwrap.dedent(source))
    return path


# A model script with the two-circles network, used when examples/two_circles.py is missing.
FALLBACK_TWO_CIRCLES = """
    import argparse

    import numpy as np
    from keras.layers import Dense
    from keras.models import Sequential
    from keras.utils import set_random_seed

    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=50)
    args = parser.parse_args()
    set_random_seed(1)
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 400)
    angle = rng.uniform(0, 2 * np.pi, 400)
    radius = np.where(y == 1, 0.5, 1.0)
    X = np.column_stack([radius * np.cos(angle), radius * np.sin(angle)])
    X = (X + rng.normal(0, 0.1, X.shape)).astype("float32")
    model = Sequential()
    model.add(Dense(4, input_dim=2, activation="relu"))
    model.add(Dense(6, activation="relu"))
    model.add(Dense(6, activation="relu"))
    model.add(Dense(4, activation="relu"))
    model.add(Dense(1, activation="sigmoid"))
    model.compile(loss="binary_crossentropy", optimizer="adam", metrics=["accuracy"])
    model.fit(X, y.astype("float32"), epochs=args.epochs, verbose=0)
"""

# Runs the script given as its first argument and saves every History that fit returned, by
# hooking History.on_train_end -- independently of compare's own recording of fit.
RECORD_RETURNED_HISTORIES = """
    import json
    import runpy
    import sys

    import keras

    returned = []
    on_train_end = keras.callbacks.History.on_train_end

    def record(self, logs=None):
        returned.append({key: [float(v) for v in values] for key, values in self.history.items()})
        return on_train_end(self, logs)

    keras.callbacks.History.on_train_end = record
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name="__main__")
    with open(f"returned_{keras.backend.backend()}.json", "w") as f:
        json.dump(returned, f)
"""


@pytest.mark.slow
def test_compare_two_circles_same_start_end_to_end(tmp_path):
    target = TWO_CIRCLES if TWO_CIRCLES.exists() else _write(tmp_path / "two_circles.py",
                                                              FALLBACK_TWO_CIRCLES)
    wrapper = _write(tmp_path / "record_histories.py", RECORD_RETURNED_HISTORIES)
    out = tmp_path / "out"
    proc = subprocess.run(
        [sys.executable, "-m", "minikeras", "compare", str(wrapper), str(target), "--epochs", "2",
         "--same-start", "--out", str(out)],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr

    summary = json.loads((out / "summary.json").read_text())
    assert summary["same_start"] is True
    assert summary["fit_counts"] == {"keras": 1, "minikeras": 1}
    assert summary["engines"]["keras"]["backend"] == "tensorflow"
    (fit,) = summary["fits"]
    # The curves in the summary are the Histories each engine's fit returned.
    returned_keras = json.loads((tmp_path / "returned_tensorflow.json").read_text())
    returned_ours = json.loads((tmp_path / "returned_minikeras.json").read_text())
    assert fit["history"]["keras"] == returned_keras[0]
    assert fit["history"]["minikeras"] == returned_ours[0]
    assert sorted(fit["history"]["keras"]) == ["accuracy", "loss"]
    assert len(fit["history"]["keras"]["loss"]) == 2
    # Same start: Keras's initial weights were loaded, no shuffling, same data.
    assert fit["start"] == "loaded"
    assert fit["shuffle"] == {"keras": False, "minikeras": False}
    assert fit["same_data"] is True and summary["same_data"] is True
    assert fit["largest_relative_difference"] <= 1e-4
    for key, values in fit["history"]["keras"].items():
        np.testing.assert_allclose(fit["history"]["minikeras"][key], values, rtol=1e-4)
    assert fit["time_s"]["keras"] > 0 and fit["time_s"]["minikeras"] > 0

    png = out / fit["plot"]
    assert png.read_bytes()[:8] == PNG_SIGNATURE
    import matplotlib.image

    image = matplotlib.image.imread(png)
    assert image.ndim == 3 and image.shape[1] > 400

    assert "largest relative difference between the curves" in proc.stdout
    assert "fit time (s)" in proc.stdout
    assert str(out / "summary.json") in proc.stdout


def test_missing_keras_says_how_to_install(tmp_path):
    fake = tmp_path / "fake"
    (fake / "keras").mkdir(parents=True)
    (fake / "keras" / "__init__.py").write_text(
        "raise ImportError(\"No module named 'keras'\")\n")
    script = _write(tmp_path / "script.py", "print('hello')\n")
    env = _env()
    env["PYTHONPATH"] = os.pathsep.join([str(PACKAGE_PARENT), str(fake)])
    proc = subprocess.run([sys.executable, "-m", "minikeras", "compare", str(script),
                           "--out", str(tmp_path / "out")],
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert 'pip install "minikeras[keras]"' in proc.stderr
    assert "hello" not in proc.stdout            # the script did not run on minikeras either
    assert not (tmp_path / "out").exists()


def test_missing_script_exit_code_2(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "minikeras", "compare", "nope.py"],
                          cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert "nope.py" in proc.stderr


def test_minikeras_child_loads_the_saved_start_and_forces_shuffle_off(tmp_path):
    weights_dir = tmp_path / "weights"
    weights_dir.mkdir()
    rng = np.random.default_rng(0)
    start = [rng.normal(size=(2, 3)).astype("float32"), rng.normal(size=3).astype("float32"),
             rng.normal(size=(3, 1)).astype("float32"), rng.normal(size=1).astype("float32")]
    np.savez(weights_dir / "fit1_initial.npz", *start)
    script = _write(tmp_path / "script.py", """
        import numpy as np
        from keras import layers, models

        model = models.Sequential([layers.Dense(3, activation="tanh"), layers.Dense(1)])
        model.compile(loss="mse", optimizer="sgd")
        x = np.linspace(-1, 1, 20, dtype="float32").reshape(10, 2)
        model.fit(x, x[:, :1], epochs=0, verbose=0)        # unbuilt before fit: built there
        np.savez("after_fit.npz", *model.get_weights())
        model.fit(x, x[:, :1], epochs=2, verbose=0, shuffle=True)
    """)
    record = tmp_path / "record.json"
    proc = subprocess.run(
        [sys.executable, "-m", "minikeras.compare_child", "minikeras", str(record),
         str(weights_dir), "1", str(script)],
        cwd=tmp_path, env=_env(), capture_output=True, text=True, timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    recorded = json.loads(record.read_text())
    assert recorded["exit_code"] == 0
    first, second = recorded["fits"]
    assert first["start"] == "loaded"
    assert second["start"].startswith("no Keras weights")
    assert second["shuffle"] is False and second["epochs"] == 2
    assert len(second["history"]["loss"]) == 2 and second["time_s"] > 0
    assert first["x"]["shape"] == [10, 2] and first["x"]["sha256"] == second["x"]["sha256"]
    with np.load(tmp_path / "after_fit.npz", allow_pickle=False) as loaded:
        for i, expected in enumerate(start):
            np.testing.assert_array_equal(loaded[f"arr_{i}"], expected)


# ------------------------------------------------------------------- fast, in-process tests


def test_split_command_options_before_after_and_after_double_dash():
    assert split_command(["s.py", "--epochs", "2", "--same-start"]) == \
        ("s.py", ["--epochs", "2"], None, True)
    assert split_command(["s.py", "--out", "d", "--x"], out=None) == ("s.py", ["--x"], "d", False)
    assert split_command(["s.py", "--out=d"], same_start=True) == ("s.py", [], "d", True)
    # After `--`, everything is the script's, even --out.
    assert split_command(["s.py", "--same-start", "--", "--out", "figs"], out="o") == \
        ("s.py", ["--out", "figs"], "o", True)
    assert split_command(["--", "s.py", "--out", "figs"]) == ("s.py", [], "figs", False)
    with pytest.raises(ValueError, match="SCRIPT"):
        split_command([])
    with pytest.raises(ValueError, match="--out"):
        split_command(["s.py", "--out"])


def test_compare_is_a_cli_subcommand():
    from minikeras.cli import build_parser

    args = build_parser().parse_args(["compare", "--out", "d", "s.py", "--epochs", "2"])
    assert args.out == "d" and args.command == ["s.py", "--epochs", "2"]
    assert "SCRIPT [ARGS...]" in build_parser()._subparsers._group_actions[0].choices[
        "compare"].format_usage()


def test_curve_difference():
    assert curve_difference([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert curve_difference([1.0, 0.0], [1.1, 0.0]) == pytest.approx(0.1 / 1.1)
    assert curve_difference([1.0], [1.0, 2.0]) is None
    assert curve_difference([float("nan")], [1.0]) == float("inf")


def _fit_record(history, x_sum="a", seconds=1.0, start="loaded"):
    described = {"shape": [10, 2], "dtype": "float32", "sha256": x_sum}
    return {"index": 1, "model": "sequential", "x": described, "y": described, "epochs": 2,
            "batch_size": None, "shuffle": False, "start": start, "time_s": seconds,
            "history": history, "epoch": [0, 1]}


def _records(keras_fits, ours_fits):
    return {"keras": {"version": "3.x", "backend": "tensorflow", "exit_code": 0,
                      "fits": keras_fits},
            "minikeras": {"version": "0.1", "backend": "numpy", "exit_code": 0,
                          "fits": ours_fits}}


def test_plots_are_written_and_skipped_without_matplotlib(tmp_path, monkeypatch, capsys):
    history = {"loss": [1.0, 0.5], "val_loss": [1.2, 0.6]}
    summary = build_summary("s.py", [], False, _records([_fit_record(history)],
                                                        [_fit_record(history)]),
                            {"keras": 0, "minikeras": 0})
    _write_plots(summary, tmp_path)
    assert summary["fits"][0]["plot"] == "fit1.png"
    assert (tmp_path / "fit1.png").read_bytes()[:8] == PNG_SIGNATURE

    for name in [name for name in sys.modules if name.startswith("matplotlib.")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    summary["fits"][0]["plot"] = None
    _write_plots(summary, tmp_path / "none")
    assert summary["fits"][0]["plot"] is None
    assert "pip install minikeras[plot]" in capsys.readouterr().out


def test_summary_and_table_report_differences_data_and_fit_counts():
    keras_fits = [_fit_record({"loss": [1.0, 0.5], "accuracy": [0.5, 0.75]}, seconds=2.0),
                  _fit_record({"loss": [0.4]})]
    ours_fits = [_fit_record({"loss": [1.0, 0.5001], "accuracy": [0.5, 0.75]}, x_sum="b",
                             seconds=0.5)]
    summary = build_summary("s.py", ["--epochs", "2"], True, _records(keras_fits, ours_fits),
                            {"keras": 0, "minikeras": 0})
    json.dumps(summary)                                   # JSON-able as written
    (fit,) = summary["fits"]
    assert fit["largest_relative_difference"] == pytest.approx(0.0001 / 0.5001)
    assert fit["max_relative_difference"]["accuracy"] == 0.0
    assert fit["final"]["loss"] == {"keras": 0.5, "minikeras": 0.5001}
    assert fit["speed_ratio"] == 4.0
    assert fit["same_data"] is False and summary["same_data"] is False

    table = format_table(summary)
    assert "minikeras 4.0x faster" in table
    assert "2.00e-04 (loss)" in table
    assert "different data" in table
    assert "2 time(s) on Keras and 1 time(s) on minikeras" in table
