"""When the disk refuses a write: one line that says what failed, where, and the space.

A full disk (or a read-only one, or a vanished folder) must not end a run in a
traceback or leave a temporary file filling the disk: whoever writes (the checkpoint,
the logs, summary.json) removes its temporary and raises `WriteFailed` with the line
`describe` words; the CLI prints it and exits with `EXIT_CODE`.
"""

from __future__ import annotations

import os
import shutil

EXIT_CODE = 74  # sysexits' EX_IOERR: an input/output error, not bad input (2)


class WriteFailed(Exception):
    """A write the run needed failed; the message is one line for the user."""


def describe(error: OSError, what: str, path: str, needed: int | None = None) -> str:
    """'could not write WHAT (PATH): REASON; F free there[, about N needed]'."""
    # numpy's writers re-raise a failed write without errno or strerror, its message only
    detail = (str(error).splitlines() or [""])[0]
    reason = error.strerror or (os.strerror(error.errno) if error.errno else detail) or \
        type(error).__name__
    line = f"could not write {what} ({path}): {reason}"
    free = free_bytes(path)
    if free is not None:
        line += f"; {size(free)} free there"
    if needed:
        line += f", about {size(needed)} needed"
    return line


def free_bytes(path: str) -> int | None:
    """Bytes free on the file system holding `path` (or the nearest folder above it)."""
    folder = os.path.abspath(path)
    while not os.path.isdir(folder) and os.path.dirname(folder) != folder:
        folder = os.path.dirname(folder)
    try:
        return shutil.disk_usage(folder).free
    except OSError:
        return None


def remove(path: str) -> None:
    """Delete a temporary file or folder if it is there; never raise."""
    if os.path.isdir(path):
        shutil.rmtree(path, ignore_errors=True)
    else:
        try:
            os.remove(path)
        except OSError:
            pass


def size(nbytes: int) -> str:
    return f"{nbytes / 1e9:.1f} GB" if nbytes >= 1e8 else f"{nbytes / 1e6:.1f} MB"
