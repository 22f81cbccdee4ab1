"""1. env-only throughput: envpool stepped with random actions, agent steps/s vs
num_envs, synchronously through the trainer's env wrapper and asynchronously
through envpool directly."""

from __future__ import annotations

import warnings

import numpy as np

from benchmarks.common import log, stats, timed_reps


def env_only(game: str, num_envs: list[int], reps: int, rep_s: float) -> list[dict]:
    import envpool

    from purejaxdqn.envs.envpool import make_env
    from purejaxdqn.envs.table import resolve_env_id
    from purejaxdqn.presets import NATURE

    rows = []
    rng = np.random.default_rng(0)
    for n in num_envs:
        # sync: the trainer's own env wrapper (flags, scores), all envs per step
        env = make_env(NATURE.replace(env_id=game, num_envs=n))
        actions = rng.integers(0, env.spec.num_actions, (64, n)).astype(np.int32)
        env.reset()
        i = [0]

        def sync_step():
            env.step(actions[i[0] % 64])
            i[0] += 1
            return n

        sps = timed_reps(sync_step, reps, rep_s)
        env.close()
        rows.append({"num_envs": n, "mode": "sync", "batch_size": n, "steps_per_s": stats(sps)})
        log(f"env-only sync    num_envs={n:3d}: {np.median(sps):8.0f} steps/s")

        if n < 2:
            continue
        # async: envpool directly, half the envs per recv
        kind, envpool_id, _ = resolve_env_id(game)
        kwargs = dict(env_type="gymnasium", num_envs=n, batch_size=n // 2, seed=0,
                      max_episode_steps=NATURE.max_episode_steps)
        if kind != "vector":
            kwargs.update(episodic_life=False, reward_clip=False, use_fire_reset=False,
                          noop_max=NATURE.noop_max, repeat_action_probability=0.0,
                          full_action_space=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aenv = envpool.make(envpool_id, **kwargs)
        aenv.async_reset()
        num_actions = int(aenv.action_space.n)
        flat = rng.integers(0, num_actions, 4096).astype(np.int32)
        j = [0]

        def async_step():
            *_, info = aenv.recv()
            ids = info["env_id"]
            start = j[0] % (4096 - len(ids))
            aenv.send(flat[start:start + len(ids)], ids)
            j[0] += len(ids)
            return len(ids)

        sps = timed_reps(async_step, reps, rep_s)
        aenv.close()
        rows.append({"num_envs": n, "mode": "async", "batch_size": n // 2,
                     "steps_per_s": stats(sps)})
        log(f"env-only async   num_envs={n:3d}: {np.median(sps):8.0f} steps/s")
    return rows
