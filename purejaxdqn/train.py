"""The training loop: envs on the host, everything else in two jitted device calls.

Per env iteration: `act` stores the step just observed and picks actions; the
actions go to envpool (`send`), whose threads step the games while the device
runs the updates owed (`learn`); `recv` collects the next step. Evaluation and
logging happen at step counts, checkpoints at step counts and on a wall clock.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import deque

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn import checkpoint
from purejaxdqn.agent import make_agent, seed_sharding, step_input
from purejaxdqn.config import Config
from purejaxdqn.envs import EnvGroup, env_seed
from purejaxdqn.evaluation import evaluate, make_policy, num_eval_envs
from purejaxdqn.exploration import make_exploration
from purejaxdqn.progress import Progress
from purejaxdqn.runlog import RunLog, truncate_logs, write_atomic
from purejaxdqn.watch import record_video

EVAL_KEY = 0x45564C  # folded into a seed's key for evaluation: never a training key


class _StopFlag:
    """SIGINT/SIGTERM set a flag; the loop checkpoints and returns at the next iteration."""

    def __init__(self):
        self.raised: str | None = None
        self._previous = {}

    def __enter__(self):
        for sig in (signal.SIGINT, signal.SIGTERM):
            self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def _handle(self, signum, frame):
        self.raised = signal.Signals(signum).name

    def __exit__(self, *exc):
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)


def _due(steps_before: int, steps_after: int, every: int) -> bool:
    """Whether a multiple of `every` lies in (steps_before, steps_after]."""
    return every > 0 and steps_after // every > steps_before // every


def train(config: Config, run_dir: str, resume: bool = False, exact_resume: bool = False,
          progress: bool = True, stop_after_steps: int | None = None,
          overlap: bool = True, devices=None) -> dict:
    """Train (or resume) a run in `run_dir`, one agent per seed in `config.all_seeds`.

    `overlap=False` waits for the envs before dispatching the updates and for the
    updates before the next step (a serial loop), for benchmarking the overlap.
    `stop_after_steps` stops early as if interrupted (checkpoint written): used by
    tests and by anyone who wants to split a run into chunks.
    With several local devices (or `devices`), the seeds are sharded over them
    (`agent.seed_sharding`); `devices=jax.local_devices()[:1]` keeps one device.
    """
    seeds = config.all_seeds
    host = {"iteration": 0, "evaluations": [], "env_segment": 0, "resumes": []}
    segment = 0  # which of the seed's training env-seed batches (envs.env_seed) to use
    if resume:  # exact: the same games again; else fresh ones no earlier segment played
        segment = checkpoint.read_host(run_dir).get("env_segment", 0) + (not exact_resume)
    envs = EnvGroup(config, seeds, segment=segment)
    sharding = seed_sharding(len(seeds), devices)
    agent = make_agent(config, envs.spec, sharding)
    policy = make_policy(agent.network)
    state = agent.init(jnp.stack([jax.random.PRNGKey(s) for s in seeds]))
    action_log: list[np.ndarray] = []  # actions since this env segment began
    env_steps = envs.reset()
    learning_starts = config.warmup_steps

    if resume:
        learner, replay, saved, actions = checkpoint.load(run_dir, state.learner, state.replay)
        host = {**host, **saved, "env_segment": segment}
        state = state.replace(learner=learner, replay=state.replay if replay is None else replay)
        steps_now = int(learner.steps[0])
        if exact_resume:
            if replay is None:
                raise checkpoint.CheckpointError(
                    "--exact-resume needs the replay in the checkpoint (checkpoint_replay)")
            # envpool cannot save emulator state; replaying the recorded actions from the
            # same env seeds rebuilds it exactly (cost: one env step per recorded step).
            action_log = list(actions)
            for a in action_log:
                env_steps = envs.step(a)
        # (else the fresh envs' first step is a reset: the replay sees a boundary)
        if replay is None:  # refill before learning again, with the current policy
            learning_starts = steps_now + config.warmup_steps
        host["resumes"] = host.get("resumes", []) + [
            {"step": steps_now, "exact": exact_resume, "replay_restored": replay is not None,
             "env_segment": segment, "time": time.strftime("%Y-%m-%dT%H:%M:%S")}]
        truncate_logs(run_dir, steps_now)

    log = RunLog(run_dir, append=resume)
    write_atomic(os.path.join(run_dir, "config.json"), config.to_json())

    steps = int(state.learner.steps[0])  # agent steps per seed; all seeds move together
    metrics = None
    recent_scores = [deque(maxlen=100) for _ in seeds]
    bar = Progress(config.total_steps, steps, learning_starts) if progress else None
    if resume and bar is not None:
        bar.write(_resume_message(host["resumes"][-1]))
    window = (time.perf_counter(), steps)
    learning_clock = None  # (time, steps) when learning began, for the throughput summary
    stop_at = min(config.total_steps, stop_after_steps or config.total_steps)
    saved_at = time.monotonic()

    try:
        with _StopFlag() as stop:
            while steps < stop_at and stop.raised is None:
                # which seeds learn this iteration (step or episode rule); read before
                # env_steps moves on
                due = agent.learn_due(host["iteration"] + 1, steps, learning_starts, env_steps)
                state, actions = agent.act(state, step_input(env_steps))
                actions = np.asarray(actions)
                envs.send(actions)  # envpool steps on its threads from here...
                if not overlap:
                    env_steps = envs.recv()
                host["iteration"] += 1
                if due is not None:  # ...while the device learns
                    state, metrics = agent.learn(state) if due.all() else \
                        agent.learn_masked(state, jnp.asarray(due))
                    if learning_clock is None:
                        learning_clock = (time.perf_counter(), steps)
                    if not overlap:
                        jax.block_until_ready(state)
                if overlap:
                    env_steps = envs.recv()
                action_log.append(actions.astype(np.uint8))
                before, steps = steps, steps + config.num_envs

                for k, (seed, env_step) in enumerate(zip(seeds, env_steps)):
                    for i in np.flatnonzero(~np.isnan(env_step.episode_return)):
                        score = float(env_step.episode_return[i])
                        log.episode(seed, steps, score, int(env_step.episode_length[i]))
                        recent_scores[k].append(score)
                if bar is not None:
                    bar.update(steps)

                if _due(before, steps, config.log_every):
                    window = _log_metrics(config, seeds, steps, window, metrics, recent_scores,
                                          log, bar, np.asarray(state.learner.episodes))
                if _due(before, steps, config.eval_every):
                    _evaluate(config, seeds, policy, state, steps, host, log, bar)
                if _due(before, steps, config.record_video_every):
                    record_video(config, run_dir, state.learner.params, steps)
                if _due(before, steps, config.checkpoint_every) or \
                        _clock_due(saved_at, config.checkpoint_minutes):
                    _save(config, run_dir, state, host, action_log, log)
                    saved_at = time.monotonic()
            stopped_by = stop.raised or ("stop_after_steps" if steps < config.total_steps
                                         else None)

        jax.block_until_ready(state)
        learning_sps = None
        if learning_clock is not None and steps > learning_clock[1]:
            learning_sps = (steps - learning_clock[1]) / (time.perf_counter() - learning_clock[0])
        if stopped_by is None and (not host["evaluations"] or
                                   host["evaluations"][-1]["step"] != steps):
            _evaluate(config, seeds, policy, state, steps, host, log, bar)
        _save(config, run_dir, state, host, action_log, log)
    finally:  # whatever happens, what was logged reaches the disk
        if bar is not None:
            bar.close()
        log.close()
        envs.close()
    summary = {"steps": steps, "seeds": list(seeds), "stopped_by": stopped_by,
               # agent steps/s of one seed from the first update on (multiply by
               # len(seeds) for the total); includes evaluations if any ran
               "learning_steps_per_s": learning_sps,
               "final_eval": host["evaluations"][-1] if host["evaluations"] else None,
               "best_eval_mean": [max(e["score_mean"][k] for e in host["evaluations"])
                                  for k in range(len(seeds))] if host["evaluations"] else None,
               "resumes": host["resumes"],
               "devices": 1 if sharding is None else len(sharding.device_set),
               "run_dir": run_dir}
    write_atomic(os.path.join(run_dir, "summary.json"), json.dumps(summary, indent=2))
    return summary


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
    epsilon_fn = make_exploration(config).epsilon
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


def _evaluate(config, seeds, policy, state, steps, host, log, bar):
    """Nature-protocol evaluation of each seed's params. The key derives from the
    seed and step count, never from the training key, so evaluating does not
    change the training trajectory; the env seeds come from the seed's evaluation
    range (envs.env_seed), disjoint from every training env and every other seed."""
    means = []
    index = len(host["evaluations"])
    for k, seed in enumerate(seeds):
        params = jax.tree_util.tree_map(lambda x: x[k], state.learner.params)
        key = jax.random.fold_in(jax.random.fold_in(jax.random.PRNGKey(seed), EVAL_KEY), steps)
        first_env_seed = env_seed(seed, num_eval_envs(config), "eval", index)
        result = evaluate(config, policy, params, key, seed=first_env_seed)
        log.evaluation(seed, steps, result)
        means.append(result["score_mean"])
        message = (f"eval seed {seed} @ {steps:,} steps: mean {result['score_mean']:.1f}, "
                   f"median {result['score_median']:.1f} over {result['episodes']} episodes")
        if result.get("human_normalized") is not None:
            message += f", human-normalised {100 * result['human_normalized']:.1f}%"
        (bar.write if bar is not None else print)(message)
    host["evaluations"].append({"step": steps, "score_mean": means})


def _save(config, run_dir, state, host, action_log, log):
    """Flush the logs, then write the checkpoint: a crash in between leaves log rows
    past the checkpoint, which a resume truncates (never rows missing before it).
    The replay goes in while the run is unfinished, so a resume needs no warm-up."""
    log.flush()
    steps = int(state.learner.steps[0])
    actions = np.stack(action_log) if action_log else \
        np.zeros((0, len(config.all_seeds), config.num_envs), np.uint8)
    keep_replay = config.checkpoint_replay and steps < config.total_steps
    checkpoint.save(run_dir, state.learner, state.replay if keep_replay else None,
                    {**host, "steps": steps}, actions)
