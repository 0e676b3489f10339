"""`minikeras compare`: run one unchanged Keras script on Keras and on minikeras, side by side.

    minikeras compare SCRIPT [ARGS...] [--out DIR] [--same-start]

The script runs twice, each time in a fresh Python process (minikeras/compare_child.py): first
with the real Keras, then on minikeras through the same import aliasing as `minikeras run`. In
each process, `Model.fit` is wrapped to record every fit call: its History, its wall time and
checksums of its x and y. Then this module writes, to DIR (default ./compare-YYYYmmdd-HHMMSS):

- fit<N>.png: one panel per metric, both engines' curves overlaid (training solid, validation
  dashed), for each fit call N;
- summary.json: both engines' Histories, final values, fit times and curve differences;

and prints a table per fit: final metrics on both engines, fit times and the speed ratio.

--same-start makes the curves comparable epoch by epoch: every fit runs with shuffle=False, and
minikeras starts each fit from the very weights Keras started from (saved by the Keras process
as .npz and loaded with set_weights). The two engines then differ only by floating-point
rounding, and the table reports the largest relative difference between the curves.

The data must be the same on both sides for any of this to mean something: both processes run
the same script, so a script that seeds its random generator (or loads a file) feeds both the
same data. The x and y checksums of each fit are compared, and a difference is reported.
"""

import datetime
import json
import os
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

KERAS_INSTALL_HINT = 'pip install "minikeras[keras]"'
_ENGINES = ("keras", "minikeras")
_LABELS = {"keras": "Keras", "minikeras": "minikeras"}


# --------------------------------------------------------------------------- command line


def add_compare_command(subparsers):
    """Registers `minikeras compare` on the CLI's subparsers (see minikeras/cli.py)."""
    import argparse

    parser = subparsers.add_parser(
        "compare",
        help="run a Keras script on Keras and on minikeras and compare the training curves",
        usage="%(prog)s [-h] [--out DIR] [--same-start] SCRIPT [ARGS...]",
        description=(
            "Run SCRIPT twice, with Keras and with minikeras (each in its own process), record "
            "every fit call's History and time, and write one PNG per fit with both engines' "
            "curves, plus summary.json, to DIR. --out and --same-start may come before SCRIPT "
            "or after the script's arguments; arguments after a `--` all go to the script."
        ),
    )
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="output folder (default: ./compare-YYYYmmdd-HHMMSS)")
    parser.add_argument("--same-start", action="store_true",
                        help="start minikeras's fits from Keras's initial weights and force "
                             "shuffle=False in both, so the curves can be compared epoch by epoch")
    parser.add_argument("command", metavar="SCRIPT [ARGS...]", nargs=argparse.REMAINDER,
                        help="the script and its arguments")
    parser.set_defaults(handler=_compare_command)
    return parser


def split_command(command, out=None, same_start=False):
    """[SCRIPT, ARGS...] -> (script, script_args, out, same_start).

    `--out DIR`, `--out=DIR` and `--same-start` among ARGS belong to compare, unless they come
    after a `--`, after which every argument is the script's.
    """
    if command and command[0] == "--":
        command = command[1:]
    if not command:
        raise ValueError("minikeras compare needs a SCRIPT to run. Received no script")
    script, rest = command[0], list(command[1:])
    script_args = []
    i = 0
    while i < len(rest):
        arg = rest[i]
        if arg == "--":
            script_args.extend(rest[i + 1:])
            break
        if arg == "--same-start":
            same_start = True
        elif arg == "--out":
            if i + 1 >= len(rest):
                raise ValueError("`--out` needs a folder name. Received: --out at the end")
            out = rest[i + 1]
            i += 1
        elif arg.startswith("--out="):
            out = arg[len("--out="):]
        else:
            script_args.append(arg)
        i += 1
    return script, script_args, out, same_start


def _compare_command(args):
    try:
        script, script_args, out, same_start = split_command(args.command, args.out,
                                                             args.same_start)
    except ValueError as exc:
        sys.stderr.write(f"minikeras compare: {exc}\n")
        return 2
    return compare_script(script, script_args, out=out, same_start=same_start)


# ------------------------------------------------------------------------------ the runs


def compare_script(script, script_args=(), out=None, same_start=False, python=None):
    """Runs `script` on both engines and writes the comparison. Returns an exit code:
    0 when both runs succeeded, 1 when one failed (what was recorded is still written), 2 when
    the script does not exist."""
    if not os.path.exists(script):
        sys.stderr.write(
            f"minikeras compare: can't open file {os.path.abspath(script)!r}: "
            "[Errno 2] No such file or directory\n"
        )
        return 2
    out = Path(out) if out else Path(datetime.datetime.now().strftime("compare-%Y%m%d-%H%M%S"))
    python = python or sys.executable
    with tempfile.TemporaryDirectory(prefix="minikeras-compare-") as scratch:
        records, codes = {}, {}
        for engine in _ENGINES:
            print(f"=== {script} on {_LABELS[engine]} ===", flush=True)
            record_path = os.path.join(scratch, f"{engine}.json")
            codes[engine] = _run_child(python, engine, record_path, scratch, same_start,
                                       script, script_args)
            records[engine] = _read_record(record_path)
            if engine == "keras" and records[engine].get("error") == "keras_missing":
                sys.stderr.write(
                    "minikeras compare needs the real Keras (with TensorFlow) to compare "
                    f"against, and it could not be imported ({records[engine]['message']}).\n"
                    f"Install it with: {KERAS_INSTALL_HINT}\n"
                )
                return 1
    summary = build_summary(script, script_args, same_start, records, codes)
    out.mkdir(parents=True, exist_ok=True)
    _write_plots(summary, out)
    with open(out / "summary.json", "w") as f:
        json.dump(summary, f, indent=1)
    print(format_table(summary, out))
    failed = [engine for engine in _ENGINES if codes[engine] != 0]
    for engine in failed:
        print(f"The script failed on {_LABELS[engine]} (exit code {codes[engine]}); see its "
              "output above. Only the fits recorded before the failure are compared.")
    return 1 if failed else 0


def _child_env(engine):
    env = dict(os.environ)
    # The child must import this very copy of minikeras.
    package_parent = str(Path(__file__).resolve().parents[1])
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_parent, env.get("PYTHONPATH"))
                                        if p)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    # Figures the script shows would pop up twice; draw them off-screen.
    env["MPLBACKEND"] = "Agg"
    if engine == "keras" and env.get("KERAS_BACKEND", "").strip().lower() == "minikeras":
        # Otherwise the start-up hook would alias keras to minikeras in the Keras run too.
        del env["KERAS_BACKEND"]
    return env


def _run_child(python, engine, record_path, weights_dir, same_start, script, script_args):
    cmd = [python, "-m", "minikeras.compare_child", engine, record_path, weights_dir,
           "1" if same_start else "0", script, *script_args]
    return subprocess.run(cmd, env=_child_env(engine)).returncode


def _read_record(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {"fits": []}


# ------------------------------------------------------------------------------- summary


def build_summary(script, script_args, same_start, records, codes):
    """Pairs the i-th fit of each engine and computes the comparisons (a JSON-able dict)."""
    keras_fits = records["keras"].get("fits", [])
    ours_fits = records["minikeras"].get("fits", [])
    fits = []
    for number, (theirs, ours) in enumerate(zip(keras_fits, ours_fits), start=1):
        history = {"keras": theirs["history"], "minikeras": ours["history"]}
        keys = list(theirs["history"]) + [k for k in ours["history"]
                                          if k not in theirs["history"]]
        final = {key: {engine: (history[engine][key][-1] if history[engine].get(key)
                                else None) for engine in _ENGINES} for key in keys}
        differences = {key: curve_difference(theirs["history"][key], ours["history"][key])
                       for key in keys if key in theirs["history"] and key in ours["history"]}
        known = [d for d in differences.values() if d is not None]
        fits.append({
            "index": number,
            "model": {"keras": theirs["model"], "minikeras": ours["model"]},
            "epochs": theirs["epochs"],
            "batch_size": theirs["batch_size"],
            "shuffle": {"keras": theirs["shuffle"], "minikeras": ours["shuffle"]},
            "start": ours.get("start"),
            "data": {"keras": {"x": theirs["x"], "y": theirs["y"]},
                     "minikeras": {"x": ours["x"], "y": ours["y"]}},
            "same_data": theirs["x"] == ours["x"] and theirs["y"] == ours["y"],
            "history": history,
            "final": final,
            "missing_keys": {"keras": [k for k in keys if k not in theirs["history"]],
                             "minikeras": [k for k in keys if k not in ours["history"]]},
            "max_relative_difference": {key: d for key, d in differences.items()},
            "largest_relative_difference": max(known) if known else None,
            "time_s": {"keras": theirs["time_s"], "minikeras": ours["time_s"]},
            "speed_ratio": theirs["time_s"] / ours["time_s"] if ours["time_s"] > 0 else None,
            "plot": None,
        })
    return {
        "script": script,
        "script_args": list(script_args),
        "same_start": same_start,
        "engines": {engine: {key: records[engine].get(key)
                             for key in ("version", "backend", "exit_code")}
                    for engine in _ENGINES},
        "exit_codes": codes,
        "fit_counts": {"keras": len(keras_fits), "minikeras": len(ours_fits)},
        "same_data": all(fit["same_data"] for fit in fits),
        "fits": fits,
    }


def curve_difference(reference, ours):
    """Largest |ours - reference| / max(|ours|, |reference|) over the epochs (0 where both are
    0); None when the curves have different lengths (e.g. early stopping on one side only)."""
    if len(reference) != len(ours):
        return None
    largest = 0.0
    for a, b in zip(reference, ours):
        scale = max(abs(a), abs(b))
        if scale > 0:
            largest = max(largest, abs(a - b) / scale)
        elif a != b:      # NaN on one side
            return float("inf")
    return largest


# --------------------------------------------------------------------------------- output


def _write_plots(summary, out):
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        print("matplotlib is not installed: no plots written (pip install minikeras[plot]).")
        return
    from minikeras.utils.plotting import draw_histories

    # Keras wide and pale underneath, minikeras thin on top: where they agree, both show.
    styles = {"Keras": {"color": "C0", "linewidth": 4, "alpha": 0.45},
              "minikeras": {"color": "C3", "linewidth": 1.5}}
    for fit in summary["fits"]:
        runs = {_LABELS[engine]: fit["history"][engine] for engine in _ENGINES}
        metrics = [key for key in fit["final"] if not key.startswith("val_")]
        metrics += [key[4:] for key in fit["final"]
                    if key.startswith("val_") and key[4:] not in metrics]
        if not metrics:
            continue
        fig = Figure(figsize=(5 * len(metrics), 4))
        FigureCanvasAgg(fig)
        start = " (same start)" if summary["same_start"] else ""
        title = f"{Path(summary['script']).name}: fit {fit['index']}{start}"
        draw_histories(fig, runs, metrics, title=title, styles=styles)
        name = f"fit{fit['index']}.png"
        fig.savefig(out / name, dpi=100)
        fit["plot"] = name


def format_table(summary, out=None):
    """The text printed at the end of a comparison."""
    lines = [""]
    engines = summary["engines"]
    lines.append(
        f"Keras {engines['keras'].get('version')} ({engines['keras'].get('backend')} backend) "
        f"vs minikeras {engines['minikeras'].get('version')}"
        + ("; same start: Keras's initial weights, shuffle=False" if summary["same_start"]
           else "; each engine with its own initial weights and shuffling")
    )
    counts = summary["fit_counts"]
    if counts["keras"] != counts["minikeras"]:
        lines.append(f"Note: fit was called {counts['keras']} time(s) on Keras and "
                     f"{counts['minikeras']} time(s) on minikeras; the first "
                     f"{len(summary['fits'])} are compared.")
    for fit in summary["fits"]:
        lines.append("")
        described = fit["data"]["keras"]["x"] or {}
        shape = described.get("shape")
        if "arrays" in described:       # several inputs: the shape of each
            arrays = described["arrays"]
            items = arrays.values() if isinstance(arrays, dict) else arrays
            shape = [(item or {}).get("shape") for item in items]
        lines.append(f"Fit {fit['index']}: model {fit['model']['keras']!r}, x shape {shape}, "
                     f"epochs={fit['epochs']}, batch_size={fit['batch_size']}")
        lines.append(f"  {'final value':<22}{'Keras':>14}{'minikeras':>14}{'rel. diff':>12}")
        for key, values in fit["final"].items():
            k, m = values["keras"], values["minikeras"]
            diff = "-" if k is None or m is None else f"{curve_difference([k], [m]):.2e}"
            lines.append(f"  {key:<22}{_number(k):>14}{_number(m):>14}{diff:>12}")
        times = fit["time_s"]
        ratio = fit["speed_ratio"]
        if ratio is None:
            speed = ""
        elif ratio >= 1:
            speed = f"minikeras {ratio:.1f}x faster"
        else:
            speed = f"minikeras {1 / ratio:.1f}x slower"
        lines.append(f"  {'fit time (s)':<22}{times['keras']:>14.3f}{times['minikeras']:>14.3f}"
                     f"  {speed}")
        if summary["same_start"]:
            largest = fit["largest_relative_difference"]
            worst = max(fit["max_relative_difference"].items(), key=lambda kv: kv[1]
                        if kv[1] is not None else -1.0, default=(None, None))
            text = "n/a" if largest is None else f"{largest:.2e} ({worst[0]})"
            lines.append(f"  largest relative difference between the curves: {text}")
            if fit["start"] != "loaded":
                lines.append("  Note: minikeras did not start from Keras's weights: "
                             f"{fit['start']}")
        for engine in _ENGINES:
            if fit["missing_keys"][engine]:
                lines.append(f"  Note: {_LABELS[engine]}'s History lacks "
                             f"{fit['missing_keys'][engine]}")
        if not fit["same_data"]:
            lines.append(_note(
                "Note: the two runs fed different data to this fit (the x/y checksums differ): "
                "the script's data is random and not seeded, so the curves differ for that "
                "reason too. Seed the script's random generator (e.g. "
                "keras.utils.set_random_seed or np.random.default_rng(seed))."))
        if fit["plot"] and out is not None:
            lines.append(f"  plot: {Path(out) / fit['plot']}")
    if not summary["fits"]:
        lines.append("No fit call was recorded on both engines: nothing to compare.")
    else:
        lines.append("")
        lines.append("(Keras's fit times include tracing its TensorFlow graph on the first "
                     "call, which dominates short fits.)")
    if out is not None:
        lines.append("")
        lines.append(f"Summary written to {Path(out) / 'summary.json'}")
    return "\n".join(lines)


def _note(text):
    return textwrap.fill(text, width=96, initial_indent="  ", subsequent_indent="    ")


def _number(value):
    return "-" if value is None else f"{value:.6g}"
