"""Import time of minikeras against Keras, and the cost of the KERAS_BACKEND start-up hook.

    python benchmarks/bench_import.py [--repeat N] [--keras-repeat N]

Every figure is the best of N whole interpreter runs (`python -c ...`), so it includes Python's
own start-up. Targets: `import minikeras` under 0.3 s; the start-up hook with KERAS_BACKEND unset
costs next to nothing (it reads one environment variable and imports nothing).
"""

import argparse
import os
import shutil
import site
import subprocess
import sys
import sysconfig
import tempfile
import time
import timeit
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
HOOK = "minikeras_hook.pth"
# Where the start-up hook's files are in the source tree -> their names in site-packages.
HOOK_FILES = {
    "startup_hook/minikeras_hook.pth": HOOK,
    "startup_hook/_minikeras_hook.py": "_minikeras_hook.py",
}
TARGET_SECONDS = 0.3


def _env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ("KERAS_BACKEND", "PYTHONPATH")}
    env["PYTHONPATH"] = str(REPO)  # the minikeras of this checkout, installed or not
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    env.update(extra)
    return env


def best_of(cmd, repeat, env):
    """Smallest wall time in seconds of `repeat` runs of `cmd` (which must succeed)."""
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        proc = subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        elapsed = time.perf_counter() - start
        if proc.returncode != 0:
            raise RuntimeError(f"{cmd} failed:\n{proc.stderr.decode(errors='replace')}")
        best = min(best, elapsed)
    return best


def _make_venv(root, with_hook):
    """A bare venv (no pip), with or without a copy of the start-up hook in its site-packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    query = "import sysconfig; print(sysconfig.get_path('purelib'))"
    purelib = subprocess.run([python, "-c", query], check=True, capture_output=True, text=True)
    if with_hook:
        for source, name in HOOK_FILES.items():
            shutil.copy(REPO / source, Path(purelib.stdout.strip()) / name)
    return python


def _hook_processing_seconds():
    """Time for `site` to process the hook file once (what every start-up pays for it)."""
    hook_dir = REPO / "startup_hook"
    installed = Path(sysconfig.get_path("purelib")) / HOOK
    if installed.exists():
        hook_dir = installed.parent
    env_value = os.environ.pop("KERAS_BACKEND", None)
    try:
        number = 2000
        total = timeit.timeit(lambda: site.addpackage(str(hook_dir), HOOK, set()), number=number)
    finally:
        if env_value is not None:
            os.environ["KERAS_BACKEND"] = env_value
    return total / number


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=10, help="runs per minikeras figure")
    parser.add_argument("--keras-repeat", type=int, default=3, help="runs for `import keras`")
    args = parser.parse_args()
    py = sys.executable

    print(f"Python {sys.version.split()[0]} ({py}); best of N whole-process runs")
    print("import time:")
    keras_s = best_of([py, "-c", "import keras"], args.keras_repeat, _env())
    mini_s = best_of([py, "-c", "import minikeras"], args.repeat, _env())
    alias_s = best_of(
        [py, "-c", "from minikeras._aliasing import install; install(); import keras"],
        args.repeat,
        _env(),
    )
    verdict = "OK" if mini_s < TARGET_SECONDS else "OVER TARGET"
    print(f"  import keras (real Keras + TensorFlow)         {keras_s:8.3f} s")
    print(
        f"  import minikeras                               {mini_s:8.3f} s"
        f"   (target < {TARGET_SECONDS} s: {verdict})"
    )
    print(f"  install(); import keras  (keras is minikeras)  {alias_s:8.3f} s")
    print(f"  ratio keras / minikeras                        {keras_s / mini_s:8.1f} x")

    print("start-up hook with KERAS_BACKEND unset (python -c pass):")
    with tempfile.TemporaryDirectory() as tmp:
        with_hook = _make_venv(Path(tmp) / "with_hook", with_hook=True)
        without_hook = _make_venv(Path(tmp) / "without_hook", with_hook=False)
        env = _env()
        del env["PYTHONPATH"]
        repeat = max(args.repeat, 20)
        # Interleave the two so that machine noise hits both alike.
        on = off = float("inf")
        for _ in range(repeat):
            on = min(on, best_of([with_hook, "-c", "pass"], 1, env))
            off = min(off, best_of([without_hook, "-c", "pass"], 1, env))
    print(f"  hook present                                   {on * 1e3:8.2f} ms")
    print(f"  hook absent                                    {off * 1e3:8.2f} ms")
    print(f"  difference                                     {(on - off) * 1e3:8.2f} ms")
    per_start = _hook_processing_seconds()
    print(f"  site processing the hook file, in-process      {per_start * 1e6:8.1f} us")


if __name__ == "__main__":
    main()
