"""The training loop: envs on the host, everything else in two jitted device calls.

Per env iteration: `act` stores the step just observed and picks actions; the
actions go to envpool (`send`), whose threads step the games while the device
runs the updates owed (`learn`); `recv` collects the next step. Evaluation,
logging and checkpoints happen at step counts.
"""

from __future__ import annotations

import json
import os
import signal
import time
from collections import deque

import jax
import numpy as np

from purejaxdqn import checkpoint
from purejaxdqn.agent import epsilon_at, make_agent, step_input
from purejaxdqn.config import Config
from purejaxdqn.envs import make_env
from purejaxdqn.evaluation import evaluate, make_policy
from purejaxdqn.runlog import RunLog


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
          progress: bool = True, stop_after_steps: int | None = None) -> dict:
    """Train (or resume) a run in `run_dir`; return a summary dict.

    `stop_after_steps` stops early as if interrupted (checkpoint written): used by
    tests and by anyone who wants to split a run into chunks.
    """
    env = make_env(config)
    agent = make_agent(config, env.spec)
    policy = make_policy(agent.network)
    state = agent.init(jax.random.PRNGKey(config.seed))
    host = {"iteration": 0, "evaluations": []}
    action_log: list[np.ndarray] = []
    env_step = env.reset()
    learning_starts = config.warmup_steps

    if resume:
        learner, replay, host, actions = checkpoint.load(
            run_dir, state.learner, state.replay)
        state = state.replace(learner=learner, replay=replay if replay is not None else state.replay)
        action_log = list(actions)
        steps_now = int(learner.steps)
        if exact_resume:
            # envpool cannot save emulator state; replaying the recorded actions from the
            # same seed rebuilds it exactly (cost: one env step per recorded step).
            for a in action_log:
                env_step = env.step(a)
        else:
            env.close()  # fresh games from a new seed; the replay sees a reset boundary
            env = make_env(config, seed=config.seed + steps_now)
            env_step = env.reset()
        if replay is None:  # refill before learning again, with the current policy
            learning_starts = steps_now + config.warmup_steps

    log = RunLog(run_dir)
    with open(os.path.join(run_dir, "config.json"), "w") as f:
        f.write(config.to_json())

    steps = int(state.learner.steps)
    metrics = None
    recent_scores: deque[float] = deque(maxlen=100)
    bar = _progress(progress, config.total_steps, steps)
    window_start, window_steps = time.perf_counter(), steps
    stopped_by = None
    stop_at = min(config.total_steps, stop_after_steps or config.total_steps)

    with _StopFlag() as stop:
        while steps < stop_at and stop.raised is None:
            state, actions = agent.act(state, step_input(env_step))
            actions = np.asarray(actions)
            env.send(actions)  # envpool steps on its threads from here...
            host["iteration"] += 1
            if steps + config.num_envs > learning_starts and \
                    host["iteration"] % agent.iterations_per_learn == 0:
                state, metrics = agent.learn(state)  # ...while the device learns
            env_step = env.recv()
            action_log.append(actions.astype(np.uint8))
            before, steps = steps, steps + config.num_envs

            for i in np.flatnonzero(~np.isnan(env_step.episode_return)):
                log.episode(steps, float(env_step.episode_return[i]),
                            int(env_step.episode_length[i]))
                recent_scores.append(float(env_step.episode_return[i]))
            if bar is not None:
                bar.update(config.num_envs)

            if _due(before, steps, config.log_every):
                now = time.perf_counter()
                row = {"steps_per_s": (steps - window_steps) / (now - window_start),
                       "epsilon": epsilon_at(config, steps),
                       "recent_score": float(np.mean(recent_scores)) if recent_scores else None}
                if metrics is not None:
                    row.update({k: float(v) for k, v in metrics.items()})
                log.metrics(steps, row)
                if bar is not None:
                    bar.set_postfix(sps=f"{row['steps_per_s']:.0f}",
                                    score=f"{row['recent_score']:.1f}"
                                    if row["recent_score"] is not None else "-")
                window_start, window_steps = now, steps
            if _due(before, steps, config.eval_every):
                _evaluate(config, policy, state, steps, host, log, bar)
            if _due(before, steps, config.checkpoint_every):
                _save(config, run_dir, state, host, action_log)
        stopped_by = stop.raised or ("stop_after_steps" if steps < config.total_steps else None)

    if stopped_by is None and (not host["evaluations"] or
                               host["evaluations"][-1]["step"] != steps):
        _evaluate(config, policy, state, steps, host, log, bar)
    _save(config, run_dir, state, host, action_log)
    if bar is not None:
        bar.close()
    log.close()
    env.close()
    summary = {"steps": steps, "stopped_by": stopped_by,
               "final_eval": host["evaluations"][-1] if host["evaluations"] else None,
               "run_dir": run_dir}
    with open(os.path.join(run_dir, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2)
    return summary


def _evaluate(config, policy, state, steps, host, log, bar):
    # The evaluation key and env seed derive from the step count, never from the
    # training key, so evaluating does not change the training trajectory.
    key = jax.random.fold_in(jax.random.PRNGKey(config.seed + 1), steps)
    result = evaluate(config, policy, state.learner.params, key, seed=config.seed + 10_000 + steps)
    host["evaluations"].append({"step": steps, "score_mean": result["score_mean"]})
    log.evaluation(steps, result)
    message = (f"eval @ {steps:,} steps: mean {result['score_mean']:.1f}, "
               f"median {result['score_median']:.1f} over {result['episodes']} episodes")
    if result.get("human_normalized") is not None:
        message += f", human-normalised {100 * result['human_normalized']:.1f}%"
    (bar.write if bar is not None else print)(message)
    return result


def _save(config, run_dir, state, host, action_log):
    actions = np.stack(action_log) if action_log else np.zeros((0, config.num_envs), np.uint8)
    checkpoint.save(run_dir, state.learner,
                    state.replay if config.checkpoint_replay else None,
                    {**host, "steps": int(state.learner.steps)}, actions)


def _progress(enabled: bool, total: int, initial: int):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, initial=initial, unit="step", dynamic_ncols=True,
                mininterval=0.5, smoothing=0.05)
