"""Running unchanged Keras scripts on minikeras: `minikeras run`, `minikeras.install()` and
`KERAS_BACKEND=minikeras`.

Every test starts a fresh interpreter (the aliasing changes sys.modules and sys.meta_path for
good), runs a small script written to tmp_path and reads back what the script saw.
"""

import json
import os
import pkgutil
import subprocess
import sys
import sysconfig
import textwrap
from pathlib import Path

import pytest

import minikeras

# The directory holding the minikeras package under test; prepended to PYTHONPATH so that every
# child interpreter runs this very copy.
PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]
BIN_DIR = Path(sysconfig.get_path("scripts"))
CONSOLE_SCRIPT = BIN_DIR / ("minikeras.exe" if os.name == "nt" else "minikeras")
SITE_PACKAGES = Path(sysconfig.get_path("purelib"))
HOOK_FILES = [SITE_PACKAGES / "minikeras_hook.pth", SITE_PACKAGES / "_minikeras_hook.py"]


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(PACKAGE_PARENT)
    env.update(extra)
    return env


def _run(cmd, cwd, **env):
    return subprocess.run(
        [str(c) for c in cmd], cwd=cwd, env=_env(**env), capture_output=True, text=True, timeout=120
    )


def _write(path, source):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(source))
    return path


def _last_json(proc):
    assert proc.returncode == 0, f"exit {proc.returncode}\nstdout:\n{proc.stdout}\n{proc.stderr}"
    return json.loads(proc.stdout.strip().splitlines()[-1])


def _require_console_script():
    assert CONSOLE_SCRIPT.exists(), (
        f"{CONSOLE_SCRIPT} is missing: install minikeras into this environment first "
        "(pip install -e '.[test]')"
    )


def _require_hook():
    for path in HOOK_FILES:
        assert path.exists(), (
            f"{path} is missing: install minikeras into this environment first "
            "(pip install -e '.[test]')"
        )


# A script that imports Keras every way scripts do and reports what it got.
IMPORT_FORMS = """
    import json
    import os
    import sys

    import keras
    import keras.optimizers
    from keras import layers as layers_attr
    from tensorflow import keras as tf_keras
    import tensorflow as tf
    import tensorflow.keras
    import tensorflow.keras.optimizers
    from tensorflow.keras import optimizers as tf_optimizers

    from keras.layers import Dense
    from tensorflow.keras.layers import Dense as TfDense
    from keras.models import Sequential

    import minikeras
    import minikeras.optimizers

    print(json.dumps({
        "classes": Dense is minikeras.layers.Dense and TfDense is minikeras.layers.Dense
                   and Sequential is minikeras.models.Sequential,
        "keras_name": keras.__name__,
        "keras_file": keras.__file__,
        "keras_version": keras.__version__,
        "minikeras_version": minikeras.__version__,
        # `keras` stands in for the minikeras package: minikeras's attributes, Keras's version.
        "keras_is_minikeras": keras.Sequential is minikeras.Sequential
                              and keras.layers is layers_attr is minikeras.layers,
        "tf_keras_is_keras": tf_keras is keras and tf.keras is keras,
        "tensorflow_keras_is_keras": tensorflow.keras is keras,
        "optimizers": keras.optimizers is minikeras.optimizers
                      and tf_optimizers is minikeras.optimizers
                      and sys.modules["tensorflow.keras.optimizers"] is minikeras.optimizers,
        "spec_name": minikeras.__spec__.name,
        "optimizers_spec_name": minikeras.optimizers.__spec__.name,
        "argv": sys.argv,
        "name": __name__,
        "path0": sys.path[0],
        "keras_backend_env": os.environ.get("KERAS_BACKEND"),
    }))
"""


def _check_import_forms(report, script):
    assert report["keras_name"] == "minikeras"
    assert Path(report["keras_file"]) == Path(minikeras.__file__).resolve()
    assert report["keras_version"] == f"3.15.1+minikeras.{minikeras.__version__}"
    assert report["minikeras_version"] == minikeras.__version__ == "0.1.0"
    assert report["keras_is_minikeras"]
    assert report["tf_keras_is_keras"]
    assert report["tensorflow_keras_is_keras"]
    assert report["optimizers"]
    assert report["classes"]
    # The shared module objects keep their own names and specs.
    assert report["spec_name"] == "minikeras"
    assert report["optimizers_spec_name"] == "minikeras.optimizers"
    assert report["name"] == "__main__"
    assert Path(report["path0"]) == script.parent.resolve()


# --------------------------------------------------------------------------------------------
# The three routes
# --------------------------------------------------------------------------------------------


def test_console_script_run_aliases_keras_and_passes_argv(tmp_path):
    _require_console_script()
    script = _write(tmp_path / "scripts" / "train.py", IMPORT_FORMS)
    proc = _run([CONSOLE_SCRIPT, "run", script, "--epochs", "3", "-v", "--help"], cwd=tmp_path)
    report = _last_json(proc)
    _check_import_forms(report, script)
    assert report["argv"] == [str(script), "--epochs", "3", "-v", "--help"]
    assert report["keras_backend_env"] == "minikeras"


def test_python_m_minikeras_run_with_relative_script_path(tmp_path):
    script = _write(tmp_path / "scripts" / "train.py", IMPORT_FORMS)
    proc = _run([sys.executable, "-m", "minikeras", "run", "scripts/train.py", "x"], cwd=tmp_path)
    report = _last_json(proc)
    _check_import_forms(report, script)
    assert report["argv"] == ["scripts/train.py", "x"]


def test_install_inside_script(tmp_path):
    script = _write(
        tmp_path / "train.py",
        "import minikeras\nminikeras.install()\nminikeras.install()  # idempotent\n"
        + textwrap.dedent(IMPORT_FORMS),
    )
    report = _last_json(_run([sys.executable, script, "a"], cwd=tmp_path))
    _check_import_forms(report, script)
    assert report["argv"] == [str(script), "a"]
    assert report["keras_backend_env"] is None


def test_keras_backend_minikeras_env_var(tmp_path):
    _require_hook()
    script = _write(tmp_path / "train.py", IMPORT_FORMS)
    proc = _run([sys.executable, script, "b"], cwd=tmp_path, KERAS_BACKEND="minikeras")
    report = _last_json(proc)
    _check_import_forms(report, script)
    assert report["argv"] == [str(script), "b"]


def test_keras_backend_hook_imports_minikeras_only_when_keras_is_imported(tmp_path):
    _require_hook()
    probe = (
        "import sys; before = 'minikeras' in sys.modules or 'numpy' in sys.modules; "
        "import tensorflow as tf; print(before, tf.keras.__name__, 'minikeras' in sys.modules)"
    )
    proc = _run([sys.executable, "-c", probe], cwd=tmp_path, KERAS_BACKEND="minikeras")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["False", "minikeras", "True"]


def test_keras_backend_hook_reports_an_unimportable_minikeras(tmp_path):
    _require_hook()
    # A None entry in sys.modules makes `import minikeras` fail, as a broken install would.
    probe = (
        "import sys; sys.modules['minikeras'] = None\n"
        "try:\n    import keras\nexcept ImportError as exc:\n    print(exc)"
    )
    proc = _run([sys.executable, "-c", probe], cwd=tmp_path, KERAS_BACKEND="minikeras")
    assert proc.returncode == 0, proc.stderr
    assert "KERAS_BACKEND=minikeras is set, but minikeras could not be imported" in proc.stdout


@pytest.mark.parametrize("value", [None, "tensorflow", "jax", ""])
def test_start_up_hook_is_inert_without_keras_backend_minikeras(tmp_path, value):
    _require_hook()
    env = {} if value is None else {"KERAS_BACKEND": value}
    probe = (
        "import json, sys; print(json.dumps({'minikeras': 'minikeras' in sys.modules, "
        "'numpy': 'numpy' in sys.modules, 'finders': [type(f).__name__ for f in sys.meta_path]}))"
    )
    report = _last_json(_run([sys.executable, "-c", probe], cwd=tmp_path, **env))
    assert not report["minikeras"]
    assert not report["numpy"]
    assert "KerasAliasFinder" not in report["finders"]


def test_child_processes_of_minikeras_run_also_get_minikeras(tmp_path):
    _require_hook()
    script = _write(
        tmp_path / "spawn.py",
        """
        import subprocess, sys
        out = subprocess.run(
            [sys.executable, "-c", "import keras; print(keras.__name__)"],
            capture_output=True, text=True, check=True,
        ).stdout
        print(out.strip())
        """,
    )
    proc = _run([sys.executable, "-m", "minikeras", "run", script], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "minikeras"


def test_unchanged_keras_training_script_runs_on_minikeras(tmp_path):
    script = _write(
        tmp_path / "fit.py",
        """
        import json
        import sys

        import numpy as np
        import keras
        from keras import layers
        from tensorflow.keras.layers import Dense

        model = keras.Sequential(
            [keras.Input(shape=(3,)), layers.Dense(4, activation="relu"), Dense(1)]
        )
        model.compile(optimizer="adam", loss="mse", metrics=["mae"])
        x = np.random.default_rng(0).normal(size=(16, 3)).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        history = model.fit(x, y, epochs=int(sys.argv[1]), batch_size=8, verbose=0)
        print(json.dumps({
            "keys": sorted(history.history),
            "epochs": len(history.history["loss"]),
            "model_module": type(model).__module__,
            "pred_shape": list(model.predict(x, verbose=0).shape),
        }))
        """,
    )
    proc = _run([sys.executable, "-m", "minikeras", "run", script, "2"], cwd=tmp_path)
    report = _last_json(proc)
    assert report["keys"] == ["loss", "mae"]
    assert report["epochs"] == 2
    assert report["model_module"].startswith("minikeras.")
    assert report["pred_shape"] == [16, 1]


# --------------------------------------------------------------------------------------------
# Submodules: any minikeras module is reachable as keras.<name> and tensorflow.keras.<name>
# --------------------------------------------------------------------------------------------


def _public_submodules():
    names = []
    for info in pkgutil.walk_packages(minikeras.__path__, "minikeras."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            names.append(info.name)
    return names


def test_every_minikeras_submodule_is_reachable_through_keras_names(tmp_path):
    # A package that exists only for this test, added to minikeras.__path__ at run time, shows
    # the mapping needs no list of module names.
    extra = tmp_path / "extra"
    _write(extra / "fakesub" / "__init__.py", "VALUE = 1\n")
    _write(extra / "fakesub" / "inner" / "__init__.py", "")
    _write(extra / "fakesub" / "inner" / "leaf.py", "VALUE = 2\n")
    names = _public_submodules() + ["minikeras.fakesub.inner.leaf"]
    script = _write(
        tmp_path / "walk.py",
        f"""
        import importlib, json, sys
        import minikeras
        from minikeras._aliasing import install
        minikeras.__path__.append({str(extra)!r})
        install()
        bad = []
        for name in {names!r}:
            real = importlib.import_module(name)
            rest = name[len("minikeras"):]
            for alias in ("keras" + rest, "tensorflow.keras" + rest):
                if importlib.import_module(alias) is not real or real.__name__ != name:
                    bad.append(alias)
        from keras.fakesub.inner.leaf import VALUE
        from tensorflow.keras.fakesub import VALUE as TOP
        print(json.dumps({{"bad": bad, "values": [VALUE, TOP], "checked": len({names!r})}}))
        """,
    )
    report = _last_json(_run([sys.executable, script], cwd=tmp_path))
    assert report["bad"] == []
    assert report["values"] == [2, 1]
    assert report["checked"] == len(names)


def test_missing_keras_submodule_is_a_plain_module_not_found_error(tmp_path):
    script = _write(
        tmp_path / "missing.py",
        """
        from minikeras._aliasing import install
        install()
        try:
            import keras.no_such_module
        except ModuleNotFoundError as exc:
            print(exc.name)
        """,
    )
    proc = _run([sys.executable, script], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "keras.no_such_module"


# --------------------------------------------------------------------------------------------
# TensorFlow beyond tf.keras fails clearly
# --------------------------------------------------------------------------------------------


def test_other_tensorflow_uses_fail_with_a_clear_message(tmp_path):
    script = _write(
        tmp_path / "tf_use.py",
        """
        import json
        from minikeras._aliasing import install
        install()
        import tensorflow as tf
        out = {}
        try:
            tf.distribute
        except AttributeError as exc:
            out["attr"] = str(exc)
        try:
            tf.data.TFRecordDataset
        except AttributeError as exc:
            out["sub_attr"] = str(exc)
        try:
            import tensorflow.io
        except ImportError as exc:
            out["import"] = str(exc)
        try:
            from tensorflow import saved_model
        except ImportError as exc:
            out["from_import"] = str(exc)
        import tensorflow.math
        from tensorflow import random
        out["subset"] = [tf.keras is __import__("keras"), tensorflow.math is tf.math,
                         random is tf.random, "constant" in dir(tf)]
        print(json.dumps(out))
        """,
    )
    report = _last_json(_run([sys.executable, script], cwd=tmp_path))
    subset = "Keras API plus a small TensorFlow subset"
    assert "'distribute'" in report["attr"] and subset in report["attr"]
    assert "'tensorflow.data'" in report["sub_attr"] and "'TFRecordDataset'" in report["sub_attr"]
    assert "'tensorflow.io'" in report["import"] and subset in report["import"]
    assert "'tensorflow.saved_model'" in report["from_import"] and subset in report["from_import"]
    assert report["subset"] == [True, True, True, True]


def test_install_after_real_keras_import_raises(tmp_path):
    # A stand-in "real" keras package on sys.path, imported normally before install().
    _write(tmp_path / "site" / "keras" / "__init__.py", "REAL = True\n")
    script = _write(
        tmp_path / "late.py",
        f"""
        import sys
        sys.path.insert(0, {str(tmp_path / "site")!r})
        import keras
        assert keras.REAL
        from minikeras._aliasing import install
        try:
            install()
        except RuntimeError as exc:
            print("RuntimeError:", exc)
        print(any(type(f).__name__ == "KerasAliasFinder" for f in sys.meta_path))
        """,
    )
    proc = _run([sys.executable, script], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    first, second = proc.stdout.strip().splitlines()
    assert first.startswith("RuntimeError:") and "'keras'" in first and "before" in first
    assert second == "False"


def test_uninstall_removes_the_aliases(tmp_path):
    script = _write(
        tmp_path / "undo.py",
        """
        import sys
        from minikeras import _aliasing
        _aliasing.install()
        import keras, tensorflow.keras
        _aliasing.uninstall()
        print(_aliasing.is_installed(), sorted(n for n in sys.modules
              if n.split(".")[0] in ("keras", "tensorflow")))
        """,
    )
    proc = _run([sys.executable, script], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "False []"


def test_install_is_exported_from_the_package():
    from minikeras import _aliasing

    assert minikeras.install is _aliasing.install


# --------------------------------------------------------------------------------------------
# Exit codes, tracebacks and the command line itself
# --------------------------------------------------------------------------------------------


def test_uncaught_exception_prints_script_traceback_and_exits_1(tmp_path):
    script = _write(
        tmp_path / "boom.py",
        """
        def train():
            raise ValueError("bad learning rate")

        train()
        """,
    )
    proc = _run([sys.executable, "-m", "minikeras", "run", script], cwd=tmp_path)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert lines[0] == "Traceback (most recent call last):"
    assert lines[1].startswith(f'  File "{script}", line 5')
    assert lines[-1] == "ValueError: bad learning rate"
    assert "runpy" not in proc.stderr and "cli.py" not in proc.stderr


@pytest.mark.parametrize(
    ("body", "code", "stderr"),
    [
        ("import sys\nsys.exit(3)\n", 3, ""),
        ("import sys\nsys.exit('stopped early')\n", 1, "stopped early\n"),
        ("raise SystemExit(0)\n", 0, ""),
        ("print('ok')\n", 0, ""),
    ],
)
def test_system_exit_is_honoured(tmp_path, body, code, stderr):
    script = _write(tmp_path / "exit.py", body)
    proc = _run([sys.executable, "-m", "minikeras", "run", script], cwd=tmp_path)
    assert proc.returncode == code
    assert proc.stderr == stderr


def test_missing_script_exits_2(tmp_path):
    proc = _run([sys.executable, "-m", "minikeras", "run", "nope.py"], cwd=tmp_path)
    assert proc.returncode == 2
    assert "can't open file" in proc.stderr and "nope.py" in proc.stderr


def test_script_directory_is_first_on_sys_path(tmp_path):
    _write(tmp_path / "proj" / "helpers.py", "ANSWER = 42\n")
    script = _write(tmp_path / "proj" / "main.py", "import helpers\nprint(helpers.ANSWER)\n")
    proc = _run([sys.executable, "-m", "minikeras", "run", script], cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "42"


def test_version_and_help(tmp_path):
    proc = _run([sys.executable, "-m", "minikeras", "--version"], cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"minikeras {minikeras.__version__}"
    proc = _run([sys.executable, "-m", "minikeras", "--help"], cwd=tmp_path)
    assert proc.returncode == 0
    assert "run" in proc.stdout and "KERAS_BACKEND=minikeras" in proc.stdout
    proc = _run([sys.executable, "-m", "minikeras"], cwd=tmp_path)
    assert proc.returncode == 2 and "COMMAND" in proc.stderr


def test_console_script_version(tmp_path):
    _require_console_script()
    proc = _run([CONSOLE_SCRIPT, "--version"], cwd=tmp_path)
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"minikeras {minikeras.__version__}"
