"""3. end-to-end throughput of the real trainer, and 4. a serial profile of the
loop naming where the time goes."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np

from benchmarks.common import round_up, stats
from benchmarks.configs import steps_per_learn


def end_to_end(config, overlap: bool, reps: int, window_steps: int, root: str) -> dict:
    """The real trainer; throughput per log window after warm-up, first window dropped."""
    from purejaxdqn.runlog import read_jsonl
    from purejaxdqn.train import train

    g = steps_per_learn(config.num_envs)
    w = round_up(max(window_steps, g), g)
    # The first update (and compilation of learn) falls in [warmup, warmup + g).
    first_clean = round_up(config.warmup_steps + g, w)
    stop = first_clean + reps * w
    config = config.replace(log_every=w)
    run_dir = tempfile.mkdtemp(prefix=f"e2e-n{config.num_envs}-", dir=root)
    t0 = time.perf_counter()
    summary = train(config, run_dir, progress=False, overlap=overlap, stop_after_steps=stop)
    wall = time.perf_counter() - t0
    seeds = config.all_seeds if hasattr(config, "all_seeds") else (config.seed,)
    rows = [r for r in read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
            if r.get("seed", seeds[0]) == seeds[0]]
    windows, prev = [], 0
    for r in rows:
        if prev >= first_clean:
            windows.append(r["steps_per_s"])
        prev = r["step"]
    shutil.rmtree(run_dir, ignore_errors=True)
    if len(windows) != reps or summary["steps"] != stop:
        raise RuntimeError(f"end-to-end run at num_envs={config.num_envs} logged "
                           f"{len(windows)} windows, expected {reps}")
    per_seed = stats(windows)
    row = {"num_envs": config.num_envs, "overlap": overlap, "seeds": len(seeds),
           "warmup_steps": config.warmup_steps, "window_steps": w,
           "measured_steps": reps * w, "run_wall_s": wall,
           "steps_per_s": per_seed,  # agent steps/s of one seed
           "trainer_learning_steps_per_s": summary["learning_steps_per_s"]}
    if len(seeds) > 1:
        row["steps_per_s_all_seeds"] = stats(np.asarray(windows) * len(seeds))
    return row


def serial_profile(config, min_seconds: float, min_learns: int) -> dict:
    """A serial copy of the training loop with a clock around each phase."""
    import jax

    from purejaxdqn.agent import make_agent, step_input
    from purejaxdqn.envs import make_env

    n = config.num_envs
    env = make_env(config)
    agent = make_agent(config, env.spec)
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(config.seed)]))
    env_step = env.reset()
    steps, iteration = 0, 0
    while steps < config.warmup_steps:  # random play, act compiled here
        state, actions = agent.act(state, step_input([env_step]))
        env_step = env.step(np.asarray(actions)[0])
        steps, iteration = steps + n, iteration + 1
    state, _ = agent.learn(state)  # compile
    jax.block_until_ready(state)
    ipl = agent.iterations_per_learn
    while iteration % ipl:  # align on a learn boundary
        state, actions = agent.act(state, step_input([env_step]))
        env_step = env.step(np.asarray(actions)[0])
        iteration += 1
    t_act = t_env = t_learn = 0.0
    learns, iters = 0, 0
    start = time.perf_counter()
    while learns < min_learns or time.perf_counter() - start < min_seconds:
        for _ in range(ipl):
            t0 = time.perf_counter()
            state, actions = agent.act(state, step_input([env_step]))
            actions = np.asarray(actions)
            t1 = time.perf_counter()
            env_step = env.step(actions[0])
            t2 = time.perf_counter()
            t_act, t_env = t_act + t1 - t0, t_env + t2 - t1
            iters += 1
        t0 = time.perf_counter()
        state, _ = agent.learn(state)
        jax.block_until_ready(state)
        t_learn += time.perf_counter() - t0
        learns += 1
    env.close()
    total = t_act + t_env + t_learn
    phases = {name: {"ms_per_iteration": 1e3 * t / iters, "ms_per_step": 1e3 * t / (iters * n),
                     "share": t / total}
              for name, t in (("act", t_act), ("env", t_env), ("learn", t_learn))}
    return {"num_envs": n, "iterations": iters, "learn_calls": learns,
            "updates_per_learn": agent.updates_per_learn,
            "steps_per_s": iters * n / total, "phases": phases}
