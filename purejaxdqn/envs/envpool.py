"""Environments: envpool Atari with the Nature settings, Atari RAM, and vector envs.

Everything the learner needs from one env iteration is an `EnvStep` of numpy
arrays. The wrapper turns envpool's auto-reset and lives counter into the
explicit flags the replay buffer stores (see `replay.Timestep`):

* `reset`: this observation came from an auto-reset step (envpool ignored the
  previous action), detected by `elapsed_step == 0`;
* `first`: the frame stack restarts here (same as `reset`: we run envpool with
  `episodic_life=False`, so resets only happen at real game ends);
* `life_lost`: the lives counter dropped on this step. The game goes on and the
  frame stack continues; the learner may cut its bootstrap here.

Scores are tracked per full game from the unclipped reward. Which envs envpool has,
and by what id, is each env's entry in the env table (envs/table.py).
"""

from __future__ import annotations

import warnings

import numpy as np

from purejaxdqn.config import SEED_BLOCK, Config, ConfigError
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.observations import make_obs_transform
from purejaxdqn.envs.step import EnvSpec, EnvStep, Tally, count, lives_lost, make_step
from purejaxdqn.envs.table import EnvEntry, env_entry, make_jax_env

# envpool's vector envs declare float64 bounds on float32 spaces; gymnasium warns on every make.
warnings.filterwarnings("ignore", message=".*precision lowered by casting.*")


def envpool_entry(env_id: str) -> EnvEntry:
    """The table's entry of `env_id`; a one-line ConfigError if envpool lacks the env."""
    entry = env_entry(env_id)
    if entry.envpool is None:
        raise ConfigError(f"envpool has no {entry.name}: only its JAX env runs it (the "
                          "fused engine, or the host engine with a JAX env)")
    return entry


def make_envpool(config: Config, envpool_id: str, kind: str, num_envs: int, seed: int,
                  max_episode_steps: int):
    import envpool

    kwargs = _envpool_options(config, kind, num_envs, seed, max_episode_steps)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return envpool.make(envpool_id, env_type="gymnasium", **kwargs)


def _envpool_options(config: Config, kind: str, num_envs: int, seed: int,
                     max_episode_steps: int) -> dict:
    """envpool's options for our settings: one place for both the envs and their spec."""
    kwargs = dict(num_envs=num_envs, seed=seed)
    if KINDS[kind].atari:
        kwargs.update(
            episodic_life=False,  # we detect lives ourselves: no extra resets mid-game
            reward_clip=False,  # clipping happens in the learner; scores stay raw
            noop_max=max(config.noop_max, 1),  # envpool needs >= 1 (1 means no no-ops)
            repeat_action_probability=config.sticky_action_prob,
            full_action_space=config.full_action_space,
            use_fire_reset=config.fire_reset,
            max_episode_steps=max_episode_steps,
        )
        if KINDS[kind].pixels:  # frame size and stack (notes 002 and 004 change them)
            kwargs.update(img_height=config.frame_size[0], img_width=config.frame_size[1],
                          stack_num=config.frame_stack)
    else:
        kwargs.update(max_episode_steps=max_episode_steps)
    return kwargs


def obs_layout(kind: str, space) -> tuple[tuple[int, ...], type, int]:
    """(agent obs shape, dtype, frames stacked) from envpool's observation space."""
    if KINDS[kind].ram:
        return (128,), np.uint8, 1
    if KINDS[kind].pixels:
        return tuple(space.shape), np.uint8, space.shape[0]
    return tuple(space.shape), np.float32, 1


def frame_layout(config: Config) -> tuple[tuple[int, ...], type, int]:
    """(replay frame shape, dtype, frames stacked) for `config.env_id`, read from
    envpool's spec without starting any env (for memory estimates)."""
    entry = env_entry(config.env_id)
    if entry.jax is not None:
        # the JAX env where there is one: the same layout, without importing envpool
        spec = make_jax_env(config, 1, 1).spec
        return spec.frame_shape, spec.obs_dtype, spec.frame_stack
    import envpool

    kind = entry.kind
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = envpool.make_spec(entry.envpool, **_envpool_options(
            config, kind, config.num_envs, 0, config.max_episode_steps)).observation_space
    obs_shape, dtype, stack = obs_layout(kind, space)
    frame_shape = obs_shape[1:] if stack > 1 else obs_shape
    # The replay stores frames after the configured crop/resize, wherever it runs
    # (env wrapper or `act`): 80x80 for note 002's agent, not envpool's 210x160.
    transform = make_obs_transform(config, frame_shape) if KINDS[kind].pixels else None
    return (transform.shape if transform else frame_shape), dtype, stack


class VecEnv:
    """A batch of envpool envs behind a send/recv interface.

    `send(actions)` starts the step on envpool's threads and returns at once, so
    the caller can dispatch device work before `recv()` collects the result.
    """

    def __init__(self, config: Config, num_envs: int, seed: int, max_episode_steps: int,
                 host_transform: bool = False):
        """`host_transform`: apply the configured crop/resize (observations.py) here, in
        numpy; otherwise the agent applies it on device and `spec` is the raw frame's."""
        entry = envpool_entry(config.env_id)
        self.kind, self.game, self._game_over = entry.kind, entry.game, entry.game_over
        self.num_envs = num_envs
        self._env = make_envpool(config, entry.envpool, self.kind, num_envs, seed,
                                  max_episode_steps)
        obs_shape, obs_dtype, stack = obs_layout(self.kind, self._env.observation_space)
        self._transform = make_obs_transform(config, obs_shape[1:]) \
            if host_transform and KINDS[self.kind].pixels else None
        if self._transform is not None:
            obs_shape = (stack,) + self._transform.shape
        self.spec = EnvSpec(self.kind, entry.envpool, self.game, int(self._env.action_space.n),
                            obs_shape, obs_dtype, stack)
        self._lives = np.zeros(num_envs, np.int64)
        self._tally = Tally(np.zeros(num_envs, np.float64), np.zeros(num_envs, np.int64))
        self._env_ids = np.arange(num_envs, dtype=np.int32)

    def reset(self) -> EnvStep:
        obs, info = self._env.reset()
        zeros = np.zeros(self.num_envs, bool)
        return self._to_step(obs, np.zeros(self.num_envs, np.float32), zeros, zeros, info)

    def send(self, actions: np.ndarray) -> None:
        self._env.send(np.asarray(actions, np.int32), self._env_ids)

    def recv(self) -> EnvStep:
        obs, reward, terminated, truncated, info = self._env.recv()
        return self._to_step(obs, reward, terminated, truncated, info)

    def step(self, actions: np.ndarray) -> EnvStep:
        self.send(actions)
        return self.recv()

    def close(self) -> None:
        self._env.close()

    def _to_step(self, obs, reward, terminated, truncated, info) -> EnvStep:
        reset = np.asarray(info["elapsed_step"]) == 0
        # envpool reports a game that ends on the time-limit step as truncated only;
        # a real game over wins (no bootstrap): Atari says so in info["terminated"],
        # an env with its own game-over rule (CartPole's) has it checked on the final
        # observation.
        terminated = np.asarray(terminated, bool)
        if "terminated" in info:
            terminated = terminated | np.asarray(info["terminated"], bool)
        elif self._game_over is not None:
            terminated = terminated | (np.asarray(truncated, bool) & self._game_over(obs))
        reward = np.asarray(reward, np.float32)
        if not KINDS[self.kind].lives:
            life_lost = np.zeros(self.num_envs, bool)
        else:
            lives = np.asarray(info["lives"])
            life_lost = lives_lost(lives, self._lives, reset)
            self._lives = lives
        if KINDS[self.kind].ram:
            obs = np.asarray(info["ram"], np.uint8)
        if self._transform is not None:
            obs = self._transform.apply(obs)
        # newest frame of the stack (a single-frame input is stored whole)
        frame = obs[:, -1] if self.spec.frame_stack > 1 else obs
        self._tally = count(np, self._tally, reward, reset)
        return make_step(np, obs, frame, reward, terminated, np.asarray(truncated, bool),
                         life_lost, reset, self._tally)


# Env seeds. envpool seeds env i of a batch as `seed + i`, so batches seeded with
# nearby integers share games. Seed s therefore owns the block
# [s * SEED_BLOCK, (s + 1) * SEED_BLOCK): training envs in the lower half (segment r,
# the r-th set of fresh envs after r non-exact resumes, takes the r-th run of
# num_envs seeds), evaluation envs in the upper half (evaluation k takes the k-th run
# of its env count, wrapping within the half). No two seeds, and no training and
# evaluation env, ever share an env seed.
def env_seed(seed: int, num_envs: int, purpose: str = "train", index: int = 0) -> int:
    """First envpool seed of batch `index` for `purpose` ("train" or "eval") of `seed`."""
    half = SEED_BLOCK // 2
    runs = half // num_envs  # batches of num_envs that fit in one half
    if purpose == "train":
        if index >= runs:
            raise ConfigError(f"no fresh training env seeds left after {index} resumes")
        offset = index * num_envs
    elif purpose == "eval":
        offset = half + (index % runs) * num_envs
    else:
        raise ValueError(f"unknown env seed purpose {purpose!r}")
    return seed * SEED_BLOCK + offset


def make_env(config: Config, seed: int | None = None) -> VecEnv:
    """The training env: `config.num_envs` envs, training time limit, env seeds from
    `config.seed`'s block (or exactly `seed` if given)."""
    if seed is None:
        seed = env_seed(config.seed, config.num_envs)
    return VecEnv(config, config.num_envs, seed, config.max_episode_steps,
                  host_transform=config.obs_transform_on == "host")


class EnvGroup:
    """One training VecEnv per seed, stepped together (seed s's envs take s's env
    seeds, exactly as in a single-seed run, so side-by-side seeds reproduce separate
    runs). `segment` > 0: the fresh envs of a non-exact resume (see `env_seed`)."""

    def __init__(self, config: Config, seeds: tuple[int, ...], segment: int = 0):
        self.env_seeds = [env_seed(s, config.num_envs, "train", segment) for s in seeds]
        self.envs = [make_env(config, seed=e) for e in self.env_seeds]
        self.spec = self.envs[0].spec

    def reset(self) -> list[EnvStep]:
        return [env.reset() for env in self.envs]

    def send(self, actions: np.ndarray) -> None:  # actions [S, N]
        for env, a in zip(self.envs, actions):
            env.send(a)

    def recv(self) -> list[EnvStep]:
        return [env.recv() for env in self.envs]

    def step(self, actions: np.ndarray) -> list[EnvStep]:
        self.send(actions)
        return self.recv()

    def close(self) -> None:
        for env in self.envs:
            env.close()


def make_eval_env(config: Config, num_envs: int, seed: int) -> VecEnv:
    """Nature evaluation env: same game settings, 18,000-frame (4,500-step) cap."""
    # crop/resize on the host here whatever obs_transform_on says: the evaluation policy
    # is the bare network (the result is the same gather either way)
    return VecEnv(config, num_envs, seed, config.eval_max_episode_steps, host_transform=True)
