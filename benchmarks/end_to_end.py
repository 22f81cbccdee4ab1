"""3. end-to-end throughput of the real trainer, and 4. a serial profile of the
loop naming where the time goes."""

from __future__ import annotations

import os
import shutil
import tempfile
import time

import numpy as np

from benchmarks.common import round_up, stats


def end_to_end(config, overlap: bool, reps: int, window_steps: int, root: str) -> dict:
    """The real trainer; throughput per log window after warm-up, first window dropped."""
    from purejaxdqn.config import learning_cadence
    from purejaxdqn.run.runlog import read_jsonl
    from purejaxdqn.run.train import train

    g = config.num_envs * learning_cadence(config)[1]  # agent steps per learn call
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
    row = {"num_envs": config.num_envs, "overlap": overlap, "engine": summary["engine"], "seeds": len(seeds),
           "warmup_steps": config.warmup_steps, "window_steps": w,
           "measured_steps": reps * w, "run_wall_s": wall,
           "steps_per_s": per_seed,  # agent steps/s of one seed
           "trainer_learning_steps_per_s": summary["learning_steps_per_s"]}
    if len(seeds) > 1:
        row["steps_per_s_all_seeds"] = stats(np.asarray(windows) * len(seeds))
    return row


def serial_profile(config, min_seconds: float, min_learns: int) -> dict:
    """Where the time goes: the real training loop (train.train, host engine) run serially
    (`overlap=False`), its engine reporting each phase's seconds to a timer. Phases
    before the third `learn` call (compilation) are dropped; the run goes on for at
    least `min_learns` timed `learn` calls and about `min_seconds`."""
    from purejaxdqn.config import learning_cadence
    from purejaxdqn.run.train import train

    n = config.num_envs
    g = n * learning_cadence(config)[1]  # agent steps per learn call
    events: list[tuple[str, float]] = []
    timer = lambda phase, seconds: events.append((phase, seconds))  # noqa: E731
    learns_wanted = max(min_learns, 1) + 3
    stop = round_up(config.warmup_steps + g, g) + learns_wanted * g
    run_dir = tempfile.mkdtemp(prefix=f"profile-n{n}-")
    try:
        while True:
            events.clear()
            train(config.replace(engine="host", eval_every=0, log_every=stop,
                                 checkpoint_replay=False), run_dir,
                  progress=False, overlap=False, stop_after_steps=stop,
                  engine_options={"timer": timer})
            learn_at = [i for i, (phase, _) in enumerate(events) if phase == "learn"]
            timed = events[learn_at[2] + 1:]
            total = sum(t for _, t in timed)
            if total >= min_seconds or stop > 50 * (config.warmup_steps + g):
                break
            stop += learns_wanted * g
            shutil.rmtree(run_dir, ignore_errors=True)
    finally:
        shutil.rmtree(run_dir, ignore_errors=True)
    seconds = {phase: sum(t for name, t in timed if name == phase)
               for phase in ("act", "env", "learn")}
    iters = sum(1 for name, _ in timed if name == "act")
    learns = sum(1 for name, _ in timed if name == "learn")
    phases = {name: {"ms_per_iteration": 1e3 * t / iters, "ms_per_step": 1e3 * t / (iters * n),
                     "share": t / total}
              for name, t in seconds.items()}
    return {"num_envs": n, "iterations": iters, "learn_calls": learns,
            "updates_per_learn": learning_cadence(config)[0],
            "steps_per_s": iters * n / total, "phases": phases}
