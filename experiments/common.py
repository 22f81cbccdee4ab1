"""What the experiment scripts share: their errors, the ablation's output file names,
JSON files written atomically, and comma lists."""

from __future__ import annotations

import json
import os
from typing import Any, Sequence

CSV_NAME, TABLE_NAME, PLOT_NAME, MANIFEST_NAME = (
    "results.csv", "results.md", "learning_curves.png", "ablation.json")


class AblationError(ValueError):
    """Bad input or an unusable output dir, in any experiment script (the ablation runner
    was the first); the message is one line for the user."""


class Interrupted(RuntimeError):
    """A run was stopped by SIGINT/SIGTERM (checkpoint written); re-run to resume.
    `exit_code`: 130 for SIGINT, 143 for SIGTERM, as `purejaxdqn train` exits;
    `summary`: train()'s summary of the stopped session, where there is one."""

    def __init__(self, message: str, signal_name: str | None = None,
                 summary: dict | None = None):
        super().__init__(message)
        self.summary = summary
        from purejaxdqn.tools.cli import EXIT_CODES

        self.exit_code = EXIT_CODES.get(signal_name, 130)


def check_out(path: str, file: bool = False) -> None:
    """AblationError unless `path` (a folder; with `file`, a file's folder) can be
    written: checked before any work, so a run never ends in a traceback on its output."""
    from purejaxdqn.config import ConfigError
    from purejaxdqn.run.preflight import check_writable

    folder = os.path.dirname(os.path.abspath(path)) if file else path
    if file and not os.path.isdir(folder):
        raise AblationError(f"cannot write {path}: folder {folder} does not exist")
    try:
        check_writable(folder)
    except ConfigError as error:
        raise AblationError(f"--out: {error}") from None


def split_list(text: str | Sequence[str] | None) -> list[str]:
    """'a,b' or ['a', 'b,c'] -> ['a', 'b', 'c']."""
    if text is None:
        return []
    parts = [text] if isinstance(text, str) else list(text)
    return [item.strip() for part in parts for item in str(part).split(",") if item.strip()]


def read_json(path: str) -> Any:
    """The JSON value in `path`, or None if it is missing or unreadable."""
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


def write_json(path: str, value: Any) -> None:
    """Write through a temporary file, so a reader never sees half a file."""
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)
