"""The training loop: an engine advances the agents, the loop keeps the schedule.

`train` sets up (or resumes) a run, then alternates two things until the step
budget, a signal, `stop_after_steps` or `stop_at_score`: the engine (engines/:
`host`, one device call per env iteration; `fused`, many per call) advances to the
next scheduled step count, and the loop does what falls due there: log rows, evaluations,
videos, checkpoints (on step counts and on a wall clock). Everything else (resume,
signals, the final evaluation and summary) lives in the helpers below it.
"""

from __future__ import annotations

import functools
import json
import os
import time
from collections import deque
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.agent import AgentState
from purejaxdqn.seed_axis import seed_sharding
from purejaxdqn.config import Config
from purejaxdqn.engines import exact_by_default, make_engine
from purejaxdqn.envs.envpool import env_seed
from purejaxdqn.evaluation import num_eval_envs
from purejaxdqn.parts import build_exploration
from purejaxdqn.run import checkpoint, disk
from purejaxdqn.run.progress import Progress
from purejaxdqn.run.runlog import RunLog, truncate_logs, write_atomic
from purejaxdqn.run.stopping import RunStopped, StopFlag

EVAL_KEY = 0x45564C  # folded into a seed's key for evaluation: never a training key
# What a diverged run's line names as its likely causes (the settings that scale a step)
DIVERGENCE_SUSPECTS = ("learning_rate", "optimizer", "loss", "reward_clip", "gamma")


class Diverged(Exception):
    """The learning produced a non-finite loss, Q-value or parameter: the run stops
    without saving it (the checkpoint on disk is the last finite state)."""

    def __init__(self, message: str, steps: int, saved: int | None):
        super().__init__(message)
        self.steps, self.saved = steps, saved


def _due(steps_before: int, steps_after: int, every: int) -> bool:
    """Whether a multiple of `every` lies in (steps_before, steps_after]."""
    return every > 0 and steps_after // every > steps_before // every


def _next_boundary(config: Config, steps: int, stop_at: int) -> int:
    """The next step count at which the loop has something to do."""
    periods = (config.log_every, config.eval_every, config.record_video_every,
               config.checkpoint_every)
    return min([stop_at] + [(steps // p + 1) * p for p in periods if p > 0])


class Session(NamedTuple):
    """What a run's start-up built, for the loop and the helpers below it."""

    config: Config
    run_dir: str
    seeds: tuple
    engine: Any
    host: dict  # iteration, evaluations, env segment, resumes: saved in host.json
    sharding: Any


def train(config: Config, run_dir: str, resume: bool = False, exact_resume: bool = False,
          progress: bool = True, stop_after_steps: int | None = None,
          stop_at_score: float | None = None, overlap: bool = True, devices=None,
          engine_options: dict | None = None,
          record_video: Callable[[Config, str, Any, int], Any] | None = None) -> dict:
    """Train (or resume) a run in `run_dir`, one agent per seed in `config.all_seeds`.

    `stop_after_steps` stops early as if interrupted (checkpoint written): used by
    tests and by anyone who wants to split a run into chunks. `stop_at_score` stops the
    same way at the first evaluation after which every seed has scored at least that
    mean in some evaluation (steps to solve; a resumed run that has stops at once).
    `overlap=False` (host engine) waits for the envs and the updates in turn, for
    benchmarking the overlap;
    `engine_options` go to the engine (host: timer; fused: chunk_seconds, max_chunk).
    With several local devices (or `devices`), the seeds are sharded over them
    (`seed_axis.seed_sharding`); `devices=jax.local_devices()[:1]` keeps one device.
    `record_video(config, run_dir, params, steps)` is called every `record_video_every`
    steps (default: watch.record_video, one evaluation game into RUN_DIR/videos/).

    SIGINT/SIGTERM (run/stopping.py): during start-up the run stops at once and nothing
    is written; later the trained state is saved first, a final evaluation included
    (the checkpoint is written before it, and a stop abandons it). The summary's
    `stopped_by` names the signal, `checkpoint_steps` what the checkpoint on disk holds.
    """
    if record_video is None and config.record_video_every:
        from purejaxdqn.run.watch import record_video
    with StopFlag(urgent=True) as stop:  # start-up: nothing at stake, a signal ends it
        try:
            session, carry, learning_starts = _start(config, run_dir, resume, exact_resume,
                                                     progress, overlap, devices, engine_options)
        except RunStopped as stopped:
            return _stopped_at_start(run_dir, resume, stopped.signal_name)
        stop.urgent = False  # from here on the work is kept: a signal waits for a boundary
        log = _open_log(session, carry, resume)
        bar = None
        try:
            steps = _steps(session.engine, carry)
            bar = Progress(config.total_steps, steps, learning_starts) if progress else None
            if resume and bar is not None:
                bar.write(_resume_message(session.host["resumes"][-1]))
            stop_at = min(config.total_steps, stop_after_steps or config.total_steps)
            divergence, reached = None, functools.partial(_reached, session.host, stop_at_score)
            try:
                carry, steps, learning_sps, saved = _loop(
                    session, carry, learning_starts, stop_at, stop, reached, log, bar,
                    record_video, saved=steps if resume else None)
                stopped_by, saved = _finish(session, carry, steps, stop, reached, saved, log, bar)
            except Diverged as diverged:
                log.flush()
                steps, saved, learning_sps = diverged.steps, diverged.saved, None
                stopped_by, divergence = "diverged", str(diverged)
            except OSError as error:  # a log row the disk refused (a save says it itself)
                raise disk.WriteFailed(disk.describe(error, "the run's logs",
                                                     error.filename or run_dir)) from None
        finally:  # whatever happens, what was logged reaches the disk
            if bar is not None:
                bar.close()
            log.close()
            session.engine.close()
    return _summary(session, steps, stopped_by, learning_sps, saved, divergence)


def _start(config, run_dir, resume, exact_resume, progress, overlap, devices, engine_options):
    """Build the engine and the agents (or load them from the checkpoint): (Session,
    carry, learning_starts). Writes nothing: a stop here loses nothing."""
    seeds = config.all_seeds
    host = {"iteration": 0, "evaluations": [], "env_segment": 0, "resumes": []}
    # exact: the same games go on (the fused engine always can: its env state is saved)
    exact_resume = exact_resume or exact_by_default(config)
    if resume:  # else fresh games from env seeds no earlier segment played
        host["env_segment"] = checkpoint.read_host(run_dir).get("env_segment", 0) + \
            (not exact_resume)
    sharding = seed_sharding(len(seeds), devices)
    engine = make_engine(config, seeds, host["env_segment"], sharding, overlap,
                         **(engine_options or {}))
    try:
        carry = engine.start(jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
        learning_starts = config.warmup_steps
        if resume:
            carry, learning_starts = _resume(config, run_dir, engine, carry, host,
                                             exact_resume, progress)
    except BaseException:  # a stop or a bad checkpoint: the envs' threads end with it
        engine.close()
        raise
    return Session(config, run_dir, seeds, engine, host, sharding), carry, learning_starts


def _open_log(session, carry, resume: bool) -> RunLog:
    """The run's logs (cut back to the checkpoint's step on a resume), W&B beside them
    where the config names a project, and config.json written."""
    run_dir, config = session.run_dir, session.config
    try:
        if resume:
            truncate_logs(run_dir, _steps(session.engine, carry))
        log = RunLog(run_dir, append=resume)
        if config.wandb_project:  # the TensorBoard scalars and the config to W&B too
            from purejaxdqn.run.wandb_log import WandbRun  # wandb: an optional extra

            log.mirror_to(WandbRun(run_dir, config, resume=resume))
        write_atomic(os.path.join(run_dir, "config.json"), config.to_json())
    except BaseException:  # a disk that refuses the logs: the envs' threads end too
        session.engine.close()
        raise
    return log


def _stopped_at_start(run_dir: str, resume: bool, signal_name: str) -> dict:
    """The summary of a run stopped before it trained: nothing was written."""
    steps = checkpoint.read_host(run_dir).get("steps", 0) if resume else 0
    return {"steps": steps, "stopped_by": signal_name, "phase": "start-up",
            "checkpoint_steps": steps if resume else None, "run_dir": run_dir}


def _loop(session, carry, learning_starts, stop_at, stop, reached, log, bar, record_video,
          saved):
    """Advance the engine boundary by boundary, doing what falls due at each, until
    `stop_at`, a signal or `reached()`: (carry, steps, learning agent steps/s, steps
    saved or None)."""
    config, seeds, engine, host = session.config, session.seeds, session.engine, session.host
    steps = _steps(engine, carry)
    metrics, learning_clock = None, None  # clock: (time, steps) when learning began
    recent_scores = [deque(maxlen=100) for _ in seeds]
    window = (time.perf_counter(), steps)
    saved_at = time.monotonic()
    while steps < stop_at and not stop.is_set() and not reached():
        carry, done = engine.advance(carry, _next_boundary(config, steps, stop_at),
                                     learning_starts, stop.is_set)
        before, steps = steps, done.steps
        metrics = done.metrics if done.metrics is not None else metrics
        _check_finite(session, metrics, None, steps, saved)
        learning_clock = learning_clock or done.first_learn
        for k, at, score, length in done.episodes:
            log.episode(seeds[k], at, score, length)
            recent_scores[k].append(score)
        if bar is not None:
            bar.update(steps)
        if _due(before, steps, config.log_every):
            episodes = engine.across_seeds(carry, lambda c: c.agent.learner.episodes)
            window = _log_metrics(config, seeds, steps, window, metrics, recent_scores,
                                  log, bar, np.asarray(episodes))
        if _due(before, steps, config.eval_every):
            _evaluate(session, carry, steps, log, bar, stop.is_set)
        if _due(before, steps, config.record_video_every) and not stop.is_set():
            record_video(config, session.run_dir,
                         engine.across_seeds(carry, lambda c: c.agent.learner.params), steps)
        if _due(before, steps, config.checkpoint_every) or \
                _clock_due(saved_at, config.checkpoint_minutes):
            _check_finite(session, metrics, carry, steps, saved)
            saved = _save(config, session.run_dir, engine, carry, host, log, bar)
            saved_at = time.monotonic()
    jax.block_until_ready(carry)
    learning_sps = None
    if learning_clock is not None and steps > learning_clock[1]:
        learning_sps = (steps - learning_clock[1]) / (time.perf_counter() - learning_clock[0])
    return carry, steps, learning_sps, saved


def _best_means(host: dict) -> list[float] | None:
    """Each seed's best evaluation mean so far (None before the first evaluation)."""
    evaluations = host["evaluations"]
    return [max(e["score_mean"][k] for e in evaluations)
            for k in range(len(evaluations[0]["score_mean"]))] if evaluations else None


def _reached(host: dict, score: float | None) -> bool:
    """Every seed's best evaluation mean so far is at least `score` (None: never)."""
    best = _best_means(host)
    return score is not None and best is not None and min(best) >= score


def _finish(session, carry, steps, stop, reached, saved, log, bar) -> tuple[str | None,
                                                                            int | None]:
    """Checkpoint the trained state, then (a finished run) evaluate it: the checkpoint is
    on disk before the final evaluation starts, so a stop during it keeps the work, and
    the evaluation's result goes into the checkpoint's host.json when it is done.
    Return (stopped_by, steps the checkpoint holds)."""
    config, engine, host = session.config, session.engine, session.host
    stopped_by = stop.raised or (None if steps >= config.total_steps else
                                 "stop_at_score" if reached() else "stop_after_steps")
    if saved != steps:
        _check_finite(session, None, carry, steps, saved)
        saved = _save(config, session.run_dir, engine, carry, host, log, bar)
    evaluated = host["evaluations"] and host["evaluations"][-1]["step"] == steps
    if stopped_by is None and not evaluated:
        if _evaluate(session, carry, steps, log, bar, stop.is_set):
            log.flush()
            checkpoint.update_host(session.run_dir, evaluations=host["evaluations"])
        else:
            stopped_by = stop.raised
    return stopped_by, saved


def _check_finite(session, metrics, carry, steps, saved) -> None:
    """Raise Diverged if a seed's last loss or mean Q (`metrics`), or with a `carry` any
    of its parameters, is not finite; the line names the step, the seed and the
    settings most likely responsible."""
    bad = []
    for name, values in (metrics or {}).items():
        if name in ("loss", "q_mean"):
            bad += [(k, f"its {name} is {v}") for k, v in enumerate(np.asarray(values))
                    if not np.isfinite(v)]
    if carry is not None and not bad:
        finite = session.engine.across_seeds(carry, lambda c: _all_finite(c.agent.learner.params))
        bad += [(k, "its parameters are not finite") for k, ok in
                enumerate(np.asarray(finite)) if not ok]
    if not bad:
        return
    k, what = bad[0]
    suspects = ", ".join(f"{name} {getattr(session.config, name)!r}"
                         for name in DIVERGENCE_SUSPECTS)
    kept = f"the checkpoint at {saved:,} steps (the last finite state) is kept" \
        if saved is not None else "no checkpoint was written"
    raise Diverged(f"learning diverged by {steps:,} steps: seed {session.seeds[k]}: {what}; "
                   f"{kept}, nothing later saved; settings to look at: {suspects}",
                   steps, saved)


@jax.jit
def _all_finite(params) -> jax.Array:
    """[S] bools: every parameter of each seed finite."""
    leaves = [jnp.isfinite(x).reshape(x.shape[0], -1).all(axis=1)
              for x in jax.tree_util.tree_leaves(params)]
    return jnp.stack(leaves).all(axis=0)


def _summary(session, steps, stopped_by, learning_sps, saved, divergence=None) -> dict:
    host, sharding = session.host, session.sharding
    summary = {"steps": steps, "seeds": list(session.seeds), "stopped_by": stopped_by,
               "engine": session.engine.name,
               # agent steps/s of one seed from the first update on (multiply by
               # len(seeds) for the total); includes evaluations if any ran
               "learning_steps_per_s": learning_sps,
               "final_eval": host["evaluations"][-1] if host["evaluations"] else None,
               "best_eval_mean": _best_means(host),
               "resumes": host["resumes"],
               "checkpoint_steps": saved,
               "divergence": divergence,  # the one line of a run that diverged, or None
               # where the seeds were placed (a run resumed at its end never moved
               # the loaded state onto a device)
               "devices": 1 if sharding is None else len(sharding.device_set),
               "run_dir": session.run_dir}
    write_atomic(os.path.join(session.run_dir, "summary.json"), json.dumps(summary, indent=2))
    return summary


def _resume(config, run_dir, engine, carry, host, exact, progress):
    """Load the checkpoint into `carry`; return (carry, learning_starts)."""
    # templates over all seeds: the learner's values (older checkpoints take missing
    # fields from it), the replay's shapes only (no second copy of it is built)
    learner_template = engine.across_seeds(carry, lambda c: c.agent.learner)
    replay_shapes = jax.eval_shape(lambda c: engine.across_seeds(c, lambda b: b.agent.replay),
                                   carry)
    started = time.perf_counter()
    if progress:  # a replay checkpoint takes seconds to read: say what the wait is
        print("loading checkpoint...", flush=True)
    learner, replay, saved, actions = checkpoint.load(run_dir, learner_template,
                                                         replay_shapes)
    extras_template = engine.checkpoint_extras(carry)[0]
    if exact and not engine.resumes_exactly:
        raise checkpoint.CheckpointError(
            f"--exact-resume: the {engine.name} engine cannot restore envpool's emulators in "
            f"{config.env_id}; resume without it (fresh games) or use the host engine")
    extras = checkpoint.load_extras(run_dir, extras_template) if exact else None
    if progress:
        print(f"loaded in {time.perf_counter() - started:.1f} s", flush=True)
    if exact and replay is None:
        raise checkpoint.CheckpointError(
            "--exact-resume needs the replay in the checkpoint (checkpoint_replay)")
    if exact and extras_template is not None and extras is None:
        raise checkpoint.CheckpointError(
            f"the checkpoint in {run_dir} has no saved env state to resume exactly from")
    segment = host["env_segment"]
    host.update(saved, env_segment=segment)
    restored = replay is not None
    if not restored:  # the fresh replay of `start`
        replay = engine.across_seeds(carry, lambda c: c.agent.replay)
    carry = engine.restore(carry, AgentState(learner=learner, replay=replay), extras, actions,
                           host.get("iteration", 0), exact)
    steps_now = int(learner.steps[0])
    learning_starts = config.warmup_steps
    if not restored:  # refill before learning again, with the current policy
        learning_starts = steps_now + config.warmup_steps
    host["resumes"] = host.get("resumes", []) + [
        {"step": steps_now, "exact": exact, "replay_restored": restored,
         "env_segment": segment, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}]
    return carry, learning_starts


def _clock_due(saved_at: float, minutes: float) -> bool:
    return minutes > 0 and time.monotonic() - saved_at >= 60 * minutes


def _resume_message(resume: dict) -> str:
    how = ("exactly (recorded actions replayed into the same games)" if resume["exact"] else
           "with fresh games from new env seeds (the games in progress were dropped)")
    replay = ("replay restored, learning continues at once" if resume["replay_restored"] else
              "replay NOT in the checkpoint: a new warm-up refills it before learning")
    return f"resuming at {resume['step']:,} steps {how}; {replay}"


def _log_metrics(config, seeds, steps, window, metrics, recent_scores, log, bar, episodes):
    now = time.perf_counter()
    steps_per_s = (steps - window[1]) / (now - window[0])
    epsilon_fn = build_exploration(config).epsilon
    for k, seed in enumerate(seeds):
        row = {"steps_per_s": steps_per_s, "epsilon": float(epsilon_fn(steps, episodes[k])),
               "episodes": int(episodes[k]),
               "recent_score": float(np.mean(recent_scores[k])) if recent_scores[k] else None}
        if metrics is not None:
            row.update({name: float(value[k]) for name, value in metrics.items()})
        log.metrics(seed, steps, row)
    if bar is not None:
        scores = [np.mean(r) for r in recent_scores if r]
        bar.set_postfix(score=f"{np.mean(scores):.1f}" if scores else "-")
    return now, steps


def _evaluate(session, carry, steps, log, bar, stop) -> bool:
    """Nature-protocol evaluation of each seed's params; False (nothing logged) if
    `stop()` abandoned it. The key derives from the seed and step count, never from the
    training key, so evaluating does not change the training trajectory; the env seeds
    come from the seed's evaluation range (envs.env_seed), disjoint from every training
    env and every other seed."""
    config, host = session.config, session.host
    results = []
    index = len(host["evaluations"])
    every_params = session.engine.across_seeds(carry, lambda c: c.agent.learner.params)
    for k, seed in enumerate(session.seeds):
        params = jax.tree_util.tree_map(lambda x: x[k], every_params)
        key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), EVAL_KEY), steps)
        first_env_seed = env_seed(seed, num_eval_envs(config), "eval", index)
        result = session.engine.evaluate(params, key, first_env_seed, stop)
        if result is None:
            return False
        results.append(result)
    for seed, result in zip(session.seeds, results):  # all seeds or none: rows stay whole
        log.evaluation(seed, steps, result)
        message = (f"eval seed {seed} @ {steps:,} steps: mean {result['score_mean']:.1f}, "
                   f"median {result['score_median']:.1f} over {result['episodes']} episodes")
        if result.get("human_normalized") is not None:
            message += f", human-normalised {100 * result['human_normalized']:.1f}%"
        (bar.write if bar is not None else print)(message)
    host["evaluations"].append({"step": steps,
                                "score_mean": [r["score_mean"] for r in results]})
    return True


def _save(config, run_dir, engine, carry, host, log, bar=None) -> int:
    """Flush the logs, then write the checkpoint: a crash in between leaves log rows
    past the checkpoint, which a resume truncates (never rows missing before it).
    The replay goes in while the run is unfinished, so a resume needs no warm-up.
    With a progress `bar`, say how much is written (in memory) and how long it took.
    Return the steps saved."""
    log.flush()
    steps = _steps(engine, carry)
    extras, actions = engine.checkpoint_extras(carry)
    keep_replay = config.checkpoint_replay and steps < config.total_steps
    learner = engine.across_seeds(carry, lambda c: c.agent.learner)
    replay = engine.across_seeds(carry, lambda c: c.agent.replay) if keep_replay else None
    started = time.perf_counter()
    if bar is not None:
        in_memory = _nbytes(learner, replay, actions, extras)
        bar.write(f"saving checkpoint ({disk.size(in_memory)} in memory)...")
    checkpoint.save(run_dir, learner, replay,
                    {**host, "steps": steps, "iteration": engine.iteration(carry)}, actions,
                    extras, config.to_json())
    if bar is not None:
        bar.write(f"saved in {time.perf_counter() - started:.1f} s "
                  f"({disk.size(checkpoint.size_on_disk(run_dir))} on disk)")
    return steps


def _steps(engine, carry) -> int:
    """Agent steps per seed (all seeds move together)."""
    return int(engine.across_seeds(carry, lambda c: c.agent.learner.steps[:1])[0])


def _nbytes(*trees) -> int:
    """Bytes of the arrays in `trees` (None counts as empty), without copying them."""
    return sum(np.asarray(leaf).nbytes if not hasattr(leaf, "nbytes") else leaf.nbytes
               for leaf in jax.tree_util.tree_leaves(trees))
