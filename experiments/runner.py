"""The loop under every experiment script (ablate, sweep's workers, atari100k,
seed_agents, minatar): what to do with a planned run's directory, and one training
session of a run.

* `decide(run_dir, config)`: "train" (empty dir), "reuse" (finished), "resume" (stopped,
  checkpoint there), "extend" (a shorter finished run of the same config, when asked) or
  "restart" (unfinished without a checkpoint, when asked). When extending is asked, a
  stopped run may also be given a smaller total_steps, not below the steps it reached:
  it resumes and ends there with its final evaluation, how a run planned open-ended is
  closed. (Prioritized replay anneals beta over total_steps, so a changed total changes
  beta from the resume on.) Anything else, such as a
  directory holding another config, is an AblationError naming the first difference.
  Scripts decide for every run before training any, so a bad directory stops nothing
  half-way.
* `train_session(config, run_dir, action)`: one `train()` call, its wall time appended to
  RUN_DIR/wall.jsonl (the one wall-time log: a row per session, so the total survives
  resumes; `wall_s(run_dir)` sums it); a run stopped by SIGINT/SIGTERM raises
  Interrupted (its checkpoint is saved and the same command resumes it).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import time

from experiments.common import AblationError, Interrupted, read_json
from purejaxdqn.config import Config, fields_by_name
from purejaxdqn.run.preflight import RESUME_MAY_CHANGE
from purejaxdqn.run.runlog import read_jsonl

WALL_LOG = "wall.jsonl"
# What may differ from a run on disk: what a resume may change (when a run saves, where
# it logs) and whether its checkpoints hold the replay; none changes what it learns.
_SAVING = (*RESUME_MAY_CHANGE, "checkpoint_replay")


def decide(run_dir: str, config: Config, *, extend: bool = False, restart: bool = False) -> str:
    if not os.path.isdir(run_dir) or not os.listdir(run_dir):
        return "train"
    hint = "delete it or choose another --out"
    try:
        with open(os.path.join(run_dir, "config.json")) as f:
            existing = Config.from_dict(json.load(f))
    except (OSError, ValueError, TypeError):
        raise AblationError(f"{run_dir} is not empty and has no readable config.json; "
                            f"{hint}") from None
    from purejaxdqn.run import checkpoint

    # compared without the saving fields, for every action: an extension, like a resume,
    # may save at other times than the run on disk did
    config = config.replace(**{name: getattr(existing, name) for name in _SAVING})
    summary = read_json(os.path.join(run_dir, "summary.json"))
    stopped = summary is not None and summary.get("stopped_by") is not None
    if extend and checkpoint.exists(run_dir) and existing.total_steps != config.total_steps \
            and existing.replace(total_steps=config.total_steps) == config:
        if existing.total_steps < config.total_steps:
            return "extend"
        reached = summary.get("steps") if stopped else None
        if isinstance(reached, int) and config.total_steps >= reached:
            return "resume"  # a stopped run ends earlier than planned, with its evaluation
        if isinstance(reached, int):
            raise AblationError(f"{run_dir} has trained {reached:,} steps per seed already; "
                                f"a total_steps below that ({config.total_steps:,}) cannot "
                                "end it")
    if existing != config:
        field = next(name for name in fields_by_name()
                     if getattr(existing, name) != getattr(config, name))
        raise AblationError(f"{run_dir} holds a run with another config ({field} "
                            f"{getattr(existing, field)!r}, now {getattr(config, field)!r}); "
                            f"{hint}")
    if summary is not None and not stopped:
        return "reuse"
    if checkpoint.exists(run_dir):
        return "resume"
    if restart:
        return "restart"
    raise AblationError(f"{run_dir} holds an unfinished run without a checkpoint; {hint}")


def train_session(config: Config, run_dir: str, action: str, *, label: str = "",
                  progress: bool = True, quiet: bool = False) -> tuple[dict, float]:
    """Train (`action` "train"/"restart") or continue ("resume"/"extend") the run; return
    train()'s summary and this session's wall seconds. `quiet`: nothing on stdout."""
    from purejaxdqn.run import compile_cache
    from purejaxdqn.run.train import train

    compile_cache.enable()
    os.makedirs(run_dir, exist_ok=True)
    start = time.perf_counter()
    silenced = contextlib.redirect_stdout(io.StringIO()) if quiet else contextlib.nullcontext()
    with silenced:
        summary = train(config, run_dir, resume=action in ("resume", "extend"),
                        progress=progress and not quiet)
    wall = time.perf_counter() - start
    if summary.get("phase") != "start-up":  # a run stopped at start-up wrote nothing
        log_wall(run_dir, summary["steps"], wall)
    if summary["stopped_by"]:
        from purejaxdqn.tools.cli import stop_message

        raise Interrupted(f"{label or run_dir}: {stop_message(summary, 'the same command')}",
                          summary["stopped_by"], summary)
    return summary, wall


def log_wall(run_dir: str, steps: int, wall: float) -> None:
    with open(os.path.join(run_dir, WALL_LOG), "a") as f:
        f.write(json.dumps({"steps": steps, "wall_s": round(wall, 1),
                            "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")


def wall_s(run_dir: str) -> float | None:
    """Wall seconds of all the run's ended sessions, or None if none was logged."""
    path = os.path.join(run_dir, WALL_LOG)
    if not os.path.exists(path):
        return None
    return round(sum(row["wall_s"] for row in read_jsonl(path)), 1)
