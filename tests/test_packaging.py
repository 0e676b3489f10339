"""Packaging: the wheel, the sdist and an editable install all ship the KERAS_BACKEND hook.

Each install goes into a fresh virtual environment made for the test. To stay fast and offline,
nothing is downloaded: the build backend (hatchling) and pip come from the environment running
the tests, and the new environment sees that environment's packages (numpy, pip, hatchling)
through a path file placed after its own site-packages. Path files only add directories, so the
test environment's own minikeras install (its editable finder and start-up hook) is not carried
over: every minikeras the new environment sees comes from the install under test.
"""

import json
import os
import subprocess
import sys
import sysconfig
import tarfile
import textwrap
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HOOK = "minikeras_hook.pth"
HOOK_MODULE = "_minikeras_hook.py"

pytestmark = pytest.mark.slow

PROBE = textwrap.dedent(
    """
    import json, sys
    import keras
    from tensorflow.keras import layers
    import minikeras
    print(json.dumps({"name": keras.__name__, "file": keras.__file__,
                      "same": keras.layers is minikeras.layers
                              and keras.__version__.startswith("3."), "argv": sys.argv}))
    """
)
INERT_PROBE = (
    "import json, sys; print(json.dumps(['minikeras' in sys.modules, 'numpy' in sys.modules]))"
)


def _clean_env(**extra):
    drop = ("KERAS_BACKEND", "PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")
    env = {k: v for k, v in os.environ.items() if k not in drop}
    env.update(extra)
    return env


def _run(cmd, cwd, **env):
    proc = subprocess.run(
        [str(c) for c in cmd],
        cwd=cwd,
        env=_clean_env(**env),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, f"{cmd} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
    return proc


class FreshEnv:
    """A new virtual environment borrowing the test environment's packages (see module doc)."""

    def __init__(self, root):
        subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
        bin_dir = root / ("Scripts" if os.name == "nt" else "bin")
        self.python = bin_dir / ("python.exe" if os.name == "nt" else "python")
        self.console_script = bin_dir / ("minikeras.exe" if os.name == "nt" else "minikeras")
        query = "import sysconfig; print(sysconfig.get_path('purelib'))"
        self.site = Path(_run([self.python, "-c", query], cwd=root).stdout.strip())
        borrowed = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
        # "zz" sorts after every other path file, so the environment's own entries come first.
        (self.site / "zz_borrowed_test_packages.pth").write_text("\n".join(borrowed) + "\n")
        self.root = root

    def pip(self, *args):
        return _run([self.python, "-m", "pip", *args], cwd=self.root, PIP_NO_INPUT="1")

    def probe(self, cmd, **env):
        proc = _run(cmd, cwd=self.root, **env)
        assert "Error processing line" not in proc.stderr, proc.stderr  # a failing .pth line
        return json.loads(proc.stdout.strip().splitlines()[-1])


def _check_hook_routes(env, expected_init, tmp_path):
    """KERAS_BACKEND=minikeras and `minikeras run` give minikeras; otherwise the hook is inert."""
    assert (env.site / HOOK).is_file() and (env.site / HOOK_MODULE).is_file()
    script = tmp_path / "probe.py"
    script.write_text(PROBE)

    report = env.probe([env.python, script, "--flag"], KERAS_BACKEND="minikeras")
    assert report["name"] == "minikeras" and report["same"]
    assert Path(report["file"]).resolve() == expected_init.resolve()
    assert report["argv"] == [str(script), "--flag"]

    report = env.probe([env.console_script, "run", script, "x"])
    assert report["name"] == "minikeras" and report["same"]
    assert Path(report["file"]).resolve() == expected_init.resolve()

    for value in (None, "tensorflow"):
        extra = {} if value is None else {"KERAS_BACKEND": value}
        assert env.probe([env.python, "-c", INERT_PROBE], **extra) == [False, False]


def _check_uninstall_removes_hook(env):
    env.pip("uninstall", "-y", "minikeras")
    assert not (env.site / HOOK).exists() and not (env.site / HOOK_MODULE).exists()
    assert not env.console_script.exists()


def _build_wheel(source, out_dir):
    _run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--no-index",
            "-w",
            out_dir,
            source,
        ],
        cwd=out_dir.parent,
    )
    (wheel,) = out_dir.glob("minikeras-*.whl")
    return wheel


def test_wheel_install_ships_the_hook(tmp_path):
    wheel = _build_wheel(REPO, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = archive.read(
            next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        ).decode()
    assert {HOOK, HOOK_MODULE} <= names  # at the wheel root: they land in site-packages itself
    assert {"minikeras/__init__.py", "minikeras/_aliasing.py", "minikeras/cli.py"} <= names
    # Every subpackage of minikeras/ is shipped, found without a hand-kept list.
    subpackages = {p.parent.relative_to(REPO).as_posix() for p in REPO.glob("minikeras/**/*.py")}
    shipped = {n.rsplit("/", 1)[0] for n in names if n.startswith("minikeras/")}
    assert subpackages <= shipped
    assert not any(n.startswith(("tests/", "compat_tests/")) for n in names)
    assert "minikeras = minikeras.cli:main" in entry_points

    env = FreshEnv(tmp_path / "venv")
    env.pip("install", "--no-deps", "--no-index", wheel)
    _check_hook_routes(env, env.site / "minikeras" / "__init__.py", tmp_path)
    _check_uninstall_removes_hook(env)


def test_editable_install_ships_the_hook(tmp_path):
    env = FreshEnv(tmp_path / "venv")
    env.pip("install", "--no-deps", "--no-build-isolation", "--no-index", "-e", REPO)
    assert not (env.site / "minikeras").exists()  # the code stays in the source tree
    _check_hook_routes(env, REPO / "minikeras" / "__init__.py", tmp_path)
    _check_uninstall_removes_hook(env)


def test_sdist_builds_a_wheel_with_the_hook(tmp_path):
    out = tmp_path / "sdist"
    _run([sys.executable, "-m", "hatchling", "build", "-t", "sdist", "-d", out], cwd=REPO)
    (sdist,) = out.glob("minikeras-*.tar.gz")
    with tarfile.open(sdist) as archive:
        members = {m.name.split("/", 1)[1] for m in archive.getmembers() if "/" in m.name}
    assert {"startup_hook/" + HOOK, "pyproject.toml", "minikeras/__init__.py"} <= members
    wheel = _build_wheel(sdist, tmp_path / "dist")
    with zipfile.ZipFile(wheel) as archive:
        assert {HOOK, HOOK_MODULE} <= set(archive.namelist())
