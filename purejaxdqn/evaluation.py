"""The Nature evaluation protocol.

K full games (default 30) with epsilon = 0.05, each after up to 30 random
no-ops and capped at 18,000 frames (4,500 agent steps), scored by the raw,
unclipped game score. Each eval env plays a fixed quota of games, so short
games are not over-represented (stopping at "the first K games to finish"
would be biased towards them).
"""

from __future__ import annotations

import math
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components import exploration
from purejaxdqn.components.networks import Network
from purejaxdqn.config import Config
from purejaxdqn.envs.envpool import make_eval_env
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.scores import human_normalized


def make_policy(network: Network) -> Callable:
    """(params, obs, key, epsilon) -> actions, jitted: the acting policy with evaluation's
    treatment of noise (exploration.make_policy: a noisy network plays its mean weights)."""
    act = exploration.make_policy(network, noise=False)
    return jax.jit(lambda params, obs, key, epsilon: act(params, obs, key, epsilon)[0])


def num_eval_envs(config: Config, episodes: int | None = None) -> int:
    """Envs an evaluation runs side by side: eval_num_envs, or one per game up to 32."""
    return config.eval_num_envs or min(episodes or config.eval_episodes, 32)


def game_quota(num_envs: int, episodes: int) -> np.ndarray:
    """Games each eval env plays: `episodes` split as evenly as possible."""
    quota = np.full(num_envs, episodes // num_envs)
    quota[: episodes % num_envs] += 1
    return quota


def evaluate(config: Config, policy: Callable, params: Any, key: jax.Array, seed: int,
             episodes: int | None = None, stop: Callable[[], bool] | None = None) -> dict | None:
    """Play `episodes` games (default config.eval_episodes); return score statistics.
    `stop()` is asked before every env step: when it turns true the evaluation is
    abandoned and None returned, so a stopped run does not wait for up to 18,000 frames
    of each unfinished game."""
    episodes = episodes or config.eval_episodes
    num_envs = num_eval_envs(config, episodes)
    quota = game_quota(num_envs, episodes)
    env = make_eval_env(config, num_envs, seed)
    scores: list[float] = []
    lengths: list[int] = []
    done_count = np.zeros(num_envs, np.int64)
    step = env.reset()
    try:
        while (done_count < quota).any():
            if stop is not None and stop():
                return None
            key, act_key = jax.random.split(key)
            actions = np.asarray(policy(params, step.obs, act_key, config.eval_epsilon))
            step = env.step(actions)
            finished = ~np.isnan(step.episode_return) & (done_count < quota)
            for i in np.flatnonzero(finished):
                scores.append(float(step.episode_return[i]))
                lengths.append(int(step.episode_length[i]))
            done_count += finished
    finally:
        env.close()
    return _score_stats(scores, lengths, env.game if KINDS[env.kind].atari else None)


def _score_stats(scores: list[float], lengths: list[int], atari_game: str | None) -> dict:
    result = {
        "episodes": len(scores),
        "score_mean": float(np.mean(scores)),
        "score_median": float(np.median(scores)),
        "score_std": float(np.std(scores)),
        "score_min": float(np.min(scores)),
        "score_max": float(np.max(scores)),
        "length_mean": float(np.mean(lengths)),
        "scores": scores,
    }
    if atari_game is not None:
        hns = human_normalized(atari_game, result["score_mean"])
        result["human_normalized"] = None if math.isnan(hns) else hns
    return result


def evaluate_jax(config: Config, network: Network, episodes: int | None = None) -> Callable:
    """The same protocol on the JAX env, the whole evaluation in one jitted call:
    returns `run(params, key, first_env_seed) -> result dict` (as `evaluate`). Env j
    plays its quota of games back to back; scores are listed env by env."""
    from purejaxdqn.envs.jax_envs import env_key
    from purejaxdqn.envs.table import make_jax_env

    episodes = episodes or config.eval_episodes
    num_envs = num_eval_envs(config, episodes)
    quota = game_quota(num_envs, episodes)
    env = make_jax_env(config, num_envs, config.eval_max_episode_steps)
    rows = np.arange(num_envs)
    policy = make_policy(network)

    @jax.jit
    def play(params, key, env_rng):
        state, step = env.reset(env_rng)
        table = jnp.zeros((num_envs, int(quota.max())), jnp.float32)

        def unfinished(carry):
            return jnp.any(carry[3] < quota)

        def body(carry):
            state, step, key, done, scores, lengths = carry
            key, act_key = jax.random.split(key)
            actions = policy(params, step.obs, act_key, config.eval_epsilon)
            state, step = env.step(state, actions)
            finished = ~jnp.isnan(step.episode_return) & (done < quota)
            slot = jnp.minimum(done, scores.shape[1] - 1)
            scores = scores.at[rows, slot].set(
                jnp.where(finished, step.episode_return, scores[rows, slot]))
            lengths = lengths.at[rows, slot].set(
                jnp.where(finished, step.episode_length, lengths[rows, slot]))
            return state, step, key, done + finished, scores, lengths

        carry = (state, step, key, jnp.zeros(num_envs, jnp.int32), table,
                 jnp.zeros_like(table, jnp.int32))
        return jax.lax.while_loop(unfinished, body, carry)[4:]

    def run(params, key, first_env_seed: int, stop: Callable[[], bool] | None = None) -> dict:
        # `stop`: not asked; one jitted call of a small JAX env takes seconds at most
        scores, lengths = jax.device_get(play(params, key, env_key(first_env_seed)))
        kept = np.arange(scores.shape[1])[None, :] < quota[:, None]
        return _score_stats([float(x) for x in scores[kept]], [int(x) for x in lengths[kept]],
                            None)

    return run


def make_evaluator(config: Config, network: Network, jax_env: bool) -> Callable:
    """`run(params, key, first_env_seed, stop=None) -> result dict` on the engine's env backend: the
    whole evaluation in one jitted call on a JAX env (`evaluate_jax`), else envpool's
    games with a jitted policy (`evaluate`). Both engines evaluate through this."""
    if jax_env:
        return evaluate_jax(config, network)
    policy = make_policy(network)
    return lambda params, key, first_env_seed, stop=None: evaluate(
        config, policy, params, key, seed=first_env_seed, stop=stop)
