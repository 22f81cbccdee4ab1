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

Scores are tracked per full game from the unclipped reward.
"""

from __future__ import annotations

import difflib
import functools
import warnings

import numpy as np

from purejaxdqn.config import SEED_BLOCK, Config, ConfigError
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.observations import make_obs_transform
from purejaxdqn.envs.step import EnvSpec, EnvStep, Tally, count, lives_lost, make_step

# envpool's vector envs declare float64 bounds on float32 spaces; gymnasium warns on every make.
warnings.filterwarnings("ignore", message=".*precision lowered by casting.*")

VECTOR_ENVS = ("CartPole-v1", "CartPole-v0", "Acrobot-v1", "MountainCar-v0",
               "LunarLander-v3", "LunarLander-v2")




@functools.lru_cache(maxsize=1)
def _envpool_ids() -> tuple[str, ...]:
    import envpool

    return tuple(envpool.list_all_envs())


@functools.lru_cache(maxsize=1)
def atari_games() -> tuple[str, ...]:
    """Game names as envpool registers them ("Breakout" for "Breakout-v5")."""
    from envpool.atari.registration import atari_game_list

    camel = ("".join(part.capitalize() for part in g.split("_")) for g in atari_game_list)
    return tuple(sorted(g for g in camel if f"{g}-v5" in _envpool_ids()))


def resolve_env_id(env_id: str) -> tuple[str, str, str]:
    """Map a user name to (kind, envpool id, game); raise ConfigError with close matches.

    Accepts "Breakout", "breakout", "Breakout-v5", "Breakout-ram", "CartPole-v1", ...
    and the JAX-only MinAtar games ("Breakout-MinAtar": kind "minatar", see jax_envs.py).
    """
    from purejaxdqn.envs.jax_envs import GYMNAX_ENVS, gymnax_name

    jax_name = gymnax_name(env_id)
    if jax_name is not None and not KINDS[GYMNAX_ENVS[jax_name][1]].envpool:
        return "minatar", jax_name, jax_name
    name = env_id.strip()
    ram = False
    for suffix in ("-ram-v5", "-ram"):
        if name.lower().endswith(suffix):
            name, ram = name[: -len(suffix)], True
    # A vector env with a JAX implementation needs no envpool lookup (importing envpool
    # costs ~0.6 s, the whole set-up of a short fused run).
    if name in VECTOR_ENVS and not ram and (jax_name is not None or name in _envpool_ids()):
        return "vector", name, name
    game = name[:-3] if name.endswith("-v5") else name
    by_lower = {g.lower(): g for g in atari_games()}
    if game.lower() in by_lower:
        game = by_lower[game.lower()]
        return ("atari_ram" if ram else "atari"), f"{game}-v5", game
    known = list(atari_games()) + [v for v in VECTOR_ENVS if v in _envpool_ids()] + \
        [n for n, (_, k) in GYMNAX_ENVS.items() if k == "minatar"]
    close = difflib.get_close_matches(env_id, known, n=3, cutoff=0.5)
    close += [k for k in known if env_id.lower() in k.lower() and k not in close][:3]
    hint = f"; did you mean {', '.join(close[:3])}?" if close else \
        "; try an Atari game name like Breakout or Pong, or CartPole-v1"
    raise ConfigError(f"unknown environment {env_id!r}{hint}")


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
    from purejaxdqn.envs.jax_envs import has_jax_env, make_jax_env

    kind, envpool_id, _ = resolve_env_id(config.env_id)
    if not KINDS[kind].envpool or has_jax_env(config):
        # the JAX env where there is one: the same layout, without importing envpool
        spec = make_jax_env(config, 1, 1).spec
        return spec.frame_shape, spec.obs_dtype, spec.frame_stack
    import envpool

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        space = envpool.make_spec(envpool_id, **_envpool_options(
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
        self.kind, envpool_id, self.game = resolve_env_id(config.env_id)
        self.num_envs = num_envs
        self._env = make_envpool(config, envpool_id, self.kind, num_envs, seed,
                                  max_episode_steps)
        obs_shape, obs_dtype, stack = obs_layout(self.kind, self._env.observation_space)
        self._transform = make_obs_transform(config, obs_shape[1:]) \
            if host_transform and KINDS[self.kind].pixels else None
        if self._transform is not None:
            obs_shape = (stack,) + self._transform.shape
        self.spec = EnvSpec(self.kind, envpool_id, self.game, int(self._env.action_space.n),
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
        # CartPole's own failure rule is checked on the final observation.
        terminated = np.asarray(terminated, bool)
        if "terminated" in info:
            terminated = terminated | np.asarray(info["terminated"], bool)
        elif self.spec.envpool_id.startswith("CartPole"):
            terminated = terminated | (np.asarray(truncated, bool) & _cartpole_failed(obs))
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


def _cartpole_failed(obs: np.ndarray) -> np.ndarray:
    """CartPole's game-over rule (gymnasium, envpool): cart beyond 2.4 or pole beyond 12°."""
    obs = np.asarray(obs)
    return (np.abs(obs[:, 0]) > 2.4) | (np.abs(obs[:, 2]) > 12 * 2 * np.pi / 360)


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
