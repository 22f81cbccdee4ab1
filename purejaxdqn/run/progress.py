"""Progress of a training run: one refreshed line on a terminal, plain periodic
lines otherwise (a log file, a pipe, a terminal with no size).

Warm-up (random play, no updates) runs tens of times faster than learning, so
the speed and the ETA come from the *current phase* only, over the last
`window_s` seconds: an ETA during warm-up covers the warm-up alone (learning's
speed is not known yet), one during learning the remaining steps at learning's
speed. The first step of a phase pays for compiling its functions (seconds for
one step), so it is left out of the rate, and no rate (nor ETA) is shown before
the phase has run `min_span_s` seconds after it: an early ETA of hours, from a
compile, is worse than none.
"""

from __future__ import annotations

import sys
import time
from collections import deque
from typing import Callable, TextIO


def eta_seconds(phase: str, steps: int, total: int, learning_starts: int,
                steps_per_s: float | None) -> float | None:
    """Seconds until the end of the current phase's known part: the end of warm-up
    while warming up, the end of the run while learning; None without a speed."""
    if not steps_per_s:
        return None
    end = learning_starts if phase == "warm-up" else total
    return max(end - steps, 0) / steps_per_s


def format_duration(seconds: float | None) -> str:
    """h:mm:ss, or m:ss under an hour; "?" for None."""
    if seconds is None:
        return "?"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    return f"{hours}:{rest // 60:02d}:{rest % 60:02d}" if hours else \
        f"{rest // 60}:{rest % 60:02d}"


class Progress:
    """`update(steps)` every env iteration (cheap); `write(message)` for other output."""

    def __init__(self, total: int, steps: int, learning_starts: int,
                 stream: TextIO | None = None, tty: bool | None = None,
                 refresh_s: float = 0.5, plain_every_s: float = 60.0, window_s: float = 20.0,
                 min_span_s: float = 5.0, clock: Callable[[], float] = time.monotonic,
                 first_plain_s: float = 10.0):
        self.total, self.learning_starts = total, learning_starts
        self.stream = stream or sys.stdout
        self.tty = self.stream.isatty() if tty is None else tty
        # plain output: a first line after `first_plain_s` (a pipe or a log file sees the
        # run move within seconds), then one every `plain_every_s`
        self.every = refresh_s if self.tty else min(first_plain_s, plain_every_s)
        self._plain_every = plain_every_s
        self.window_s, self.min_span_s, self.clock = window_s, min_span_s, clock
        self.postfix = ""
        self.steps = steps
        self._phase = self._phase_of(steps)
        self._samples = deque([(clock(), steps)])  # (time, steps) in the current phase
        self._settled = False  # False until the phase's first (compiling) step is past
        self._shown_at = clock()
        self._width = 0
        # at once, on any output: the first env steps compile the agent's programs
        self.write(f"{self._phase} {steps:,}/{total:,} steps | starting: the first steps "
                   f"compile the agent's programs (seconds to a minute)")

    def _phase_of(self, steps: int) -> str:
        return "warm-up" if steps < self.learning_starts else "learning"

    def steps_per_s(self) -> float | None:
        """Steps/s of the current phase over the window; None until measured."""
        (t0, s0), (t1, s1) = self._samples[0], self._samples[-1]
        if not self._settled or t1 - t0 < self.min_span_s or s1 <= s0:
            return None
        return (s1 - s0) / (t1 - t0)

    def update(self, steps: int) -> None:
        now = self.clock()
        self.steps = steps
        phase = self._phase_of(steps)
        if phase != self._phase:  # speeds of different phases never mix
            self._phase, self._settled = phase, False
            self._samples.clear()
        elif not self._settled:  # the step that compiled is over: measure from here
            self._settled = True
            self._samples.clear()
        self._samples.append((now, steps))
        while len(self._samples) > 2 and now - self._samples[1][0] >= self.window_s:
            self._samples.popleft()
        if now - self._shown_at >= self.every:
            self._show(now)

    def line(self) -> str:
        rate = self.steps_per_s()
        eta = eta_seconds(self._phase, self.steps, self.total, self.learning_starts, rate)
        what = "warm-up ends in" if self._phase == "warm-up" else "ETA"
        timing = ("measuring speed" if rate is None else
                  f"{rate:,.0f} steps/s | {what} {format_duration(eta)}")
        text = (f"{self._phase} {self.steps:,}/{self.total:,} steps "
                f"({100 * self.steps / self.total:.1f}%) | {timing}")
        return text + (f" | {self.postfix}" if self.postfix else "")

    def _show(self, now: float) -> None:
        self._shown_at = now
        text = self.line()
        if self.tty:
            self.stream.write("\r" + text.ljust(self._width))
            self._width = len(text)
        else:
            self.stream.write(text + "\n")
            self.every = self._plain_every
        self.stream.flush()

    def set_postfix(self, **fields: str) -> None:
        self.postfix = " ".join(f"{k} {v}" for k, v in fields.items())

    def write(self, message: str) -> None:
        if self.tty and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(message + "\n")
        self.stream.flush()

    def close(self) -> None:
        self._show(self.clock())
        if self.tty:
            self.stream.write("\n")
            self.stream.flush()
