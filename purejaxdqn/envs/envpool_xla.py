"""Atari inside jit: envpool's XLA interface (`env.xla()`) as a seed-batched JAX env.

envpool steps its emulators on CPU threads behind an XLA custom call whose only
state is an opaque handle; `step(handle, actions) -> (handle, outputs)` can run
inside `lax.scan`/`fori_loop`, so the fused engine can keep Atari in its loop.
This module reads envpool's outputs (reset where `elapsed_step == 0`, Atari's own
game-over flag, the lives counter) and leaves the flags and per-game tallies to
`env_step`, the code the host wrapper (envs.VecEnv) runs in numpy, here in jax.numpy.

One envpool object per seed (each with its seed's env seeds, as on the host); the
custom call does not vmap, so `step` loops over the seeds in Python (unrolled in
the trace). The emulators cannot be saved, so a resume of a fused Atari run
starts fresh games (like the host engine without --exact-resume).
"""

from __future__ import annotations

import flax
import jax
import jax.numpy as jnp

from purejaxdqn.config import Config
from purejaxdqn.envs.envpool import envpool_entry, make_envpool, obs_layout
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.step import EnvSpec, EnvStep, Tally, count, lives_lost, make_step


@flax.struct.dataclass
class XlaEnvState:
    handles: tuple  # one envpool handle per seed (opaque uint8 arrays)
    lives: jax.Array  # [S, N] int32
    score: jax.Array  # [S, N] float32, raw score of the game in progress
    length: jax.Array  # [S, N] int32


class XlaAtari:
    """`reset() -> (state, EnvStep[S, N])` and the pure `step(state, actions [S, N])`."""

    def __init__(self, config: Config, env_seeds: list[int], max_episode_steps: int):
        entry = envpool_entry(config.env_id)
        if not KINDS[entry.kind].atari:
            raise ValueError(f"envpool's XLA path here is for Atari, not {entry.kind}")
        self.kind, self.num_envs = entry.kind, config.num_envs
        self.envs = [make_envpool(config, entry.envpool, entry.kind, config.num_envs, s,
                                   max_episode_steps) for s in env_seeds]
        obs_shape, obs_dtype, stack = obs_layout(entry.kind, self.envs[0].observation_space)
        self.spec = EnvSpec(entry.kind, entry.envpool, entry.game,
                            int(self.envs[0].action_space.n), obs_shape, obs_dtype, stack)
        self._xla = [env.xla() for env in self.envs]  # (handle, recv, send, step) each

    def reset(self) -> tuple[XlaEnvState, EnvStep]:
        outputs, handles = [], []
        for env, (handle, recv, _, _) in zip(self.envs, self._xla):
            env.async_reset()
            handle, out = jax.jit(recv)(handle)
            handles.append(handle)
            outputs.append(out)
        zeros = jnp.zeros((len(self.envs), self.num_envs), jnp.int32)
        state = XlaEnvState(handles=tuple(handles), lives=zeros,
                            score=zeros.astype(jnp.float32), length=zeros)
        # jitted: every leaf its own buffer (the fused engine donates the carry)
        return jax.jit(self._record)(state, outputs)

    def step(self, state: XlaEnvState, actions: jax.Array) -> tuple[XlaEnvState, EnvStep]:
        handles, outputs = [], []
        for k, (_, _, _, step) in enumerate(self._xla):
            handle, out = step(state.handles[k], actions[k].astype(jnp.int32))
            handles.append(handle)
            outputs.append(out)
        return self._record(state.replace(handles=tuple(handles)), outputs)

    def _record(self, state: XlaEnvState, outputs: list) -> tuple[XlaEnvState, EnvStep]:
        obs, reward, terminated, truncated, info = (
            jax.tree_util.tree_map(lambda *x: jnp.stack(x), *outputs))
        reset = info["elapsed_step"] == 0
        # a game over on the time-limit step is terminal: Atari says so in info["terminated"]
        terminated = terminated.astype(bool) | info["terminated"].astype(bool)
        reward = reward.astype(jnp.float32)
        lives = info["lives"].astype(jnp.int32)
        if KINDS[self.kind].ram:
            obs = info["ram"].astype(jnp.uint8)
        frame = obs[:, :, -1] if self.spec.frame_stack > 1 else obs
        tally = count(jnp, Tally(state.score, state.length), reward, reset)
        step = make_step(jnp, obs, frame, reward, terminated, truncated.astype(bool),
                         lives_lost(lives, state.lives, reset), reset, tally)
        return state.replace(lives=lives, score=tally.score, length=tally.length), step

    def close(self) -> None:
        for env in self.envs:
            env.close()

