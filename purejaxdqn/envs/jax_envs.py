"""JAX-native environments: a family's adapter makes one env's pure functions (a
`JaxGame`), and `batch_game` turns them into a batch of N envs,

    state, step = reset(key)
    state, step = step(state, actions)

whose `step` is the same `env_step.EnvStep` record the envpool wrapper gives, with
envpool's auto-reset convention, so the agent and the replay cannot tell the two
backends apart:

* a step that ends a game (`terminated`, or `truncated` at `max_episode_steps`)
  returns the game's last observation; the *next* `step` ignores its action,
  resets that env and returns the new game's first observation with reward 0 and
  `reset = first = True`. (gymnax's own `step` resets in the same call and
  returns the new game's observation; its adapter calls `step_env`/`reset_env`
  instead so the replay keeps the terminal observation and its flags, as with envpool.)
* the time limit is ours (`max_episode_steps`): an adapter's own is set out of reach,
  so a game over on the limit step is `terminated`, never `truncated`.
* sticky actions (MinAtar's default 0.1, Machado et al.): with probability p the
  env repeats its previous action instead of the agent's, drawn per env per step;
  the previous action carries over a reset, as in the original MinAtar.

`gymnax_game` is the adapter of gymnax's envs (CartPole, Acrobot, the MinAtar games:
all 6 actions with `full_action_space`, Young & Tian's setting, else gymnax's minimal
set per game). Which env uses which adapter is its entry in the env table
(envs/table.py), where any other family's adapter goes too.

Everything, RNG included, is in the state pytree, so a run can be saved and resumed
bit-exactly and the whole loop can live inside `jit` (see engines/fused.py).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.config import Config
from purejaxdqn.envs.step import EnvSpec, EnvStep, Tally, count, make_step

UNREACHABLE = 2**30  # a step count no game reaches: an adapter's own time limit, switched off


class JaxGame(NamedTuple):
    """One env of a JAX family as pure functions, what an adapter makes from a Config.
    `obs` is what the agent sees (the adapter converts the family's own); `state` any
    pytree. `ends_after`: agent steps after which the game itself ends, a termination
    (no bootstrap), as Freeway's clock does in the original MinAtar."""

    reset: Callable[[jax.Array], tuple[Any, Any]]  # key -> (obs, state)
    # (key, state, action) -> (obs, state, reward, terminated)
    step: Callable[[jax.Array, Any, jax.Array], tuple[Any, Any, Any, Any]]
    num_actions: int
    ends_after: int = UNREACHABLE


def gymnax_game(gymnax_id: str, grid: bool = False,
                ends_after: int = UNREACHABLE) -> Callable[[Config], JaxGame]:
    """The adapter of gymnax env `gymnax_id`. `grid`: a MinAtar game, whose (10, 10, C)
    0/1 floats become (C, 10, 10) bytes, channels first like envpool's stacks (the replay
    stores bytes, the torso scales them), with all 6 actions if `full_action_space`."""

    def make(config: Config) -> JaxGame:
        import gymnax

        options = {"use_minimal_action_set": not config.full_action_space} if grid else {}
        env, params = gymnax.make(gymnax_id, **options)
        params = params.replace(max_steps_in_episode=UNREACHABLE)  # ours applies
        observe = _grid_bytes if grid else _floats

        def reset(key):
            obs, state = env.reset_env(key, params)
            return observe(obs), state

        def step(key, state, action):
            obs, state, reward, terminated, _ = env.step_env(key, state, action, params)
            return observe(obs), state, reward, terminated

        return JaxGame(reset, step, int(env.action_space(params).n), ends_after)

    return make


def _grid_bytes(obs: jax.Array) -> jax.Array:
    return jnp.transpose(obs, (2, 0, 1)).astype(jnp.uint8)


def _floats(obs: jax.Array) -> jax.Array:
    return obs.astype(jnp.float32)


@flax.struct.dataclass
class JaxEnvState:
    inner: Any  # the family's env states, [N, ...]
    key: jax.Array
    needs_reset: jax.Array  # [N] bool: the last step ended a game; the next one resets
    prev_action: jax.Array  # [N] int32, for sticky actions
    score: jax.Array  # [N] float32, raw return of the game in progress
    length: jax.Array  # [N] int32, agent steps of the game in progress


class JaxEnv(NamedTuple):
    spec: EnvSpec
    reset: Callable[[jax.Array], tuple[JaxEnvState, EnvStep]]
    step: Callable[[JaxEnvState, jax.Array], tuple[JaxEnvState, EnvStep]]


def batch_game(game: JaxGame, kind: str, name: str, num_envs: int, max_episode_steps: int,
               sticky_action_prob: float) -> JaxEnv:
    """`num_envs` copies of `game` (env `name` of `kind`) as a JaxEnv (pure, unjitted:
    the caller jits)."""
    example = jax.eval_shape(lambda k: game.reset(k)[0], jax.random.PRNGKey(0))
    spec = EnvSpec(kind=kind, envpool_id=name, game=name, num_actions=game.num_actions,
                   obs_shape=tuple(example.shape), obs_dtype=np.dtype(example.dtype).type,
                   frame_stack=1)
    reset_one, step_one = jax.vmap(game.reset), jax.vmap(game.step)
    sticky = float(sticky_action_prob)

    def reset(key: jax.Array) -> tuple[JaxEnvState, EnvStep]:
        key, reset_key = jax.random.split(key)
        obs, inner = reset_one(jax.random.split(reset_key, num_envs))
        zeros = jnp.zeros(num_envs, bool)
        state = JaxEnvState(inner=inner, key=key, needs_reset=zeros,
                            prev_action=jnp.zeros(num_envs, jnp.int32),
                            score=jnp.zeros(num_envs, jnp.float32),
                            length=jnp.zeros(num_envs, jnp.int32))
        return state, _record(obs, jnp.zeros(num_envs), zeros, zeros, ~zeros,
                              Tally(state.score, state.length))

    def step(state: JaxEnvState, actions: jax.Array) -> tuple[JaxEnvState, EnvStep]:
        key, step_key, reset_key, sticky_key = jax.random.split(state.key, 4)
        actions = actions.astype(jnp.int32)
        if sticky > 0:
            repeat = jax.random.uniform(sticky_key, (num_envs,)) < sticky
            actions = jnp.where(repeat, state.prev_action, actions)
        stepped = step_one(jax.random.split(step_key, num_envs), state.inner, actions)
        fresh = reset_one(jax.random.split(reset_key, num_envs))
        limits = (game.ends_after, max_episode_steps)
        return _advance(state.replace(key=key), actions, stepped, fresh, limits)

    return JaxEnv(spec=spec, reset=reset, step=step)


def _advance(state: JaxEnvState, actions: jax.Array, stepped: tuple, fresh: tuple,
             limits: tuple[int, int]) -> tuple[JaxEnvState, EnvStep]:
    """The batch after one step: `stepped` where a game goes on, `fresh` (a new game's
    first observation and state) in the envs whose last step ended a game."""
    (obs_s, inner_s, reward, terminated), (obs_r, inner_r) = stepped, fresh
    ends_after, max_episode_steps = limits
    reset = state.needs_reset  # this step is the auto-reset one: the action is ignored
    pick = lambda r, s: jnp.where(  # noqa: E731 - per-env select over state leaves
        reset.reshape((-1,) + (1,) * (r.ndim - 1)), r, s)
    inner = jax.tree_util.tree_map(pick, inner_r, inner_s)
    obs = jax.tree_util.tree_map(pick, obs_r, obs_s)
    reward = jnp.where(reset, 0.0, reward.astype(jnp.float32))
    tally = count(jnp, Tally(state.score, state.length), reward, reset)
    terminated = ~reset & (terminated.astype(bool) | (tally.length >= ends_after))
    truncated = ~reset & ~terminated & (tally.length >= max_episode_steps)
    new_state = state.replace(inner=inner, needs_reset=terminated | truncated,
                              prev_action=jnp.where(reset, state.prev_action, actions),
                              score=tally.score, length=tally.length)
    return new_state, _record(obs, reward, terminated, truncated, reset, tally)


def _record(obs, reward, terminated, truncated, reset, tally: Tally) -> EnvStep:
    """The EnvStep of a JAX env: the whole observation is the frame; no lives."""
    return make_step(jnp, obs, obs, reward.astype(jnp.float32), terminated, truncated,
                     jnp.zeros_like(reset), reset, tally)


def env_key(env_seed: int) -> jax.Array:
    """The RNG key of a batch of JAX envs whose envpool twin would get `env_seed`."""
    return jax.random.PRNGKey(env_seed)


class JaxEnvGroup:
    """A JAX env behind envs.EnvGroup's interface, for the host engine: one batch of
    envs per seed, all seeds stepped by one jitted call. The state stays on the
    device; `recv` hands the host numpy arrays, as envpool does."""

    def __init__(self, env: JaxEnv, env_seeds: list[int]):
        self.env = env
        self.spec = env.spec
        self.env_seeds = list(env_seeds)
        self._reset = jax.jit(jax.vmap(env.reset))
        self._step = jax.jit(jax.vmap(env.step))
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
