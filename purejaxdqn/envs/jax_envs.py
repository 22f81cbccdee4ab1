"""JAX-native environments (gymnax): CartPole, Acrobot and the five MinAtar games.

A `JaxEnv` is a pair of pure functions over a batch of N envs,

    state, step = reset(key)
    state, step = step(state, actions)

whose `step` is the same `env_step.EnvStep` record the envpool wrapper gives, with
envpool's auto-reset convention, so the agent and the replay cannot tell the two
backends apart:

* a step that ends a game (`terminated`, or `truncated` at `max_episode_steps`)
  returns the game's last observation; the *next* `step` ignores its action,
  resets that env and returns the new game's first observation with reward 0 and
  `reset = first = True`. (gymnax's own `step` resets in the same call and
  returns the new game's observation; we call `step_env`/`reset_env` instead so
  the replay keeps the terminal observation and its flags, exactly as with envpool.)
* the time limit is ours (`max_episode_steps`): gymnax's is set out of reach, so
  a game over on the limit step is `terminated`, never `truncated`.
* sticky actions (MinAtar's default 0.1, Machado et al.): with probability p the
  env repeats its previous action instead of the agent's, drawn per env per step;
  the previous action carries over a reset, as in the original MinAtar.
* MinAtar's action set: all 6 actions with `full_action_space` (Young & Tian's
  setting), else gymnax's minimal set per game.

Everything, RNG included, is in the state pytree, so a run can be saved and resumed
bit-exactly and the whole loop can live inside `jit` (see engines/fused.py).
"""

from __future__ import annotations

import difflib
from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.step import EnvSpec, EnvStep, Tally, count, make_step

# our name -> (gymnax id, env kind); kind "minatar": a (C, 10, 10) 0/1 image
GYMNAX_ENVS = {
    "CartPole-v1": ("CartPole-v1", "vector"),
    "Acrobot-v1": ("Acrobot-v1", "vector"),
    "Asterix-MinAtar": ("Asterix-MinAtar", "minatar"),
    "Breakout-MinAtar": ("Breakout-MinAtar", "minatar"),
    "Freeway-MinAtar": ("Freeway-MinAtar", "minatar"),
    "Seaquest-MinAtar": ("Seaquest-MinAtar", "minatar"),
    "SpaceInvaders-MinAtar": ("SpaceInvaders-MinAtar", "minatar"),
}
_UNREACHABLE = 2**30  # gymnax's own time limit, out of reach: ours applies
# Games that END (terminal, no bootstrap) after a fixed number of steps in the original
# MinAtar: Freeway's clock starts at 2,500 and the game ends when it goes below 0, i.e.
# on the 2,501st step (kenjyoung/MinAtar minatar/environments/freeway.py:84-86). gymnax
# files it under its time limit (a truncation at 2,500); we keep the original's rule.
GAME_CLOCK = {"Freeway-MinAtar": 2_501}


def gymnax_name(env_id: str) -> str | None:
    """Our canonical name for `env_id` ("breakout-minatar", "MinAtar-Breakout", ...), or None."""
    key = env_id.strip().lower().replace("_", "-")
    if key.startswith("minatar-"):
        key = key[len("minatar-"):] + "-minatar"
    for name in GYMNAX_ENVS:
        if name.lower() == key:
            return name
    return None


def has_jax_env(config: Config) -> bool:
    """The env has a JAX implementation here (the fused engine can run it)."""
    return gymnax_name(config.env_id) is not None


def check_gymnax_env(env_id: str) -> str:
    """The canonical name, or a ConfigError naming close matches."""
    name = gymnax_name(env_id)
    if name is None:
        close = difflib.get_close_matches(env_id, list(GYMNAX_ENVS), n=3, cutoff=0.4)
        hint = f"; did you mean {', '.join(close)}?" if close else \
            f"; JAX envs: {', '.join(GYMNAX_ENVS)}"
        raise ConfigError(f"unknown JAX (gymnax) environment {env_id!r}{hint}")
    return name


@flax.struct.dataclass
class JaxEnvState:
    inner: Any  # gymnax env states, [N, ...]
    key: jax.Array
    needs_reset: jax.Array  # [N] bool: the last step ended a game; the next one resets
    prev_action: jax.Array  # [N] int32, for sticky actions
    score: jax.Array  # [N] float32, raw return of the game in progress
    length: jax.Array  # [N] int32, agent steps of the game in progress


class JaxEnv(NamedTuple):
    spec: EnvSpec
    reset: Callable[[jax.Array], tuple[JaxEnvState, EnvStep]]
    step: Callable[[JaxEnvState, jax.Array], tuple[JaxEnvState, EnvStep]]


def make_jax_env(config: Config, num_envs: int, max_episode_steps: int) -> JaxEnv:
    """`num_envs` copies of `config.env_id` as a JaxEnv (pure, unjitted: the caller jits)."""
    import gymnax

    name = check_gymnax_env(config.env_id)
    gymnax_id, kind = GYMNAX_ENVS[name]
    options = {"use_minimal_action_set": not config.full_action_space} \
        if KINDS[kind].grid else {}
    env, params = gymnax.make(gymnax_id, **options)
    params = params.replace(max_steps_in_episode=_UNREACHABLE)
    num_actions = int(env.action_space(params).n)
    sticky = float(config.sticky_action_prob)
    game_clock = GAME_CLOCK.get(name, _UNREACHABLE)

    def observe(obs):
        # MinAtar: (10, 10, C) floats in {0, 1} -> (C, 10, 10) bytes, channels first like
        # envpool's stacks (the replay stores bytes, the torso scales them)
        if KINDS[kind].grid:
            return jnp.transpose(obs, (2, 0, 1)).astype(jnp.uint8)
        return obs.astype(jnp.float32)

    example = jax.eval_shape(lambda k: observe(env.reset_env(k, params)[0]),
                             jax.random.PRNGKey(0))
    spec = EnvSpec(kind=kind, envpool_id=gymnax_id, game=name, num_actions=num_actions,
                   obs_shape=tuple(example.shape), obs_dtype=np.dtype(example.dtype).type,
                   frame_stack=1)
    reset_one = jax.vmap(lambda k: env.reset_env(k, params))
    step_one = jax.vmap(lambda k, s, a: env.step_env(k, s, a, params))
    zeros = jnp.zeros(num_envs, bool)

    def record(obs, reward, terminated, truncated, reset, tally):
        obs = jax.vmap(observe)(obs)
        return make_step(jnp, obs, obs, reward.astype(jnp.float32), terminated, truncated,
                         zeros, reset, tally)

    def reset(key: jax.Array) -> tuple[JaxEnvState, EnvStep]:
        key, reset_key = jax.random.split(key)
        obs, inner = reset_one(jax.random.split(reset_key, num_envs))
        state = JaxEnvState(inner=inner, key=key, needs_reset=zeros,
                            prev_action=jnp.zeros(num_envs, jnp.int32),
                            score=jnp.zeros(num_envs, jnp.float32),
                            length=jnp.zeros(num_envs, jnp.int32))
        ones = jnp.ones(num_envs, bool)
        return state, record(obs, jnp.zeros(num_envs), zeros, zeros, ones,
                             Tally(state.score, state.length))

    def step(state: JaxEnvState, actions: jax.Array) -> tuple[JaxEnvState, EnvStep]:
        key, step_key, reset_key, sticky_key = jax.random.split(state.key, 4)
        actions = actions.astype(jnp.int32)
        if sticky > 0:
            repeat = jax.random.uniform(sticky_key, (num_envs,)) < sticky
            actions = jnp.where(repeat, state.prev_action, actions)
        obs_s, inner_s, reward, terminated, _ = step_one(
            jax.random.split(step_key, num_envs), state.inner, actions)
        obs_r, inner_r = reset_one(jax.random.split(reset_key, num_envs))
        reset = state.needs_reset  # this step is the auto-reset one: the action is ignored
        pick = lambda r, s: jnp.where(  # noqa: E731 - per-env select over state leaves
            reset.reshape((-1,) + (1,) * (r.ndim - 1)), r, s)
        inner = jax.tree_util.tree_map(pick, inner_r, inner_s)
        obs = jax.tree_util.tree_map(pick, obs_r, obs_s)
        reward = jnp.where(reset, 0.0, reward.astype(jnp.float32))
        tally = count(jnp, Tally(state.score, state.length), reward, reset)
        terminated = ~reset & (terminated.astype(bool) | (tally.length >= game_clock))
        truncated = ~reset & ~terminated & (tally.length >= max_episode_steps)
        new_state = JaxEnvState(inner=inner, key=key, needs_reset=terminated | truncated,
                                prev_action=jnp.where(reset, state.prev_action, actions),
                                score=tally.score, length=tally.length)
        return new_state, record(obs, reward, terminated, truncated, reset, tally)

    return JaxEnv(spec=spec, reset=reset, step=step)


def env_key(env_seed: int) -> jax.Array:
    """The RNG key of a batch of JAX envs whose envpool twin would get `env_seed`."""
    return jax.random.PRNGKey(env_seed)


class JaxEnvGroup:
    """The JAX env behind envs.EnvGroup's interface, for the host engine: one batch of
    `num_envs` per seed, all seeds stepped by one jitted call. The state stays on the
    device; `recv` hands the host numpy arrays, as envpool does."""

    def __init__(self, config: Config, env_seeds: list[int], max_episode_steps: int):
        self.env = make_jax_env(config, config.num_envs, max_episode_steps)
        self.spec = self.env.spec
        self.env_seeds = list(env_seeds)
        self._reset = jax.jit(jax.vmap(self.env.reset))
        self._step = jax.jit(jax.vmap(self.env.step))
        self.state: JaxEnvState | None = None
        self._pending = None

    def reset(self) -> list[EnvStep]:
        self.state, steps = self._reset(jnp.stack([env_key(s) for s in self.env_seeds]))
        return per_seed(steps)

    def send(self, actions) -> None:  # actions [S, N]
        self.state, self._pending = self._step(self.state, jnp.asarray(actions))

    def recv(self) -> list[EnvStep]:
        return per_seed(self._pending)

    def step(self, actions) -> list[EnvStep]:
        self.send(actions)
        return self.recv()

    def close(self) -> None:
        pass


def per_seed(steps: EnvStep) -> list[EnvStep]:
    host = jax.device_get(steps)
    return [EnvStep(*(np.asarray(field[k]) for field in host)) for k in range(len(host.obs))]
