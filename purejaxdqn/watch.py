"""Watch a trained agent: the real game screen, its Q-values and its score.

`watch(run_dir, ...)` loads a run's checkpoint, rebuilds the network from the
run's config.json and plays the evaluation protocol (epsilon =
`eval_epsilon`, the evaluation time limit, full games scored raw) on a
*rendering* copy of the run's env, one game at a time:

* Atari: ale-py driven with envpool's own pipeline (`AtariPlayer`), so the
  network sees what it saw in training while the video shows the colour screen;
* vector envs (CartPole, LunarLander, ...): gymnasium's env and renderer, the
  same dynamics envpool reimplements;
* MinAtar: the run's own JAX env, its 10x10 grid drawn one colour per object kind.

Each video frame is the screen with a panel beside it: one bar per action's
Q(s, a), the chosen action marked, the score so far. A game of T steps gives
T + 1 frames (the reset screen, then one per step).

A new env kind plugs in with one function: `PLAYERS[kind] = make_player`,
`make_player(config, seed) -> Player`.
"""

from __future__ import annotations

import functools
import json
import os
import sys
from collections import deque
from typing import Any, Callable, NamedTuple, Protocol

# pygame (gymnasium's renderer) must not look for a display or a sound card.
os.environ.setdefault("SDL_VIDEODRIVER", "dummy")
os.environ.setdefault("SDL_AUDIODRIVER", "dummy")

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn import checkpoint
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.exploration import epsilon_greedy
from purejaxdqn.observations import make_obs_transform
from purejaxdqn.preflight import run_dir_problem

VIDEO_EXTENSIONS = (".mp4", ".gif")
ATARI_SCALE = 2  # each native Atari pixel drawn as a 2x2 block, so the panel's text is legible
PANEL_WIDTH = 320  # pixels beside the screen


class WatchError(ValueError):
    """Bad input for watch/record; the message is one line for the user."""


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
GYMNASIUM_IDS = {"LunarLander-v2": "LunarLander-v3"}  # gymnasium 1.x keeps only v3
VECTOR_ACTION_NAMES = {
    "CartPole": ("push left", "push right"),
    "LunarLander": ("do nothing", "left engine", "main engine", "right engine"),
    "Acrobot": ("torque -1", "torque 0", "torque +1"),
    "MountainCar": ("push left", "no push", "push right"),
}


class GymnasiumPlayer:
    """gymnasium's implementation of the env (envpool reimplements the same dynamics)
    and its own `rgb_array` renderer; game k is reset with seed `seed + k`."""

    def __init__(self, config: Config, seed: int, env_id: str):
        import gymnasium as gym

        self.env = gym.make(GYMNASIUM_IDS.get(env_id, env_id), render_mode="rgb_array",
                            max_episode_steps=config.eval_max_episode_steps)
        n = int(self.env.action_space.n)
        names = VECTOR_ACTION_NAMES.get(env_id.split("-")[0], ())
        self.action_names = names if len(names) == n else tuple(f"action {i}" for i in range(n))
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
MINATAR_ACTION_NAMES = ("no-op", "left", "up", "right", "down", "fire")  # MinAtar's order
MINATAR_CELL = 32  # screen pixels per grid cell


class MinAtarPlayer:
    """The run's own JAX env (jax_envs.make_jax_env, one env), stepped one agent step at a
    time, so its observations are exactly the network's; game k uses the key of env seed
    `seed + k`. The screen draws the 10x10 grid, each channel (object kind) in its own
    colour (a later channel over an earlier one), MINATAR_CELL pixels per cell."""

    def __init__(self, config: Config, seed: int):
        from purejaxdqn.jax_envs import env_key, make_jax_env

        env = make_jax_env(config, 1, config.eval_max_episode_steps)
        self._reset, self._step = jax.jit(env.reset), jax.jit(env.step)
        self._key, self._seed = env_key, seed
        n = env.spec.num_actions
        self.action_names = MINATAR_ACTION_NAMES if n == 6 else \
            tuple(f"action {i}" for i in range(n))
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


PLAYERS: dict[str, Callable[[Config, int], Player]] = {
    "atari": lambda config, seed: AtariPlayer(config, seed, _game(config)),
    "atari_ram": lambda config, seed: AtariPlayer(config, seed, _game(config), ram=True),
    "vector": lambda config, seed: GymnasiumPlayer(config, seed, _game(config)),
    "minatar": MinAtarPlayer,
}


def _game(config: Config) -> str:
    from purejaxdqn.envs import resolve_env_id

    return resolve_env_id(config.env_id)[2]


def make_player(config: Config, seed: int) -> Player:
    from purejaxdqn.envs import resolve_env_id

    kind = resolve_env_id(config.env_id)[0]
    if kind not in PLAYERS:
        raise WatchError(f"watching {kind} envs is not supported yet (no player for {kind!r})")
    return PLAYERS[kind](config, seed)


# --- the agent ---------------------------------------------------------------------
class Policy(NamedTuple):
    """(params, obs of one env, key, epsilon) -> (Q-values [A], action), jitted."""

    act: Callable[[Any, np.ndarray, jax.Array, float], tuple[jax.Array, jax.Array]]
    num_actions: int
    obs_shape: tuple[int, ...]


def _network_and_spec(config: Config):
    """The run's network and the spec of what it sees (the evaluation env's: after any
    crop; MinAtar's JAX env, which envpool does not have)."""
    from purejaxdqn.envs import make_eval_env, resolve_env_id
    from purejaxdqn.networks import make_network

    if resolve_env_id(config.env_id)[0] == "minatar":
        from purejaxdqn.jax_envs import make_jax_env

        spec = make_jax_env(config, 1, config.eval_max_episode_steps).spec
    else:
        env = make_eval_env(config, 1, config.seed)
        spec = env.spec
        env.close()
    return make_network(config, spec.num_actions, spec.obs_shape, spec.obs_dtype), spec


@functools.lru_cache(maxsize=8)
def make_watch_policy(config: Config) -> Policy:
    """The run's network (from its config and env spec), applied to one observation."""
    network, spec = _network_and_spec(config)

    @jax.jit
    def act(params, obs, key, epsilon):
        q = network.apply(params, obs[None])
        return q[0], epsilon_greedy(key, q, epsilon)[0]

    return Policy(act, spec.num_actions, spec.obs_shape)


def _learner_template(config: Config):
    """A learner state [S, ...] shaped like the run's checkpoint (flax needs a target)."""
    from purejaxdqn.learner import init_train_state
    from purejaxdqn.optimizers import make_optimizer

    network, spec = _network_and_spec(config)
    optimizer = make_optimizer(config)
    example = jnp.zeros((1,) + spec.obs_shape, spec.obs_dtype)
    keys = jnp.stack([jax.random.PRNGKey(0)] * len(config.all_seeds))
    # Only the structure, shapes and dtypes matter: zeros, without running the init.
    shapes = jax.eval_shape(jax.vmap(lambda k: init_train_state(k, network, optimizer, example)),
                            keys)
    return jax.tree_util.tree_map(lambda s: np.zeros(s.shape, s.dtype), shapes)


class WatchRun(NamedTuple):
    config: Config
    run_dir: str
    seed_index: int
    step: int  # the checkpoint's agent step


def check_run(run_dir: str, seed_index: int = 0, step: int | None = None) -> WatchRun:
    """Everything about a run that can be checked without loading it; raise WatchError."""
    config_path = os.path.join(run_dir, "config.json")
    problem = run_dir_problem(run_dir)
    if problem:
        raise WatchError(problem)
    if not os.path.exists(config_path):
        raise WatchError(f"{run_dir} has no config.json: not a purejaxdqn run directory")
    try:
        with open(config_path) as f:
            config = Config.from_dict(json.load(f)).validate()
    except json.JSONDecodeError as error:
        raise WatchError(f"{config_path} is not valid JSON ({error.msg})") from None
    except ConfigError as error:
        raise WatchError(f"{config_path}: {error}") from None
    if not checkpoint.exists(run_dir):
        raise WatchError(f"{run_dir} has no checkpoint (expected "
                         f"{os.path.join(run_dir, checkpoint.CHECKPOINT, 'host.json')})")
    seeds = config.all_seeds
    if not 0 <= seed_index < len(seeds):
        raise WatchError(f"--seed-index {seed_index} is out of range: the run trained "
                         f"{len(seeds)} seed(s) {list(seeds)}, so use 0..{len(seeds) - 1}")
    try:
        with open(os.path.join(run_dir, checkpoint.CHECKPOINT, "host.json")) as f:
            saved = int(json.load(f)["steps"])
    except (OSError, ValueError, KeyError, TypeError):
        raise WatchError(f"checkpoint in {run_dir} is unreadable (host.json)") from None
    if step is not None and step != saved:
        raise WatchError(f"no checkpoint at step {step} in {run_dir}: the run keeps its "
                         f"latest checkpoint only, at step {saved}")
    try:
        _game(config)
    except ConfigError as error:
        raise WatchError(str(error)) from None
    return WatchRun(config, run_dir, seed_index, saved)


def check_video_path(path: str | None) -> None:
    if path is None:
        return
    ext = os.path.splitext(path)[1].lower()
    if ext not in VIDEO_EXTENSIONS:
        raise WatchError(f"unknown video extension {ext or '(none)'!r} in {path}; "
                         f"use {' or '.join(VIDEO_EXTENSIONS)}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise WatchError(f"cannot write {path}: folder {folder} does not exist")


def load_params(run: WatchRun):
    """The checkpoint's online params of seed `run.seed_index` (seed axis removed)."""
    learner, _, _, _ = checkpoint.load(run.run_dir, _learner_template(run.config), None)
    return jax.tree_util.tree_map(lambda x: x[run.seed_index], learner.params)


# --- drawing ------------------------------------------------------------------------
class QPanel:
    """The panel beside the screen, drawn with matplotlib (Agg) into a numpy array:
    the run, the score, the step and action, then a horizontal bar per action's
    Q(s, a) (from 0, value printed), the chosen action in orange."""

    def __init__(self, height: int, action_names: tuple[str, ...], title: str):
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        dpi = 100
        self.figure = Figure(figsize=(PANEL_WIDTH / dpi, height / dpi), dpi=dpi,
                             facecolor="white")
        self.canvas = FigureCanvasAgg(self.figure)
        n = len(action_names)
        font = float(np.clip(5 + height / 100, 6, 9))  # points
        line = font * 1.4 * dpi / 72 / height  # one text line, in figure fractions
        top = 1 - 4 / height
        self.figure.text(0.04, top, title, fontsize=font, va="top")
        self.header = self.figure.text(0.04, top - line, "", fontsize=font + 1, va="top",
                                       fontweight="bold")
        self.detail = self.figure.text(0.04, top - 2.1 * line, "", fontsize=font, va="top",
                                       linespacing=1.2)
        bottom = 2.8 * line  # x tick labels and the x label
        self.ax = self.figure.add_axes((0.36, bottom, 0.58, top - 4.6 * line - bottom))
        self.bars = self.ax.barh(np.arange(n), np.zeros(n), color="0.6", height=0.7)
        self.ax.set_yticks(np.arange(n), [name.lower() for name in action_names],
                           fontsize=font)
        self.ax.invert_yaxis()
        self.ax.tick_params(axis="x", labelsize=font)
        self.ax.axvline(0.0, color="0.2", linewidth=0.6)
        self.ax.set_xlabel("Q(s, a)", fontsize=font, labelpad=1)
        self.values = [self.ax.text(0, i, "", va="center", fontsize=font) for i in range(n)]
        self._dynamic = [*self.bars, *self.values, self.header, self.detail]
        for artist in self._dynamic:
            artist.set_animated(True)  # drawn per frame over the cached background
        self._background = None

    def draw(self, q: np.ndarray, chosen: int | None, score: float, detail: str) -> np.ndarray:
        """The panel for Q-values `q` [A], `chosen` action (None: game over).

        The axis is redrawn only when the values leave it or shrink to a third of it;
        otherwise the cached background is restored and only the bars and texts
        are drawn (a full matplotlib draw costs several times more)."""
        lo, hi = min(0.0, float(q.min())), max(0.0, float(q.max()))
        span = max(hi - lo, 1e-3)
        x0, x1 = self.ax.get_xlim()
        width = x1 - x0
        if self._background is None or lo < x0 or hi > x1 - 0.3 * width or \
                hi - lo < 0.35 * width:
            self.ax.set_xlim(lo - (0.05 * span if lo < 0 else 0.0), hi + 0.6 * span)
            x0, x1 = self.ax.get_xlim()
            self.canvas.draw()  # everything but the animated artists
            self._background = self.canvas.copy_from_bbox(self.figure.bbox)
        else:
            self.canvas.restore_region(self._background)
        for i, (bar, text) in enumerate(zip(self.bars, self.values)):
            bar.set_width(float(q[i]))
            bar.set_color("tab:orange" if i == chosen else "0.65")
            text.set_position((max(float(q[i]), 0.0) + 0.02 * (x1 - x0), i))
            text.set_text(f"{q[i]:.2f}")
        self.header.set_text(f"score {score:.2f}".rstrip("0").rstrip("."))
        self.detail.set_text(detail)
        for artist in self._dynamic:
            self.figure.draw_artist(artist)
        return np.asarray(self.canvas.buffer_rgba())[..., :3].copy()


def compose(screen: np.ndarray, panel: np.ndarray) -> np.ndarray:
    """Screen and panel side by side, padded with white to even sizes (H.264 needs them)."""
    frame = np.concatenate([screen, panel], axis=1)
    h, w = frame.shape[:2]
    return np.pad(frame, ((0, h % 2), (0, w % 2), (0, 0)), constant_values=255)


def open_video(path: str, fps: float):
    """An imageio writer with `append_data(frame)` and `close()`; the format from the
    extension (.mp4: H.264 via imageio-ffmpeg, .gif: Pillow, looping)."""
    import warnings

    import imageio.v2 as imageio

    # imageio-ffmpeg starts ffmpeg with fork+exec, which JAX's at-fork hook warns about
    # needlessly (the child runs no JAX code).
    warnings.filterwarnings("ignore", message="os.fork\\(\\) was called")

    if path.lower().endswith(".gif"):
        return imageio.get_writer(path, mode="I", duration=1000.0 / fps, loop=0)
    return imageio.get_writer(path, fps=fps, codec="libx264", quality=7,
                              macro_block_size=2, pixelformat="yuv420p")


# --- playing ------------------------------------------------------------------------
def play(config: Config, policy: Policy, params: Any, player: Player, key: jax.Array,
         episodes: int, epsilon: float, on_frame: Callable[[np.ndarray], None] | None = None,
         title: str = "", on_episode: Callable[[int, float, int], None] | None = None,
         scale: float = 1.0) -> list[tuple[float, int]]:
    """Play `episodes` full games; return (raw score, length) per game. With
    `on_frame`, each frame (screen resized by `scale` + Q panel) is passed to it,
    T + 1 per game."""
    if len(player.action_names) != policy.num_actions:
        raise WatchError(f"the renderer has {len(player.action_names)} actions, the network "
                         f"{policy.num_actions}: they must match")
    panel = None
    results = []

    def screen():
        image = player.screen()
        if scale == 1.0:
            return image
        h, w = image.shape[:2]
        return area_resize(image, max(round(h * scale), 1), max(round(w * scale), 1))

    for episode in range(episodes):
        obs = player.reset()
        if on_frame is not None and panel is None:
            panel = QPanel(screen().shape[0], player.action_names, title)
        score, length, over = 0.0, 0, False
        while True:
            key, act_key = jax.random.split(key)
            q, action = policy.act(params, obs, act_key, epsilon)
            q, action = np.asarray(q), int(action)
            if on_frame is not None:
                detail = (f"game {episode + 1}/{episodes}  step {length}  ε={epsilon:g}\n"
                          f"action: {'(game over)' if over else player.action_names[action].lower()}")
                on_frame(compose(screen(),
                                 panel.draw(q, None if over else action, score, detail)))
            if over:
                break
            obs, reward, over = player.step(action)
            score += reward
            length += 1
        results.append((score, length))
        if on_episode is not None:
            on_episode(episode, score, length)
    return results


def watch(run: WatchRun, episodes: int = 1, epsilon: float | None = None,
          video: str | None = None, env_seed: int = 0,
          on_episode: Callable[[int, float, int], None] | None = None,
          scale: float = 1.0) -> dict:
    """Play the run's agent; write `video` if given. Return scores, lengths, frames."""
    config = run.config
    params = load_params(run)
    policy = make_watch_policy(config)
    epsilon = config.eval_epsilon if epsilon is None else epsilon
    player = make_player(config, env_seed)
    seed = config.all_seeds[run.seed_index]
    title = f"{config.env_id}  seed {seed}  step {run.step:,}"
    writer = open_video(video, player.fps) if video else None
    frames = [0]

    def on_frame(frame):
        writer.append_data(frame)
        frames[0] += 1

    try:
        results = play(config, policy, params, player, jax.random.PRNGKey(env_seed), episodes,
                       epsilon, on_frame if writer else None, title, on_episode, scale)
    finally:
        player.close()
        if writer is not None:
            writer.close()
    return {"scores": [s for s, _ in results], "lengths": [n for _, n in results],
            "frames": frames[0], "video": video, "epsilon": epsilon, "step": run.step}


def record_video(config: Config, run_dir: str, params: Any, steps: int) -> str | None:
    """Training's `--record-video-every`: one evaluation game of the first seed's
    params (seed axis [S, ...]) written to RUN_DIR/videos/step<steps>.mp4. Its env
    seed and key derive from the step, so recording does not touch training. A
    failure prints one line and returns None: a video never stops a run."""
    path = os.path.join(run_dir, "videos", f"step{steps:09d}.mp4")
    seed = config.all_seeds[0]
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        params = jax.tree_util.tree_map(lambda x: x[0], params)
        player = make_player(config, 20_000 + steps)
        writer = open_video(path, player.fps)
        try:
            play(config, make_watch_policy(config), params, player,
                 jax.random.fold_in(jax.random.PRNGKey(seed + 2), steps), 1,
                 config.eval_epsilon, writer.append_data,
                 f"{config.env_id}  seed {seed}  step {steps:,}")
        finally:
            player.close()
            writer.close()
    except Exception as error:  # noqa: BLE001 - reported, training goes on
        print(f"purejaxdqn: warning: no video at step {steps:,} "
              f"({type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''})",
              file=sys.stderr)
        return None
    return path
