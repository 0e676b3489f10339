"""Versions: under minikeras, `keras.__version__` is a Keras 3 version that says it is minikeras
("3.15.1+minikeras.0.1.0", a PEP 440 local version), while `minikeras.__version__` stays the
package's own.

Scripts check `keras.__version__` to see whether they run on Keras 3; minikeras follows Keras
3.15.1's API (the release compat_tests/ run against), so that is the version they read, with
the local label saying which engine and which minikeras release really runs.
"""

import importlib.metadata
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from packaging.version import Version

import minikeras
from minikeras import _aliasing

PACKAGE_PARENT = Path(minikeras.__file__).resolve().parents[1]

PROBE = """
    import json
    import keras
    import minikeras
    import tensorflow as tf
    from tensorflow import keras as tf_keras

    print(json.dumps({
        "keras": keras.__version__,
        "keras_function": keras.version(),
        "tf_keras": tf_keras.__version__,
        "tf_dot_keras": tf.keras.__version__,
        "minikeras": minikeras.__version__,
        "same_api": keras.layers.Dense is minikeras.layers.Dense,
    }))
"""


def _run_under_minikeras(tmp_path):
    script = tmp_path / "probe.py"
    script.write_text(textwrap.dedent(PROBE))
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(PACKAGE_PARENT)
    proc = subprocess.run([sys.executable, "-m", "minikeras", "run", str(script)], cwd=tmp_path,
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_keras_version_under_minikeras_is_keras_3_with_a_minikeras_local_label(tmp_path):
    seen = _run_under_minikeras(tmp_path)
    expected = f"3.15.1+minikeras.{minikeras.__version__}"
    assert seen["keras"] == expected
    assert seen["keras_function"] == expected
    assert seen["tf_keras"] == expected and seen["tf_dot_keras"] == expected
    assert seen["same_api"]
    version = Version(seen["keras"])            # valid PEP 440 (raises otherwise)
    assert version.major == 3 and version.release == (3, 15, 1)
    assert version.local == f"minikeras.{minikeras.__version__}"
    # The package keeps its own version, the one it is installed under.
    assert seen["minikeras"] == minikeras.__version__ == "0.1.0"


def test_package_version_is_the_installed_distributions():
    assert minikeras.__version__ == importlib.metadata.version("minikeras")
    assert not minikeras.__version__.startswith("3.")


def test_the_mirrored_keras_release_is_the_one_the_compat_tests_use():
    # compat_tests/ import the Keras installed beside minikeras; when it is upgraded, this
    # says the version minikeras reports must follow (after the compat tests pass).
    assert _aliasing.KERAS_API_VERSION == importlib.metadata.version("keras")
    assert _aliasing.KERAS_VERSION == f"{importlib.metadata.version('keras')}+minikeras." \
                                      f"{minikeras.__version__}"


def test_the_readme_states_the_version_keras_scripts_see():
    readme = (PACKAGE_PARENT / "README.md").read_text()
    assert f"`keras.__version__` then reads\n`{_aliasing.KERAS_VERSION}`" in readme
