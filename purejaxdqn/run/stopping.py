"""SIGINT/SIGTERM at any moment of a run: what a stop means in each phase.

A run has two kinds of moments. While nothing is at stake (start-up: building the
envs, compiling, reading a checkpoint), a signal stops it at once: `StopFlag` in its
`urgent` mode raises `RunStopped`, and the caller says so in one line (the checkpoint
on disk, if any, is untouched). Once training has begun, a signal only sets
`StopFlag.raised`: the loop finishes the env iteration (or abandons an evaluation)
and saves the trained state before it returns. A second signal
during that save changes nothing: the save finishes (a half-written checkpoint would
be the one thing worse than a late stop).
"""

from __future__ import annotations

import signal


class RunStopped(BaseException):
    """A signal arrived while nothing was at stake (`StopFlag.urgent`). A BaseException,
    as KeyboardInterrupt is, so that no library's `except Exception` swallows it."""

    def __init__(self, signal_name: str):
        super().__init__(f"stopped by {signal_name}")
        self.signal_name = signal_name


class StopFlag:
    """SIGINT/SIGTERM set `raised`; with `urgent` set they raise `RunStopped` instead.
    The previous handlers come back on exit (flags nest: the inner one wins)."""

    def __init__(self, urgent: bool = False):
        self.raised: str | None = None
        self.urgent = urgent
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = signal.Signals(signum).name
        if self.urgent:
            raise RunStopped(self.raised)

    def is_set(self) -> bool:
        return self.raised is not None

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)

