"""2. learner-only throughput: the agent's jitted `learn` (replay sample + update) in
updates/s, and the same sample + update jitted bare as a reference."""

from __future__ import annotations

import math
import time

import numpy as np

from benchmarks.common import repeat_blocking, stats


def random_inputs(spec, num_seeds: int, num_envs: int, count: int, rng) -> list:
    from purejaxdqn.envs.envpool import EnvStep

    shape = (num_seeds, num_envs)
    out = []
    for i in range(count):
        if np.dtype(spec.obs_dtype) == np.uint8:
            obs = rng.integers(0, 256, shape + spec.obs_shape, dtype=np.uint8)
        else:
            obs = rng.standard_normal(shape + spec.obs_shape).astype(spec.obs_dtype)
        frame = obs[:, :, -1] if spec.frame_stack > 1 else obs
        flag = np.zeros(shape, bool)
        out.append(EnvStep(obs=obs, frame=frame, reward=rng.integers(-1, 2, shape).astype(
            np.float32), terminated=flag, truncated=flag, life_lost=flag,
            first=np.full(shape, i == 0), reset=flag,
            episode_return=np.full(shape, np.nan, np.float32),
            episode_length=np.zeros(shape, np.int32)))
    return out


def learner_only(config, spec, reps: int, rep_s: float, bare: bool = False):
    """updates/s of `agent.learn` (all seeds) after filling the replay with random
    frames through `act`; with bare=True also (row, bare_update row)."""
    import jax

    from purejaxdqn.agent import make_agent

    seeds = config.all_seeds if hasattr(config, "all_seeds") else (config.seed,)
    agent = make_agent(config, spec)
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(s) for s in seeds]))
    inputs = random_inputs(spec, len(seeds), config.num_envs, 4, np.random.default_rng(1))
    fill = max(16, math.ceil(config.batch_size / config.num_envs) + 8)
    for i in range(fill):
        state, _ = agent.act(state, inputs[0] if i == 0 else inputs[1 + i % 3])
    t0 = time.perf_counter()
    learn = agent.learn.lower(state).compile()  # ahead of time: no call is a compile
    compile_s = time.perf_counter() - t0
    box = [state]

    def call():
        box[0], _ = learn(box[0])  # learn donates its argument: always rebind
        jax.block_until_ready(box[0])

    ups, calls = repeat_blocking(call, agent.updates_per_learn * len(seeds), reps, rep_s)
    row = {"num_envs": config.num_envs, "batch_size": config.batch_size, "seeds": len(seeds),
           "updates_per_learn": agent.updates_per_learn, "calls_per_rep": calls,
           "compile_s": compile_s, "updates_per_s": stats(ups)}
    if not bare:
        return row
    return row, bare_update(config, spec, agent, box[0], reps, rep_s)


def bare_update(config, spec, agent, state, reps: int, rep_s: float) -> dict:
    """The same replay sample + learner update as one update of `learn`, jitted on its
    own: one update per call, no vmap over seeds. A reference for `learn`."""
    import functools

    import jax

    from purejaxdqn import replay as replay_lib
    from purejaxdqn.parts import build_sampling, build_update

    update = build_update(config, agent.network)
    sampling = build_sampling(config)
    replay_params = replay_lib.ReplayParams(
        capacity_per_env=config.capacity_per_env, num_envs=config.num_envs,
        batch_size=config.batch_size, frame_stack=spec.frame_stack, n_step=config.n_step,
        gamma=config.gamma, life_loss_terminal=config.life_loss_terminal,
        prioritized=sampling.prioritized, alpha=sampling.alpha, eps=sampling.eps)

    @functools.partial(jax.jit, donate_argnums=0)
    def step(learner, buffer):
        key, sample_key = jax.random.split(learner.key)
        batch = replay_lib.sample(replay_params, buffer, sample_key)
        learner, metrics = update(learner.replace(key=key), batch)
        return learner, metrics["loss"]

    first = lambda x: x[0]  # noqa: E731  (seed 0 of the vmapped state, copied)
    box = [jax.tree_util.tree_map(first, state.learner)]
    buffer = jax.tree_util.tree_map(first, state.replay)
    compiled = step.lower(box[0], buffer).compile()

    def call():
        box[0], _ = compiled(box[0], buffer)
        jax.block_until_ready(box[0])

    ups, calls = repeat_blocking(call, 1, reps, rep_s)
    return {"num_envs": config.num_envs, "batch_size": config.batch_size,
            "calls_per_rep": calls, "updates_per_s": stats(ups)}
