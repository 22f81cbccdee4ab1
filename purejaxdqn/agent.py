"""The DQN agent: components composed into two jitted device functions.

* `act(state, env_step) -> (state, actions)` stores the step just observed in
  the replay and picks the next actions with the policy part (epsilon-greedy);
* `learn(state) -> (state, metrics)` runs the gradient updates owed at the
  replay ratio: sample, update, (prioritized) re-weight. The updates are
  unrolled, not `lax.scan`ned: XLA:CPU runs convolution gradients inside a
  loop about 8x slower (measured: 3.9 vs 30 Nature-CNN updates/s at 8 envs).

They are separate so the host can send actions to the envs *before* the
updates run: envpool steps on its threads while the device learns.

Both are `vmap`ped over a leading **seed axis**: independent agents (params,
optimizer, replay, RNG) train side by side in one process, one per seed, each
with its own envs. A single-seed run is the same code with an axis of size 1.
`learn` draws every seed's batch at once and may run the updates in groups of
seeds (`over_seed_groups`; one seed at a time where vmapped convolutions are slow).
With several local devices the seed axis can be sharded across them
(`seed_axis.seed_sharding`): the same compiled program, each device running its seeds.
"""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn import replay as replay_lib
from purejaxdqn.components.networks import Network
from purejaxdqn.config import Config, ConfigError, learning_cadence
from purejaxdqn.envs.envpool import EnvSpec, EnvStep
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.observations import ObsTransform, make_obs_transform
from purejaxdqn.learner import TrainState, init_train_state, make_update
from purejaxdqn.parts import Parts, build
from purejaxdqn.seed_axis import auto_seed_group, over_seed_groups

_FLAGS = replay_lib.FLAGS


@flax.struct.dataclass
class AgentState:
    learner: TrainState
    replay: Any  # replay.ReplayState


class AgentFns(NamedTuple):
    """The same functions unjitted, for engines to compose in a larger jit
    (engines/fused.py loops them together with a JAX env): `init` and `act` for ONE
    seed (vmap them), the two learns over the seed axis [S, ...] already (they choose
    how the seeds' updates are grouped, see `over_seed_groups`)."""

    init: Callable[[jax.Array], AgentState]
    act: Callable[[AgentState, EnvStep], tuple[AgentState, jax.Array]]
    learn_seeds: Callable[[AgentState], tuple[AgentState, dict]]
    learn_seeds_masked: Callable[[AgentState, jax.Array], tuple[AgentState, dict]]


class Agent(NamedTuple):
    """Jitted functions over states with a leading seed axis [S, ...]."""

    init: Callable[[jax.Array], AgentState]  # keys [S, 2] -> state
    act: Callable[[AgentState, EnvStep], tuple[AgentState, jax.Array]]  # inputs [S, N, ...]
    learn: Callable[[AgentState], tuple[AgentState, dict]]
    network: Network
    updates_per_learn: int  # gradient updates in one `learn` call
    iterations_per_learn: int  # env iterations between `learn` calls
    # Episode-driven rules (note 003): `learn` for the seeds where active [S] is True only,
    # and the host-side rule saying which seeds learn in an env iteration (see `learn_due`).
    learn_masked: Callable[[AgentState, jax.Array], tuple[AgentState, dict]] | None = None
    learn_due: Callable[..., np.ndarray | None] | None = None
    fns: AgentFns | None = None
    settings: "AgentSettings | None" = None  # what it was assembled with


def step_input(env_steps) -> EnvStep:
    """Stack the env steps of each seed (a list of envs.EnvStep) along a seed axis."""
    return EnvStep(*(np.stack(field) for field in zip(*env_steps)))


@dataclasses.dataclass(frozen=True)
class AgentSettings:
    """The run's settings the agent reads, as plain values resolved once from the Config
    (`of`); the components come separately, built (parts.Parts)."""

    num_envs: int
    capacity_per_env: int
    batch_size: int
    n_step: int
    gamma: float
    life_loss_terminal: bool
    reward_clip: bool
    reward_scale: float
    by_episodes: bool  # learn after finished episodes (note 003), else every k agent steps
    updates_per_learn: int  # gradient updates in one `learn` call
    iterations_per_learn: int  # env iterations between `learn` calls
    seed_group: int = 0  # seeds whose updates are vmapped together (0: all), see over_seed_groups

    @classmethod
    def of(cls, config: Config) -> "AgentSettings":
        updates, iterations = learning_cadence(config)
        return cls(num_envs=config.num_envs, capacity_per_env=config.capacity_per_env,
                   batch_size=config.batch_size, n_step=config.n_step, gamma=config.gamma,
                   life_loss_terminal=config.life_loss_terminal,
                   reward_clip=config.reward_clip, reward_scale=config.reward_scale,
                   by_episodes=config.update_trigger == "episodes",
                   updates_per_learn=updates, iterations_per_learn=iterations,
                   seed_group=config.seed_group)


def make_due_mask(settings: AgentSettings) -> Callable:
    """`due(xp, iteration, steps, learning_starts, ended) -> [S] bool`: which seeds learn in
    env iteration `iteration` (1-based), with `steps` agent steps taken before it and
    `ended` [S, N] the episode ends of the step `act` stores in it. `xp` is numpy (host
    loop) or jax.numpy (fused loop): one rule for both engines.

    By steps: every seed every `iterations_per_learn` iterations once past warm-up (Nature).
    By episodes: the seeds whose stored step ended an episode, once past warm-up (note 003).
    """

    def due(xp, iteration, steps, learning_starts, ended):
        past_warmup = steps + settings.num_envs > learning_starts
        if settings.by_episodes:
            return xp.any(ended, axis=-1) & past_warmup
        return xp.broadcast_to((iteration % settings.iterations_per_learn == 0) & past_warmup,
                               ended.shape[:1])

    return due


def make_agent(config: Config, spec: EnvSpec, sharding=None) -> Agent:
    """The agent for `config` on envs of `spec`: the observation crop (on device), then
    the parts built once from the config (parts.build), assembled by `assemble_agent`."""
    # Crop/resize on device (note 002): the env gives raw frames, `act` shrinks them before
    # the network and the replay see them; with obs_transform_on="host" the env did it.
    transform = make_obs_transform(config, spec.obs_shape[1:]) \
        if config.obs_transform_on == "device" and KINDS[spec.kind].pixels else None
    if transform is not None:
        spec = dataclasses.replace(spec, obs_shape=(spec.obs_shape[0],) + transform.shape)
    parts = build(config, spec.num_actions, spec.obs_shape, spec.obs_dtype)
    if parts.augmentation is not None and len(spec.obs_shape) != 3:
        raise ConfigError(f"augmentation {config.augmentation!r} needs stacked image "
                          f"observations, got shape {spec.obs_shape}")
    settings = AgentSettings.of(config)
    if config.seed_group == 0:  # auto
        settings = dataclasses.replace(
            settings, seed_group=auto_seed_group(parts.network, spec, sharding))
    return assemble_agent(parts, settings, spec, transform, sharding)


def replay_params(settings: AgentSettings, frame_stack: int,
                  sampling: Any) -> replay_lib.ReplayParams:
    """The replay's static parameters for these settings (the agent's, and the memory
    preflight's, which sizes the replay before any env exists)."""
    return replay_lib.ReplayParams(
        capacity_per_env=settings.capacity_per_env, num_envs=settings.num_envs,
        batch_size=settings.batch_size, frame_stack=frame_stack, n_step=settings.n_step,
        gamma=settings.gamma, life_loss_terminal=settings.life_loss_terminal,
        prioritized=sampling.prioritized, alpha=sampling.alpha, eps=sampling.eps)


def assemble_agent(parts: Parts, settings: AgentSettings, spec: EnvSpec,
                   transform: ObsTransform | None = None, sharding=None) -> Agent:
    """The agent from ready parts and plain settings (no Config, no component names).
    `transform`: the observation crop `act` applies first (spec is the cropped one).
    `sharding` (from `seed_axis.seed_sharding`) places every state leaf, input and output,
    all of which lead with the seed axis, on that sharding; None: one device."""
    params = replay_params(settings, spec.frame_stack, parts.sampling)
    init = _make_init(parts, spec, params)
    act = _make_act(parts, settings, params, transform)
    learn_seeds, learn_seeds_masked = _make_learn(parts, settings, params)
    placed = {} if sharding is None else {"in_shardings": sharding, "out_shardings": sharding}
    return Agent(
        init=jax.jit(jax.vmap(init), **placed),
        act=jax.jit(jax.vmap(act), donate_argnums=0, **placed),
        learn=jax.jit(learn_seeds, donate_argnums=0, **placed),
        network=parts.network,
        updates_per_learn=settings.updates_per_learn,
        iterations_per_learn=settings.iterations_per_learn,
        learn_masked=jax.jit(learn_seeds_masked, donate_argnums=0, **placed),
        learn_due=_make_learn_due(settings),
        fns=AgentFns(init=init, act=act, learn_seeds=learn_seeds,
                     learn_seeds_masked=learn_seeds_masked),
        settings=settings,
    )


def _make_init(parts: Parts, spec: EnvSpec, params: replay_lib.ReplayParams) -> Callable:
    """init(key) -> one seed's AgentState: fresh learner, empty replay."""
    num_envs = params.num_envs

    def init(key: jax.Array) -> AgentState:
        example_obs = jnp.zeros((1,) + spec.obs_shape, spec.obs_dtype)
        example = replay_lib.Timestep(
            obs=jnp.zeros((num_envs,) + spec.frame_shape, spec.obs_dtype),
            action=jnp.zeros(num_envs, jnp.int32),
            reward=jnp.zeros(num_envs, jnp.float32),
            **{f: jnp.zeros(num_envs, bool) for f in _FLAGS})
        return AgentState(
            learner=init_train_state(key, parts.network, parts.optimizer, example_obs),
            replay=replay_lib.init(params, example))

    return init


def _make_act(parts: Parts, settings: AgentSettings, params: replay_lib.ReplayParams,
              transform: ObsTransform | None) -> Callable:
    """act(state, env step) -> (state, actions) for one seed: store the step, pick the
    next actions with the policy part."""
    num_envs = settings.num_envs

    def act(state: AgentState, inp: EnvStep) -> tuple[AgentState, jax.Array]:
        if transform is not None:
            inp = inp._replace(obs=transform.apply(inp.obs), frame=transform.apply(inp.frame))
        learner = state.learner
        key, act_key = jax.random.split(learner.key)
        # The step observed here ended these episodes; its obs is terminal, so the action
        # picked now is ignored by envpool's auto-reset and the new count applies from the
        # next episode's first step on.
        episodes = learner.episodes + jnp.sum(inp.terminated | inp.truncated).astype(jnp.int32)
        target_params = parts.target_update.on_episode(learner.params, learner.target_params,
                                                       learner.episodes, episodes)
        actions, _ = parts.policy(learner.params, inp.obs, act_key,
                                  parts.exploration.epsilon(learner.steps, episodes))
        # Rewards are clipped (then scaled) for learning only; the env wrapper keeps raw scores.
        reward = jnp.sign(inp.reward) if settings.reward_clip else inp.reward
        reward = reward * settings.reward_scale
        timestep = replay_lib.Timestep(
            obs=inp.frame, action=actions, reward=reward.astype(jnp.float32),
            **{f: getattr(inp, f) for f in _FLAGS})
        new_state = AgentState(
            learner=learner.replace(key=key, steps=learner.steps + num_envs,
                                    episodes=episodes, target_params=target_params),
            replay=replay_lib.add(params, state.replay, timestep))
        return new_state, actions

    return act


def _make_learn(parts: Parts, settings: AgentSettings,
                params: replay_lib.ReplayParams) -> tuple[Callable, Callable]:
    """(learn_seeds, learn_seeds_masked) over every seed: the updates owed per learn."""
    sampling = parts.sampling
    update = make_update(parts.network, parts.optimizer, parts.objective, parts.target_update,
                         parts.augmentation)

    def draw(state: AgentState) -> tuple[jax.Array, replay_lib.Batch]:
        """One seed's next batch, and its key after drawing it."""
        key, sample_key = jax.random.split(state.learner.key)
        batch = replay_lib.sample(params, state.replay, sample_key,
                                  sampling.beta(state.learner.steps))
        return key, batch

    # Every seed's batch is drawn at once; the updates run in groups of seeds (see
    # over_seed_groups): the replay is never sliced by seed, only params and batches.
    update_seeds = over_seed_groups(jax.vmap(update), settings.seed_group)
    reprioritize = jax.vmap(functools.partial(replay_lib.update_priorities, params))

    def learn_seeds(state: AgentState) -> tuple[AgentState, dict]:
        history = []  # unrolled on purpose, see the module docstring
        for _ in range(settings.updates_per_learn):
            keys, batch = jax.vmap(draw)(state)
            learner, metrics = update_seeds(state.learner.replace(key=keys), batch)
            replay, priority = state.replay, metrics.pop("priority")
            if sampling.prioritized:
                replay = reprioritize(replay, batch.index, priority)
            # logged metrics are one number per seed; per-sample diagnostics are not
            metrics = {name: m for name, m in metrics.items() if m.ndim == 1}
            state = AgentState(learner=learner, replay=replay)
            history.append(metrics)
        return state, jax.tree_util.tree_map(lambda *m: jnp.mean(jnp.stack(m), axis=0),
                                             *history)

    def learn_seeds_masked(state: AgentState, active: jax.Array) -> tuple[AgentState, dict]:
        """`learn_seeds` for the seeds where `active` [S] is True, the others' state
        unchanged (still computed: a select, not a branch)."""
        new_state, metrics = learn_seeds(state)

        def keep(new, old):
            return jnp.where(active.reshape(active.shape + (1,) * (new.ndim - 1)), new, old)

        return jax.tree_util.tree_map(keep, new_state, state), metrics

    return learn_seeds, learn_seeds_masked


def _make_learn_due(settings: AgentSettings) -> Callable:
    due_mask = make_due_mask(settings)

    def learn_due(iteration: int, steps: int, learning_starts: int, env_steps) -> np.ndarray | None:
        """Host rule: which seeds run `learn` in this env iteration ([S] bool), None if none.
        `env_steps` (one EnvStep per seed) is what `act` stores in this iteration."""
        ended = np.stack([s.terminated | s.truncated for s in env_steps])
        due = due_mask(np, iteration, steps, learning_starts, ended)
        return due if due.any() else None

    return learn_due
