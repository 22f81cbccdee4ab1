"""The configurations the throughput benchmark measures: the Nature config at
benchmark scale, and the Nature replay ratio."""

from __future__ import annotations

from benchmarks.common import round_up

NATURE_RATIO = 4  # agent steps per update of 32 (Nature)
SWEEP_NUM_ENVS = 4  # batch-size sweep: one update per `learn` call at the Nature ratio


def steps_per_learn(num_envs: int) -> int:
    """Agent steps between two `learn` calls at the Nature ratio (whole env iterations)."""
    return max(num_envs, NATURE_RATIO)


def bench_config(game: str, num_envs: int, quick: bool, batch_size: int = 32,
                 seeds: tuple[int, ...] = ()):
    """The Nature config at benchmark scale. Identical for learner-only, end-to-end and
    the profile at one num_envs (so the compilation cache serves all three); only
    `log_every` (host-side) changes per end-to-end run."""
    from purejaxdqn.presets import NATURE

    g = steps_per_learn(num_envs)
    warmup = round_up(max(batch_size, 64 if quick else 256, (4 if quick else 8) * g), g)
    capacity = round_up(max(8_192 if quick else 50_000, warmup), num_envs)
    extra = {"seeds": tuple(seeds)} if seeds else {}
    return NATURE.replace(
        env_id=game, num_envs=num_envs, batch_size=batch_size, replay_capacity=capacity,
        warmup_steps=warmup, total_steps=10**9, eval_every=0, checkpoint_every=0,
        eval_episodes=1, eval_max_episode_steps=10, log_every=10**9, **extra).validate()


def env_spec(game: str):
    from purejaxdqn.envs.envpool import make_env
    from purejaxdqn.presets import NATURE

    env = make_env(NATURE.replace(env_id=game, num_envs=1))
    spec = env.spec
    env.close()
    return spec
