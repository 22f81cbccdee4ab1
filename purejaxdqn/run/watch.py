"""Watch a trained agent: the real game screen, its Q-values and its score.

`watch(run, ...)` loads a run's checkpoint, rebuilds the network from the run's
config.json and plays the evaluation protocol (epsilon = `eval_epsilon`, the
evaluation time limit, full games scored raw) on a *rendering* copy of the run's env
(players.py), one game at a time, drawing each frame (render.py). A game of T steps
gives T + 1 frames (the reset screen, then one per step). `record_video` is the same
for one game during training (`--record-video-every`).
"""

from __future__ import annotations

import functools
import json
import os
import sys
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.exploration import make_policy
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.players import Player, area_resize, make_player, no_player
from purejaxdqn.envs.table import env_entry, make_jax_env
from purejaxdqn.run import checkpoint
from purejaxdqn.run.preflight import run_dir_problem
from purejaxdqn.run.render import VIDEO_EXTENSIONS, QPanel, compose, open_video


class WatchError(ValueError):
    """Bad input for watch/record; the message is one line for the user."""


# --- the agent ---------------------------------------------------------------------
class Policy(NamedTuple):
    """(params, obs of one env, key, epsilon) -> (Q-values [A], action), jitted."""

    act: Callable[[Any, np.ndarray, jax.Array, float], tuple[jax.Array, jax.Array]]
    num_actions: int
    obs_shape: tuple[int, ...]


def _network_and_spec(config: Config):
    """The run's network and the spec of what it sees (the evaluation env's: after any
    crop; the JAX env's where envpool does not have the env, as for MinAtar)."""
    from purejaxdqn.envs.envpool import make_eval_env
    from purejaxdqn.parts import build_network

    if env_entry(config.env_id).envpool is None:
        spec = make_jax_env(config, 1, config.eval_max_episode_steps).spec
    else:
        env = make_eval_env(config, 1, config.seed)
        spec = env.spec
        env.close()
    return build_network(config, spec.num_actions, spec.obs_shape, spec.obs_dtype), spec


@functools.lru_cache(maxsize=8)
def make_watch_policy(config: Config) -> Policy:
    """The run's network (from its config and env spec), applied to one observation."""
    network, spec = _network_and_spec(config)
    policy = make_policy(network, noise=False)  # as the evaluation plays

    @jax.jit
    def act(params, obs, key, epsilon):
        actions, q = policy(params, obs[None], key, epsilon)
        return q[0], actions[0]

    return Policy(act, spec.num_actions, spec.obs_shape)


def _learner_template(config: Config):
    """A learner state [S, ...] shaped like the run's checkpoint (flax needs a target)."""
    from purejaxdqn.learner import init_train_state
    from purejaxdqn.parts import build_optimizer

    network, spec = _network_and_spec(config)
    optimizer = build_optimizer(config)
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
        problem = no_player(config.env_id)
    except ConfigError as error:
        raise WatchError(str(error)) from None
    if problem:
        raise WatchError(problem)
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
    from purejaxdqn.run.preflight import check_writable

    try:
        check_writable(folder)
    except ConfigError as error:
        raise WatchError(f"cannot write {path}: {error}") from None


def load_params(run: WatchRun):
    """The checkpoint's online params of seed `run.seed_index` (seed axis removed)."""
    learner, _, _, _ = checkpoint.load(run.run_dir, _learner_template(run.config), None)
    return jax.tree_util.tree_map(lambda x: x[run.seed_index], learner.params)


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
