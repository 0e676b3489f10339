"""`Progbar`: the text progress bar Keras prints during fit, evaluate and predict.

verbose=1, one line rewritten in place:

    8/8 ━━━━━━━━━━━━━━━━━━━━ 0s 25ms/step - accuracy: 0.7375 - loss: 0.5401

verbose=2, a single line once the target is reached:

    8/8 - 0s - 25ms/step - accuracy: 0.7375 - loss: 0.5401

The bytes are Keras's, wherever they go (a terminal, a pipe, a file), so that a script's output
can be compared with Keras's byte for byte:
- the count is bold, the done part of the bar green and the rest grey, both drawn with "━"
  (ANSI codes are written to files and pipes too, as Keras writes them);
- each redraw first backspaces over the previous state, then returns to the line start ("\b"
  times its width, then "\r"), and is padded with spaces over a longer previous state. Keras
  does this whenever its "dynamic display" is on, which includes every POSIX system
  ("posix" in sys.modules); elsewhere, without a terminal, each state starts a new line;
- a stream that cannot encode "━" gets "=" instead (Keras's fallback).
"""

import math
import os
import sys
import time

import numpy as np

BOLD = "\x1b[1m"
GREEN = "\x1b[32m"
GREY = "\x1b[37m"
RESET = "\x1b[0m"


def format_duration(seconds):
    """The ETA as Keras writes it, truncated to whole seconds: "7s", "2:05" or "1:02:05"."""
    whole = int(seconds)
    if seconds > 3600:
        return f"{whole // 3600}:{(whole % 3600) // 60:02d}:{whole % 60:02d}"
    if seconds > 60:
        return f"{whole // 60}:{whole % 60:02d}"
    return f"{whole}s"


def format_time_per_unit(seconds, unit_name="step"):
    """" 1s/step", " 25ms/step" or " 40us/step" (with the leading space, as Keras)."""
    if seconds >= 1 or seconds == 0:
        return f" {seconds:.0f}s/{unit_name}"
    if seconds >= 1e-3:
        return f" {seconds * 1e3:.0f}ms/{unit_name}"
    return f" {seconds * 1e6:.0f}us/{unit_name}"


def _dynamic_display(stream):
    """Keras's test for redrawing in place (backspaces and a carriage return) rather than
    starting a new line per state. True on every POSIX system, terminal or not."""
    isatty = getattr(stream, "isatty", None)
    try:
        terminal = isatty is not None and isatty()
    except ValueError:          # a closed stream
        terminal = False
    return (terminal or "ipykernel" in sys.modules or "posix" in sys.modules
            or "PYCHARM_HOSTED" in os.environ)


class Progbar:
    """A progress bar for `target` steps.

    Args:
        target: total number of steps, or None if unknown.
        width: characters in the bar.
        verbose: 1 (bar), 2 (one line at the end) or 0 (silent).
        interval: minimum seconds between two redraws (the final one is always drawn).
        stateful_metrics: names whose values are shown as given; the others are averaged
            over the steps (Keras's default).
        stateless_metrics: the opposite list: only these are averaged. Give one or the other.
        unit_name: "step" in "25ms/step".
        stream: where to write (default sys.stdout at each write).
    """

    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None,
                 stateless_metrics=None, unit_name="step", stream=None):
        if stateful_metrics is not None and stateless_metrics is not None:
            raise ValueError(
                "Only one of `stateful_metrics` or `stateless_metrics` can be given. "
                f"Received: stateful_metrics={stateful_metrics!r}, "
                f"stateless_metrics={stateless_metrics!r}"
            )
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.unit_name = unit_name
        self.stream = stream
        self.stateful_metrics = None if stateful_metrics is None else set(stateful_metrics)
        self.stateless_metrics = None if stateless_metrics is None else set(stateless_metrics)
        if self.stateful_metrics is None and self.stateless_metrics is None:
            self.stateful_metrics = set()
        self._values = {}            # name -> [weighted sum, count]: shown as sum / count
        self._values_order = []      # names in the order first seen
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0
        self._time_after_first_step = None
        self._prev_width = 0         # characters shown by the previous redraw
        self._dynamic = _dynamic_display(self._out())

    def _is_stateless(self, name):
        if self.stateful_metrics is not None:
            return name not in self.stateful_metrics
        return name in self.stateless_metrics

    def update(self, current, values=None, finalize=None):
        """Records progress up to step `current` and redraws.

        values: list of (name, value). finalize: draw the final state (default: when
        current >= target).
        """
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        for name, value in values or []:
            if name not in self._values_order:
                self._values_order.append(name)
            if self._is_stateless(name) and not finalize:
                steps = max(current - self._seen_so_far, 1)
                total, count = self._values.get(name, [0.0, 0])
                self._values[name] = [total + value * steps, count + steps]
            else:
                self._values[name] = [value, 1]
        self._seen_so_far = current

        now = time.time()
        time_per_unit = self._time_per_unit(current, now)
        if self.verbose == 1:
            if now - self._last_update < self.interval and not finalize:
                return
            self._draw_bar(current, now, time_per_unit, finalize)
        elif self.verbose == 2 and finalize and self.target:
            self._draw_line(current, now, time_per_unit)
        self._last_update = now

    def add(self, n, values=None):
        self.update(self._seen_so_far + n, values)

    # ----------------------------------------------------------------- drawing

    def _out(self):
        return self.stream or sys.stdout

    def _write(self, text):
        out = self._out()
        try:
            out.write(text)
        except UnicodeEncodeError:
            # A stream in an encoding without "━" (Keras falls back to Keras 2's "=").
            encoding = getattr(out, "encoding", None) or "utf-8"
            out.write(text.replace("━", "=").encode(encoding, errors="ignore")
                      .decode(encoding))
        out.flush()

    def _draw_bar(self, current, now, time_per_unit, finalize):
        # `shown` counts the characters that appear, colour codes left out, to pad the next
        # redraw over this one.
        if self.target:
            digits = int(math.log10(self.target)) + 1
            count = f"{current:{digits}d}/{self.target}"
            done = int(self.width * current / self.target)
            bar = f"{BOLD}{count}{RESET} "
            if done > 0:
                bar += f"{GREEN}{'━' * done}{RESET}"
            bar += f"{GREY}{'━' * (self.width - done)}{RESET}"    # written even when empty
            shown = len(count) + 1 + self.width
        else:
            bar = f"{current:7d}/Unknown"
            shown = len(bar)
        if self.target and not finalize:
            timing = format_duration(time_per_unit * (self.target - current))    # ETA
        else:
            timing = f"{now - self._start:.0f}s"                                  # elapsed
        info = (f" {BOLD}{timing}{RESET}" + format_time_per_unit(time_per_unit, self.unit_name)
                + self._format_metrics(always_abs=True))
        shown += len(info) - len(BOLD) - len(RESET)
        if self._dynamic:
            start = "\b" * self._prev_width + "\r"
        else:
            start = "\n"
        padding = " " * max(self._prev_width - shown, 0)
        self._write(start + bar + info + padding + ("\n" if finalize else ""))
        self._prev_width = shown

    def _draw_line(self, current, now, time_per_unit):
        digits = int(math.log10(self.target)) + 1
        line = (f"{current:{digits}d}/{self.target} - {now - self._start:.0f}s -"
                + format_time_per_unit(time_per_unit, self.unit_name)
                + self._format_metrics(always_abs=False))
        self._write(line + "\n")

    def _format_metrics(self, always_abs):
        """" - name: value" for each metric. Keras's bar switches to scientific notation when
        |value| <= 1e-3; its one-line form (verbose=2) tests the signed value, so negative
        values print in scientific notation there. Both are kept, to print what Keras
        prints."""
        text = ""
        for name in self._values_order:
            total, count = self._values[name]
            try:
                value = float(np.mean(total)) / max(1, count)   # an array shows its mean
            except (TypeError, ValueError):
                text += f" - {name}: {total}"
                continue
            small = abs(value) <= 1e-3 if always_abs else not value > 1e-3
            text += f" - {name}: {value:.4e}" if small else f" - {name}: {value:.4f}"
        return text

    def _time_per_unit(self, current, now):
        """Seconds per step, not counting the first step (which includes start-up work)."""
        if not current:
            return 0.0
        if self._time_after_first_step is not None and current > 1:
            per_unit = (now - self._time_after_first_step) / (current - 1)
        else:
            per_unit = (now - self._start) / current
        if current == 1:
            self._time_after_first_step = now
        return per_unit
