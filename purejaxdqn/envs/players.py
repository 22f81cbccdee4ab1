"""Players: one game at a time of an env kind, as the evaluation protocol plays it, with
the screen a person sees (for `purejaxdqn watch` and training videos).

* Atari: ale-py driven with envpool's own pipeline (`AtariPlayer`), so the network sees
  what it saw in training while the screen is the colour one;
* vector envs (CartPole, LunarLander, ...): gymnasium's env and renderer, the same
  dynamics envpool reimplements;
* MinAtar: the run's own JAX env, its 10x10 grid drawn one colour per object kind.

Which player shows an env, and with what action names, is the env's entry in the env
table (`EnvEntry.player`, envs/table.py). A new player plugs in with one function:
`PLAYERS[name] = make`, `make(config, seed, entry) -> Player`.
"""

from __future__ import annotations

import functools
import os
from collections import deque
from typing import Callable, Protocol

# pygame (gymnasium's renderer) must not look for a display or a sound card.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.observations import make_obs_transform
from purejaxdqn.envs.table import EnvEntry, env_entry, make_jax_env

ATARI_SCALE = 2  # each native Atari pixel drawn as a 2x2 block, so the panel's text is legible


class Player(Protocol):
    """One game at a time of one env kind, as the evaluation protocol plays it."""

    action_names: tuple[str, ...]
    fps: float  # real-time agent steps per second

    def reset(self) -> np.ndarray:  # a new game; the observation the network sees
        ...

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:  # obs, raw reward, game over
        ...

    def screen(self) -> np.ndarray:  # [H, W, 3] uint8, what a person sees now
        ...

    def close(self) -> None:
        ...


# --- Atari ------------------------------------------------------------------------
def area_resize(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """Area-average resize (OpenCV's INTER_AREA when shrinking, as envpool uses).

    Output pixel i along an axis of scale s = n_in / n_out averages the input over
    [i s, (i + 1) s), each input pixel weighted by its overlap: out = Wh img Ww^T.
    Colour images [H, W, 3] are resized channel by channel.
    """
    if image.ndim == 3:
        return np.stack([area_resize(image[..., c], height, width)
                         for c in range(image.shape[2])], axis=-1)
    if image.shape == (2 * height, 2 * width) and image.dtype == np.uint8:
        # OpenCV's fast path for an exact 2x shrink of bytes (note 004's 105x80): an
        # integer sum of each 2x2 block, rounded half up, (s + 2) >> 2; the float path
        # below would round half to even and differ by 1 on ties
        blocks = image.reshape(height, 2, width, 2).astype(np.uint16).sum(axis=(1, 3))
        return ((blocks + 2) >> 2).astype(np.uint8)
    # float32, columns first then rows: OpenCV's order, which matters for rounding
    index, weight = _area_weights(image.shape[1], width)
    rows = (image.astype(np.float32)[:, index] * weight).sum(axis=-1)
    index, weight = _area_weights(image.shape[0], height)
    out = (rows[index] * weight[..., None]).sum(axis=1)
    return np.clip(np.rint(out), 0, 255).astype(np.uint8)


@functools.lru_cache(maxsize=32)
def _area_weights(n_in: int, n_out: int) -> tuple[np.ndarray, np.ndarray]:
    """The nonzero part of each row of W (overlap of output cell i with input pixel
    j, divided by s): input indices [n_out, k] and float32 weights [n_out, k].
    Banded on purpose: a dense matmul goes through BLAS, whose threads crawl on a
    busy CPU (measured 40x slower than this under load)."""
    scale = n_in / n_out
    edges = np.arange(n_out + 1) * scale
    first = np.floor(edges[:-1]).astype(int)
    k = int(np.ceil(scale)) + 1
    index = np.minimum(first[:, None] + np.arange(k)[None, :], n_in - 1)
    j = first[:, None] + np.arange(k)[None, :]
    overlap = np.clip(np.minimum(edges[1:, None], j + 1) - np.maximum(edges[:-1, None], j),
                      0.0, None)
    overlap[j >= n_in] = 0.0
    return index, (overlap / scale).astype(np.float32)


def _rom_name(game: str) -> str:
    """envpool's CamelCase game name back to its snake_case ROM id (ale-py uses the same)."""
    from envpool.atari.registration import atari_game_list

    by_camel = {"".join(p.capitalize() for p in g.split("_")): g for g in atari_game_list}
    return by_camel[game]


class AtariPlayer:
    """ale-py with envpool's Atari pipeline (envpool/atari/atari_env.h), for one game:

    reset: `reset_game`, then 1..max(noop_max, 1) no-op frames drawn uniformly (one
    fewer with FIRE reset), FIRE if `fire_reset` and the game has it; the stack is
    filled with that frame (grayscale, not max-pooled).
    step: the action for 4 frames (stopping at game over), rewards summed; the max of
    the last two frames' grayscale (when all 4 ran), resized to `frame_size` (84x84 for
    Nature) by area averaging, pushed on a `frame_stack`-frame stack, channels first,
    then the configured crop/resize (observations.py), as the evaluation env applies it.
    The game ends at game over or after `eval_max_episode_steps` agent steps. With
    `ram`, the network sees the 128 RAM bytes instead.
    """

    FRAME_SKIP = 4

    def __init__(self, config: Config, seed: int, game: str, ram: bool = False):
        from ale_py import Action, ALEInterface, LoggerMode, roms

        self._noop, self._fire = Action.NOOP, Action.FIRE

        ALEInterface.setLoggerMode(LoggerMode.Error)
        self.ale = ALEInterface()
        self.ale.setFloat("repeat_action_probability", config.sticky_action_prob)
        self.ale.setInt("random_seed", int(seed))
        self.ale.loadROM(roms.get_rom_path(_rom_name(game)))
        self.actions = (self.ale.getLegalActionSet() if config.full_action_space
                        else self.ale.getMinimalActionSet())
        self.action_names = tuple(a.name for a in self.actions)
        self.fire_reset = config.fire_reset and Action.FIRE in self.actions
        self.noop_max = max(config.noop_max, 1)
        self.max_steps = config.eval_max_episode_steps
        self.ram = ram
        self.fps = 60.0 / self.FRAME_SKIP
        self._rng = np.random.default_rng(seed)
        self._pool = [np.zeros((210, 160), np.uint8), np.zeros((210, 160), np.uint8)]
        self.height, self.width = config.frame_size
        self._stack: deque = deque(maxlen=config.frame_stack)
        self._transform = make_obs_transform(config, config.frame_size)
        self._steps = 0

    def _obs(self) -> np.ndarray:
        if self.ram:
            return self.ale.getRAM().copy()
        stack = np.stack(self._stack)
        return stack if self._transform is None else self._transform.apply(stack)

    def reset(self) -> np.ndarray:
        self.ale.reset_game()
        noops = int(self._rng.integers(1, self.noop_max + 1)) - int(self.fire_reset)
        for _ in range(noops):
            self.ale.act(self._noop)
            if self.ale.game_over():
                self.ale.reset_game()
        if self.fire_reset:
            self.ale.act(self._fire)
        self._pool[0] = self.ale.getScreenGrayscale()
        frame = area_resize(self._pool[0], self.height, self.width)
        self._stack.extend([frame] * self._stack.maxlen)
        self._steps = 0
        return self._obs()

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        reward, over, skip = 0.0, False, self.FRAME_SKIP
        while skip > 0 and not over:
            reward += self.ale.act(self.actions[action])
            over = self.ale.game_over()
            if skip <= 2:  # the last two frames go to the max-pool buffer
                self._pool[2 - skip] = self.ale.getScreenGrayscale()
            skip -= 1
        pooled = np.maximum(self._pool[0], self._pool[1]) if skip == 0 else self._pool[0]
        self._pool[0] = pooled
        self._stack.append(area_resize(pooled, self.height, self.width))
        self._steps += 1
        return self._obs(), float(reward), over or self._steps >= self.max_steps

    def screen(self) -> np.ndarray:
        rgb = self.ale.getScreenRGB()
        return rgb.repeat(ATARI_SCALE, axis=0).repeat(ATARI_SCALE, axis=1)

    def close(self) -> None:
        pass


# --- vector envs (gymnasium) --------------------------------------------------------
def _names(names: tuple[str, ...], n: int) -> tuple[str, ...]:
    """The env's action names if they are one per action, else "action i"."""
    return names if len(names) == n else tuple(f"action {i}" for i in range(n))


class GymnasiumPlayer:
    """gymnasium's implementation of the env (envpool reimplements the same dynamics)
    and its own `rgb_array` renderer; game k is reset with seed `seed + k`."""

    def __init__(self, config: Config, seed: int, env_id: str,
                 action_names: tuple[str, ...] = ()):
        import gymnasium as gym

        self.env = gym.make(env_id, render_mode="rgb_array",
                            max_episode_steps=config.eval_max_episode_steps)
        self.action_names = _names(action_names, int(self.env.action_space.n))
        self.fps = float(self.env.metadata.get("render_fps", 30))
        self._seed = seed

    def reset(self) -> np.ndarray:
        obs, _ = self.env.reset(seed=self._seed)
        self._seed += 1
        return np.asarray(obs, np.float32)

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        obs, reward, terminated, truncated, _ = self.env.step(int(action))
        return np.asarray(obs, np.float32), float(reward), bool(terminated or truncated)

    def screen(self) -> np.ndarray:
        return np.asarray(self.env.render(), np.uint8)

    def close(self) -> None:
        self.env.close()


# --- MinAtar (gymnax) ----------------------------------------------------------------
MINATAR_CELL = 32  # screen pixels per grid cell


class MinAtarPlayer:
    """The run's own JAX env (table.make_jax_env, one env), stepped one agent step at a
    time, so its observations are exactly the network's; game k uses the key of env seed
    `seed + k`. The screen draws the 10x10 grid, each channel (object kind) in its own
    colour (a later channel over an earlier one), MINATAR_CELL pixels per cell."""

    def __init__(self, config: Config, seed: int):
        from purejaxdqn.envs.jax_envs import env_key

        env = make_jax_env(config, 1, config.eval_max_episode_steps)
        self._reset, self._step = jax.jit(env.reset), jax.jit(env.step)
        self._key, self._seed = env_key, seed
        player = env_entry(config.env_id).player
        self.action_names = _names(player.action_names if player else (),
                                   env.spec.num_actions)
        self.fps = 10.0
        self._state = self._obs = None

    def reset(self) -> np.ndarray:
        self._state, step = self._reset(self._key(self._seed))
        self._seed += 1
        self._obs = np.asarray(step.obs[0])
        return self._obs

    def step(self, action: int) -> tuple[np.ndarray, float, bool]:
        self._state, step = self._step(self._state, jnp.array([action], jnp.int32))
        self._obs = np.asarray(step.obs[0])
        over = bool(step.terminated[0] | step.truncated[0])
        return self._obs, float(step.reward[0]), over

    def screen(self) -> np.ndarray:
        channels = self._obs.shape[0]
        palette = (np.array([[0, 0, 0]] + [[int(255 * c) for c in _tab_colour(i)]
                                           for i in range(channels)], np.uint8))
        # index of the last active channel per cell (0: empty)
        top = np.where(self._obs.any(axis=0),
                       channels - np.argmax(self._obs[::-1] > 0, axis=0), 0)
        return palette[top].repeat(MINATAR_CELL, axis=0).repeat(MINATAR_CELL, axis=1)

    def close(self) -> None:
        pass


def _tab_colour(i: int) -> tuple[float, float, float]:
    from matplotlib import colormaps

    return colormaps["tab10"](i % 10)[:3]


PLAYERS: dict[str, Callable[[Config, int, EnvEntry], Player]] = {
    "ale": lambda config, seed, entry: AtariPlayer(config, seed, entry.game,
                                                   ram=KINDS[entry.kind].ram),
    "gymnasium": lambda config, seed, entry: GymnasiumPlayer(
        config, seed, entry.player.env_id or entry.name, entry.player.action_names),
    "grid": lambda config, seed, entry: MinAtarPlayer(config, seed),
}


def no_player(env_id: str) -> str | None:
    """Why `env_id` cannot be watched or recorded (one line), or None if it can."""
    entry = env_entry(env_id)
    if entry.player is None or entry.player.name not in PLAYERS:
        return f"{entry.name} has no player yet: it cannot be watched or recorded"
    return None


def make_player(config: Config, seed: int) -> Player:
    problem = no_player(config.env_id)
    if problem:
        raise ConfigError(problem)
    entry = env_entry(config.env_id)
    return PLAYERS[entry.player.name](config, seed, entry)
