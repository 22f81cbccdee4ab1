"""Sweeps on Ray: ablate's plan (envs x variants x seeds), each run one Ray task.

    python -m experiments.sweep --env CartPole-v1 --variants nature,double --seeds 0,1,2,3 \
        --seeds-per-run 1 --budget 60000 --out experiments/results/cartpole-sweep

The plan, the run dirs and the summary are `experiments.ablate`'s: the same
options (`--env`, `--variants`, `--seeds`, `--budget`, `--set`, ...), the same
validation before anything starts, `OUT/runs/<env>/<variant>/` (or, with
`--seeds-per-run k`, one run dir per group of k seeds below it), and the same
results.csv / results.md / learning_curves.png / ablation.json at the end.

Each run is a Ray task declaring `--cpus-per-run` CPUs and `--gpus-per-run`
GPUs; Ray runs as many at once as the cluster's resources allow. Local Ray by
default; `--address auto` or `ray://host:port` joins a running cluster.

Re-launching the same command skips finished runs and resumes interrupted ones
from their checkpoints. A failed run (an exception, a crashed worker) is tried
again up to `--max-retries` times, resuming from its last checkpoint, and is
then reported: listed on stderr and in ablation.json, exit code 1, never
dropped silently. Ctrl-C (or SIGTERM) asks every running task to checkpoint
and stop, then exits with code 130.

Where results land: a task writes into OUT directly when it can see OUT (local
Ray, or a cluster with a shared filesystem; checked with the id in
OUT/sweep-id). Otherwise it trains in `--worker-dir` on its node and returns
its run dir's small files (config.json, eval.jsonl, episodes.csv,
metrics.jsonl, summary.json, its log), which the driver writes into OUT;
checkpoints and TensorBoard files stay on the worker.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import sys
import tempfile
import time
import uuid
from typing import Any, Sequence

if __package__ in (None, ""):  # `python experiments/sweep.py` from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments import ablate
from experiments.common import (AblationError, Interrupted, check_out, read_json, split_list,
                                write_json)
from experiments.runner import decide, train_session
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.run.progress import format_duration

RAY_HINT = 'pip install -e ".[sweep]"'
SWEEP_ID = "sweep-id"  # OUT/sweep-id: tells a task whether it sees the driver's OUT
KEPT_ON_WORKER = ("checkpoint", "checkpoint.tmp", "checkpoint.old", "tb")
REPO_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_ray():
    """The ray module, or AblationError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise AblationError(f"sweeps run on Ray, which is not installed: {RAY_HINT}") from None
    return ray


# --- the task -------------------------------------------------------------------
def run_one(config_json: str, key: str, out_dir: str, sweep_id: str,
            worker_dir: str) -> dict:
    """Train (or resume) one planned run; executed inside a Ray task.

    Works in `out_dir` when this node sees it (same sweep id), else in
    `worker_dir/<sweep id>/` and returns the run's small files. A run dir left
    by an attempt that died before its first checkpoint is moved to
    `failed/<key>/<time>` (kept, not deleted) and the run starts again."""
    shared = _read_text(os.path.join(out_dir, SWEEP_ID)) == sweep_id
    root = out_dir if shared else os.path.join(worker_dir, sweep_id)
    run_dir = os.path.join(root, "runs", *key.split("/"))
    log_path = os.path.join(root, "logs", *key.split("/")) + ".log"
    config = Config.from_dict(json.loads(config_json))
    action = decide(run_dir, config, restart=True)
    if action == "restart":
        aside = os.path.join(root, "failed", *key.split("/"), time.strftime("%Y%m%d-%H%M%S"))
        os.makedirs(os.path.dirname(aside), exist_ok=True)
        shutil.move(run_dir, aside)
    start = time.perf_counter()
    if action == "reuse":  # finished earlier on this node; the driver lacks its files
        summary = read_json(os.path.join(run_dir, "summary.json"))
    else:
        os.makedirs(run_dir, exist_ok=True)
        os.makedirs(os.path.dirname(log_path), exist_ok=True)
        with open(log_path, "a") as log, contextlib.redirect_stdout(log), \
                contextlib.redirect_stderr(log):
            try:
                summary, _ = train_session(config, run_dir, action, label=key, progress=False)
            except Interrupted as stopped:  # the driver reports it, from the summary
                summary = stopped.summary
    result = {"key": key, "action": action, "summary": summary, "shared": shared,
              "wall_s": time.perf_counter() - start, "node": socket.gethostname()}
    if not shared:
        result["files"] = small_files(root, run_dir, log_path)
    return result


def small_files(root: str, run_dir: str, log_path: str) -> dict[str, bytes]:
    """{path relative to root: bytes} of a run dir without checkpoints and TensorBoard
    files, plus the run's log."""
    files = {}
    for folder, subdirs, names in os.walk(run_dir):
        subdirs[:] = [d for d in subdirs if d not in KEPT_ON_WORKER]
        for name in names:
            path = os.path.join(folder, name)
            with open(path, "rb") as f:
                files[os.path.relpath(path, root)] = f.read()
    if os.path.exists(log_path):
        with open(log_path, "rb") as f:
            files[os.path.relpath(log_path, root)] = f.read()
    return files


def _read_text(path: str) -> str | None:
    try:
        with open(path) as f:
            return f.read().strip()
    except OSError:
        return None


# --- the driver -----------------------------------------------------------------
class Progress:
    """Counts and an ETA from the runs finished in this launch (elapsed per run,
    times the runs left)."""

    def __init__(self, total: int, reused: int, say):
        self.total, self.reused, self.say = total, reused, say
        self.done, self.failed, self.running, self.interrupted = reused, 0, 0, 0
        self.start = time.perf_counter()
        self.last_line, self.last_time = None, 0.0

    def line(self) -> str:
        elapsed = time.perf_counter() - self.start
        finished_now = self.done - self.reused
        left = self.total - self.done - self.failed - self.interrupted
        if not left:
            eta = "0s"
        elif finished_now:
            eta = format_duration(elapsed / finished_now * left)
        else:
            eta = "after the first run"
        return (f"sweep: {self.done}/{self.total} done ({self.reused} reused), {self.running} "
                f"running, {self.failed} failed, {left - self.running} queued; "
                f"elapsed {format_duration(elapsed)}, ETA {eta}")

    def show(self, every: float, force: bool = False) -> None:
        line = self.line()
        now = time.perf_counter()
        counts = line.split("; ")[0]
        if force or counts != (self.last_line or "").split("; ")[0] or \
                now - self.last_time >= every:
            self.say(line)
            self.last_line, self.last_time = line, now


def _error_line(error: BaseException) -> str:
    cause = getattr(error, "cause", None) or error
    text = str(cause).strip().splitlines()
    # RayTaskError text is a traceback; its last line names the exception
    return f"{type(cause).__name__}: {text[-1] if text else 'no detail'}"


def _capacity(ray, cpus: float, gpus: float) -> int:
    """Runs the cluster can hold at once with these per-run resources (at least 1)."""
    resources = ray.cluster_resources()
    slots = [resources.get("CPU", 0) // cpus] if cpus > 0 else []
    if gpus > 0:
        slots.append(resources.get("GPU", 0) // gpus)
    return max(1, int(min(slots))) if slots else 1


def run_sweep(envs: Sequence[str] | str = ablate.DEFAULT_ENVS,
              variants: Sequence[str] | str = ablate.DEFAULT_VARIANTS,
              seeds: Sequence[int] | str = ablate.DEFAULT_SEEDS, budget: Any = None,
              out_dir: str | None = None, overrides: Any = None, *,
              eval_every: Any = None, eval_episodes: Any = None, seeds_per_run: Any = None,
              address: str | None = None, cpus_per_run: float = 1.0, gpus_per_run: float = 0.0,
              max_retries: int = 1, worker_dir: str | None = None,
              local_cpus: int | None = None, quiet: bool = False, command: str | None = None,
              progress_every: float = 30.0) -> dict:
    """Plan (as ablate), run every unfinished run as a Ray task, summarize.

    Returns {"out_dir", "table" (results.md path or None), "done", "reused",
    "failed" ({key: error}), "interrupted" ([keys])}. Bad input raises
    AblationError/ConfigError before Ray starts or anything is written."""
    ray = load_ray()
    if cpus_per_run < 0 or gpus_per_run < 0 or cpus_per_run == gpus_per_run == 0:
        raise AblationError(f"--cpus-per-run {cpus_per_run:g} / --gpus-per-run "
                            f"{gpus_per_run:g}: each run needs some resources")
    if max_retries < 0:
        raise AblationError(f"--max-retries must be >= 0, got {max_retries}")
    plan = ablate.plan_ablation(envs, variants, seeds, budget, out_dir, overrides,
                                eval_every, eval_episodes, seeds_per_run=seeds_per_run,
                                restart=True)
    out_dir = os.path.abspath(plan[0].out_dir)
    worker_dir = worker_dir or os.path.join(tempfile.gettempdir(), "purejaxdqn-sweep")
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))

    started_ray = not ray.is_initialized()
    if started_ray:
        _init_ray(ray, address, local_cpus)
    try:
        if gpus_per_run > 0 and not address and \
                ray.cluster_resources().get("GPU", 0) < gpus_per_run:
            raise AblationError(f"--gpus-per-run {gpus_per_run:g}, but this machine's Ray "
                                f"sees {ray.cluster_resources().get('GPU', 0):g} GPUs")
        os.makedirs(out_dir, exist_ok=True)  # first write: everything was checked
        sweep_id = _read_text(os.path.join(out_dir, SWEEP_ID))
        if not sweep_id:
            sweep_id = uuid.uuid4().hex[:12]
            with open(os.path.join(out_dir, SWEEP_ID), "w") as f:
                f.write(sweep_id + "\n")
        manifest = ablate.update_manifest(out_dir, plan, ablate.parse_overrides(overrides),
                                           command)
        manifest_path = os.path.join(out_dir, ablate.MANIFEST_NAME)
        outcome = _drive(ray, plan, out_dir, sweep_id, worker_dir, manifest, manifest_path,
                         cpus_per_run, gpus_per_run, max_retries, address, say,
                         progress_every)
    finally:
        if started_ray:
            ray.shutdown()
    table = None
    try:
        ablate.summarize(out_dir)
        table = os.path.join(out_dir, ablate.TABLE_NAME)
    except AblationError as error:  # e.g. every run failed: nothing evaluated to summarize
        say(f"sweep: no summary: {error}")
    return {"out_dir": out_dir, "table": table, **outcome}


def _init_ray(ray, address: str | None, local_cpus: int | None) -> None:
    """ray.init for a cluster or this machine; AblationError (one line) if it fails."""
    try:
        _start_ray(ray, address, local_cpus)
    except Exception as error:  # noqa: BLE001 - Ray raises several kinds; one line for the user
        where = f"reach the Ray cluster at {address}" if address else "start Ray"
        raise AblationError(f"cannot {where}: {_error_line(error)}") from None


def _start_ray(ray, address: str | None, local_cpus: int | None) -> None:
    if address:
        # Ship this checkout's code to the cluster's workers (they need the
        # dependencies installed, not this repo); run outputs are never shipped.
        import experiments
        import purejaxdqn

        ray.init(address=address, log_to_driver=False, runtime_env={
            "py_modules": [purejaxdqn, experiments],
            "excludes": ["results/", "runs/", "__pycache__/", "*.pyc"]})
        return
    # Local workers inherit this environment: make `experiments` importable there.
    paths = os.environ.get("PYTHONPATH", "").split(os.pathsep)
    if REPO_ROOT not in paths:
        os.environ["PYTHONPATH"] = os.pathsep.join([REPO_ROOT] + [p for p in paths if p])
    ray.init(num_cpus=local_cpus, include_dashboard=False, log_to_driver=False)


def _drive(ray, plan, out_dir, sweep_id, worker_dir, manifest, manifest_path, cpus, gpus,
           max_retries, address, say, progress_every) -> dict:
    from purejaxdqn.run.stopping import StopFlag

    options: dict[str, Any] = {"num_cpus": cpus, "num_gpus": gpus, "max_retries": 0}
    if 0 < gpus < 1:  # several runs share a GPU: jax must not grab 75% of it each
        options["runtime_env"] = {"env_vars": {"XLA_PYTHON_CLIENT_PREALLOCATE": "false"}}
    task = ray.remote(run_one).options(**options)

    queue = [run for run in plan if run.action != "reuse"]
    for run in plan:
        if run.action == "reuse":
            say(f"sweep: {run.key}: finished run in {run.run_dir}, reused")
    progress = Progress(len(plan), len(plan) - len(queue), say)
    attempts: dict[str, int] = {}
    errors: dict[str, list[str]] = {}
    failed: dict[str, str] = {}
    interrupted: list[str] = []
    running: dict[Any, tuple[ablate.PlannedRun, float]] = {}
    cancel_deadline = None

    def record(run, entry):
        manifest["runs"][run.key] = {"run_dir": run.run_dir,
                                     "seeds": list(run.config.all_seeds), **entry}
        write_json(manifest_path, manifest)

    with StopFlag() as stop:
        while queue or running:
            if stop.raised and cancel_deadline is None:
                say(f"sweep: {stop.raised}: asking {len(running)} running run(s) to "
                    "checkpoint and stop")
                interrupted += [run.key for run in queue]
                progress.interrupted += len(queue)
                queue = []
                for ref in running:
                    ray.cancel(ref, force=False)
                cancel_deadline = time.perf_counter() + 120
            if cancel_deadline and time.perf_counter() > cancel_deadline:
                for ref, (run, _) in running.items():
                    ray.cancel(ref, force=True)
                    interrupted.append(run.key)
                break
            while queue and len(running) < _capacity(ray, cpus, gpus):
                run = queue.pop(0)
                attempts[run.key] = attempts.get(run.key, 0) + 1
                ref = task.remote(run.config.to_json(), run.key, out_dir, sweep_id, worker_dir)
                running[ref] = (run, time.perf_counter())
                verb = "resuming" if run.action == "resume" or attempts[run.key] > 1 \
                    else "training"
                say(f"sweep: {run.key}: {verb} seeds "
                    f"{','.join(map(str, run.config.all_seeds))} (attempt {attempts[run.key]})")
            progress.running = len(running)
            progress.show(progress_every)
            ready, _ = ray.wait(list(running), num_returns=1, timeout=1.0)
            for ref in ready:
                run, began = running.pop(ref)
                try:
                    result = ray.get(ref)
                except Exception as error:  # noqa: BLE001 - the task's failure, reported
                    if cancel_deadline is not None:  # cancelled before it could checkpoint
                        interrupted.append(run.key)
                        continue
                    errors.setdefault(run.key, []).append(_error_line(error))
                    say(f"sweep: {run.key}: attempt {attempts[run.key]} failed: "
                        f"{errors[run.key][-1]}")
                    if attempts[run.key] <= max_retries:
                        queue.insert(0, run)
                        continue
                    failed[run.key] = errors[run.key][-1]
                    progress.failed += 1
                    record(run, {"status": "failed", "attempts": attempts[run.key],
                                 "errors": errors[run.key]})
                    continue
                if result.get("files"):
                    _write_files(out_dir, result["files"])
                summary = result["summary"] or {}
                status = "interrupted" if summary.get("stopped_by") else "done"
                record(run, {"status": status, "steps": summary.get("steps"),
                             "wall_s": round(time.perf_counter() - began, 1),
                             "attempts": attempts[run.key], "node": result["node"],
                             "results": "shared filesystem" if result["shared"]
                             else "returned by the task", "stopped_by": summary.get("stopped_by"),
                             **({"errors": errors[run.key]} if run.key in errors else {})})
                if status == "interrupted":
                    interrupted.append(run.key)
                    progress.interrupted += 1
                    say(f"sweep: {run.key}: stopped at {summary.get('steps', 0):,} steps "
                        "(checkpoint saved)")
                    continue
                progress.done += 1
                finals = (summary.get("final_eval") or {}).get("score_mean", [])
                say(f"sweep: {run.key}: done in {result['wall_s']:.0f} s on {result['node']}, "
                    f"final eval score {', '.join(f'{m:.1f}' for m in finals)}")
        stopped_by = stop.raised
    progress.running = 0
    progress.show(progress_every, force=True)
    return {"done": progress.done - progress.reused, "reused": progress.reused,
            "failed": failed, "interrupted": interrupted, "stopped_by": stopped_by}


def _write_files(out_dir: str, files: dict[str, bytes]) -> None:
    for rel, data in files.items():
        path = os.path.join(out_dir, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path + ".tmp", "wb") as f:
            f.write(data)
        os.replace(path + ".tmp", path)


# --- command line ---------------------------------------------------------------
def build_parser() -> argparse.ArgumentParser:
    parser = ablate.build_parser()  # the same plan options, then the sweep's own
    parser.prog = "python -m experiments.sweep"
    parser.description = ("Run an ablation's envs x variants x seeds as Ray tasks (local Ray "
                          "or a cluster) and tabulate them as experiments.ablate does.")
    parser.name = "sweep"  # ablate's one-line errors, named sweep
    group = parser.add_argument_group("sweep (Ray)")
    group.add_argument("--seeds-per-run", default="all", metavar="K",
                       help="seeds trained side by side in one run (task); 'all' (default) "
                            "is ablate's layout, 1 gives one task per seed")
    group.add_argument("--address", default=None,
                       help="Ray cluster to join: auto or ray://host:port (default: start "
                            "Ray on this machine)")
    group.add_argument("--cpus-per-run", type=float, default=1.0, metavar="N",
                       help="CPUs each run's task declares (default: %(default)s)")
    group.add_argument("--gpus-per-run", type=float, default=0.0, metavar="N",
                       help="GPUs each run's task declares; a run's seeds are sharded over "
                            "its GPUs (default: %(default)s)")
    group.add_argument("--max-retries", type=int, default=1, metavar="N",
                       help="times a failed run is tried again (default: %(default)s)")
    group.add_argument("--local-cpus", type=int, default=None, metavar="N",
                       help="CPUs local Ray may use (default: all)")
    group.add_argument("--worker-dir", default=None, metavar="DIR",
                       help="where tasks train when they cannot see --out (no shared "
                            "filesystem); default: <tmp>/purejaxdqn-sweep")
    group.add_argument("--progress-every", type=float, default=30.0, metavar="S",
                       help="seconds between progress lines when nothing changes "
                            "(default: %(default)s)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    envs = split_list(args.envs) or list(ablate.DEFAULT_ENVS)
    try:
        check_out(args.out or ablate.default_out_dir(envs))
        if args.summarize_only:
            markdown = ablate.summarize(args.out or ablate.default_out_dir(envs))
            print(markdown, end="")
            return 0
        seeds_per_run = None if args.seeds_per_run.strip().lower() == "all" \
            else args.seeds_per_run
        command = "python -m experiments.sweep " + " ".join(
            sys.argv[1:] if argv is None else argv)
        outcome = run_sweep(
            envs, args.variants, args.seeds, args.budget, args.out, args.overrides,
            eval_every=args.eval_every, eval_episodes=args.eval_episodes,
            seeds_per_run=seeds_per_run, address=args.address,
            cpus_per_run=args.cpus_per_run, gpus_per_run=args.gpus_per_run,
            max_retries=args.max_retries, worker_dir=args.worker_dir,
            local_cpus=args.local_cpus, quiet=args.quiet, command=command.strip(),
            progress_every=args.progress_every)
    except (AblationError, ConfigError) as error:
        print(f"sweep: error: {error}", file=sys.stderr)
        return 2
    if outcome["table"] and not outcome["interrupted"]:
        with open(outcome["table"]) as f:
            print(f.read(), end="")
    for key, error in outcome["failed"].items():
        print(f"sweep: FAILED {key}: {error} (log: "
              f"{os.path.join(outcome['out_dir'], 'logs', key)}.log)", file=sys.stderr)
    if outcome["interrupted"]:
        print(f"sweep: interrupted; {len(outcome['interrupted'])} run(s) unfinished, run the "
              "same command again to resume them", file=sys.stderr)
        return 130
    return 1 if outcome["failed"] else 0


if __name__ == "__main__":
    raise SystemExit(main())
