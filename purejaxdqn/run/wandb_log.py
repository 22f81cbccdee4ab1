"""Weights & Biases mirror of a run's TensorBoard scalars (the optional `wandb` extra).

RunLog hands every scalar it gives TensorBoard to `WandbRun.log` as well, under the
same name and against the same x-axis, agent steps of one seed, which W&B gets as the
metric `agent_step` (every other metric is plotted against it). One W&B run holds all
the seeds of a multi-seed run, each seed's scalars under its own prefix as in
TensorBoard: `seed0/train/loss`, `seed1/train/episode_score`, `seed0/eval/score_mean`.
W&B's own `_step` only numbers the rows: episodes of different seeds do not arrive in
step order, and a resume after a crash repeats steps, and W&B drops any row whose
`_step` goes backwards.

One W&B run per run directory: its id is kept in RUN_DIR/wandb.json, and a resume
continues that run (`resume="allow"`; a run directory without one, trained before
W&B was turned on, starts a W&B run at the resume step). The config is the W&B config.

Without an API key (WANDB_API_KEY, or the ~/.netrc entry `wandb login` writes for the
W&B host) the run is offline: everything stays in RUN_DIR/wandb/, no network is used,
and `wandb sync RUN_DIR/wandb/offline-run-*` uploads it later (a resumed run is one
offline folder per segment, synced in order into one W&B run). WANDB_MODE, when set,
decides instead.

W&B history is append-only: after a crash the rows logged past the last checkpoint
stay in it (the files and TensorBoard are cut back, see runlog.truncate_logs), and
the resumed run logs those steps again.

The checks before any work: the project name follows W&B's own rule as the
`wandb_project` setting's declared check (config.py, so Config.validate runs it), and
the CLI calls `require_wandb` once a project is named.
"""

from __future__ import annotations

import contextlib
import json
import netrc
import os
import secrets
import shlex
import string
from typing import Any, Callable
from urllib.parse import urlparse

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.run.runlog import WANDB_DIR, WANDB_STATE, write_atomic

STEP = "agent_step"
DEFAULT_HOST = "https://api.wandb.ai"  # W&B's cloud; WANDB_BASE_URL names another server
MISSING = "--wandb-project needs the wandb extra: pip install -e '.[wandb]'"


def require_wandb():
    """The wandb module, or ConfigError with one line for the user."""
    try:
        import wandb
    except ImportError as error:
        if error.name == "wandb":
            raise ConfigError(MISSING) from None
        # installed, but one of its own dependencies is missing or broken
        raise ConfigError(f"--wandb-project: wandb does not import ({error})") from None
    return wandb


def has_api_key() -> bool:
    """Whether W&B could log in: WANDB_API_KEY, or a netrc entry for the W&B host."""
    if os.environ.get("WANDB_API_KEY"):
        return True
    host = urlparse(os.environ.get("WANDB_BASE_URL") or DEFAULT_HOST).hostname
    path = os.environ.get("NETRC") or os.path.join(os.path.expanduser("~"), ".netrc")
    try:
        return netrc.netrc(path).authenticators(host) is not None
    except (OSError, netrc.NetrcParseError):
        return False


def choose_mode() -> tuple[str | None, str]:
    """(mode for wandb.init, the reason to print): WANDB_MODE when set (None: wandb reads
    it itself), else online with an API key and offline without one."""
    if os.environ.get("WANDB_MODE"):
        return None, f"WANDB_MODE={os.environ['WANDB_MODE']}"
    if has_api_key():
        return "online", "API key found"
    return "offline", "no W&B API key"


def _run_id(run_dir: str, project: str, resume: bool) -> str:
    """The W&B run id of this run directory: the stored one on resume, else a new one."""
    path = os.path.join(run_dir, WANDB_STATE)
    if resume and os.path.exists(path):
        with open(path) as f:
            run_id = json.load(f)["id"]
    else:  # W&B's own id alphabet and length
        run_id = "".join(secrets.choice(string.ascii_lowercase + string.digits)
                         for _ in range(8))
    write_atomic(path, json.dumps({"id": run_id, "project": project}) + "\n")
    return run_id


@contextlib.contextmanager
def _cache_in(folder: str):
    """The first wandb.init of a process starts W&B's service process, which writes its
    debug logs to the user's cache folder (~/.cache/wandb) unless WANDB_CACHE_DIR says
    otherwise: point it into the run directory while the service starts, so the run
    writes nothing outside it. (The service serves the process's later runs too, and
    keeps logging there.) A WANDB_CACHE_DIR the user set is kept."""
    if os.environ.get("WANDB_CACHE_DIR"):
        yield
        return
    os.environ["WANDB_CACHE_DIR"] = folder
    try:
        yield
    finally:
        os.environ.pop("WANDB_CACHE_DIR", None)


class WandbRun:
    """The W&B run of one run directory; `resume` continues the one stored there."""

    def __init__(self, run_dir: str, config: Config, resume: bool,
                 announce: Callable[[str], None] = print):
        wandb = require_wandb()
        mode, why = choose_mode()
        files = os.path.join(run_dir, WANDB_DIR)
        os.makedirs(files, exist_ok=True)
        with _cache_in(os.path.join(files, "cache")):
            self._run = wandb.init(
                project=config.wandb_project, id=_run_id(run_dir, config.wandb_project, resume),
                resume="allow", dir=run_dir, mode=mode,
                name=os.path.basename(os.path.abspath(run_dir)),
                # a resume may change the fields preflight.RESUME_MAY_CHANGE allows
                config=config.to_dict(), allow_val_change=True,
                # our one line below replaces W&B's banner; the terminal is not copied
                # into W&B (the progress line would fill it, and the run directory keeps
                # every log)
                settings=wandb.Settings(silent=True, console="off"))
        self._run.define_metric(STEP)
        self._run.define_metric("*", step_metric=STEP)
        announce(self._where(run_dir, why))

    def _where(self, run_dir: str, why: str) -> str:
        mode = self._run.settings.mode
        if mode == "offline":
            pattern = shlex.quote(os.path.join(run_dir, WANDB_DIR)) + "/offline-run-*"
            return (f"W&B run {self._run.id} is offline ({why}), saved in "
                    f"{self._run.settings.sync_dir}; upload it with: wandb sync {pattern}")
        if mode == "disabled":
            return f"W&B is disabled ({why}): nothing is logged to it"
        return f"W&B run {self._run.id}: {self._run.url}"

    def log(self, step: int, scalars: dict[str, Any]) -> None:
        self._run.log({STEP: step, **scalars})

    def close(self) -> None:
        self._run.finish()
