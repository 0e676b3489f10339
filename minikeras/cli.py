"""The ``minikeras`` command line (also ``python -m minikeras``).

    minikeras run SCRIPT [ARGS...]    run an unchanged Keras script on minikeras
    minikeras compare SCRIPT [ARGS...] [--out DIR] [--same-start]
                                      run it on Keras and on minikeras, compare the curves
    minikeras --version

Each subcommand lives in one ``_add_<name>_command(subparsers)`` function that adds its parser and
sets ``handler`` (a function ``handler(args) -> exit code``); ``SUBCOMMANDS`` lists them.
"""

import argparse
import os
import runpy
import sys
import zipfile

from minikeras import __version__
from minikeras._aliasing import install
from minikeras.compare import add_compare_command

# --------------------------------------------------------------------------------------------
# minikeras run SCRIPT [ARGS...]
# --------------------------------------------------------------------------------------------


def _add_run_command(subparsers):
    parser = subparsers.add_parser(
        "run",
        help="run a Keras script with minikeras standing in for Keras",
        description=(
            "Run SCRIPT as __main__, as `python SCRIPT ARGS...` would, after making `import "
            "keras`, `from tensorflow import keras` and `tensorflow.keras.*` resolve to "
            "minikeras. sys.argv is [SCRIPT, ARGS...] and the script's directory is sys.path[0]. "
            "The exit code is the script's: 1 after an uncaught exception, the SystemExit code "
            "otherwise."
        ),
    )
    parser.add_argument("script", metavar="SCRIPT", help="path of the Python script to run")
    parser.add_argument(
        "script_args",
        metavar="ARGS",
        nargs=argparse.REMAINDER,
        help="arguments passed on to the script (sys.argv[1:])",
    )
    parser.set_defaults(handler=_run_command)


def _run_command(args):
    return run_script(args.script, args.script_args)


def run_script(script, script_args=()):
    """Run the file `script` as ``__main__`` with minikeras standing in for Keras.

    Returns the exit code: 0 on success, 1 after an uncaught exception (whose traceback is
    printed, through sys.excepthook, as Python would). SystemExit and KeyboardInterrupt raised by
    the script propagate unchanged, so the interpreter handles them as for a plain script.
    A script that cannot be opened gives exit code 2, like ``python missing.py``.
    """
    if not os.path.exists(script):
        sys.stderr.write(
            f"minikeras run: can't open file {os.path.abspath(script)!r}: "
            "[Errno 2] No such file or directory\n"
        )
        return 2
    install()
    # Child Python processes (multiprocessing, subprocess) inherit this and, through the start-up
    # hook installed with minikeras, get minikeras as well.
    os.environ["KERAS_BACKEND"] = "minikeras"
    sys.argv = [script, *script_args]
    if os.path.isdir(script) or zipfile.is_zipfile(script):
        # A directory or zip file with a __main__.py: Python puts the path itself first.
        sys.path[0] = script
    else:
        sys.path[0] = os.path.dirname(os.path.realpath(script))
    try:
        # runpy sets both sys.argv[0] and __file__ to this path; passing it as given keeps
        # sys.argv[0] as Python would have it (Python would make __file__ absolute).
        runpy.run_path(script, run_name="__main__")
    except Exception as exc:
        # The default excepthook prints exc.__traceback__, so trim it on the exception itself.
        exc.with_traceback(_script_traceback(exc.__traceback__))
        sys.excepthook(type(exc), exc, exc.__traceback__)
        return 1
    return 0


def _script_traceback(tb):
    """Drop the launcher's frames (this module, runpy) from the front of `tb`.

    The script's frames are the ones after runpy's, so the printed traceback reads as if Python
    had run the script directly.
    """

    def in_runpy(entry):
        return entry.tb_frame.f_globals.get("__name__") == "runpy"

    start = tb
    while start is not None and not in_runpy(start):
        start = start.tb_next
    while start is not None and in_runpy(start):
        start = start.tb_next
    # An error raised by the launcher itself (no script frame at all) keeps its full traceback.
    return start if start is not None else tb


# --------------------------------------------------------------------------------------------
# Subcommand registry
# --------------------------------------------------------------------------------------------

# One entry per subcommand, in the order `minikeras --help` lists them. To add one (for example
# `compare`), write `_add_compare_command(subparsers)` next to `_add_run_command` (or import it
# from its own module), have it call `parser.set_defaults(handler=...)`, and append it here.
SUBCOMMANDS = [
    _add_run_command,
    add_compare_command,
]


def build_parser():
    """Return the ``minikeras`` argument parser with every subcommand registered."""
    parser = argparse.ArgumentParser(
        prog="minikeras",
        description="minikeras: the Keras 3 API in NumPy.",
        epilog=(
            "With minikeras installed, `KERAS_BACKEND=minikeras python SCRIPT` also runs SCRIPT "
            "on minikeras, and `import minikeras; minikeras.install()` does it from inside Python."
        ),
    )
    parser.add_argument("--version", action="version", version=f"minikeras {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for add_command in SUBCOMMANDS:
        add_command(subparsers)
    return parser


def main(argv=None):
    """Entry point of the ``minikeras`` console script; returns the process exit code."""
    args = build_parser().parse_args(argv)
    return args.handler(args)


if __name__ == "__main__":
    sys.exit(main())
