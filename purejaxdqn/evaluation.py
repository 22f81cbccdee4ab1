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
import numpy as np

from purejaxdqn.config import Config
from purejaxdqn.envs import make_eval_env
from purejaxdqn.exploration import epsilon_greedy
from purejaxdqn.networks import Network
from purejaxdqn.scores import human_normalized


def make_policy(network: Network) -> Callable:
    """(params, obs, key, epsilon) -> actions, jitted."""

    @jax.jit
    def policy(params, obs, key, epsilon):
        return epsilon_greedy(key, network.apply(params, obs), epsilon)

    return policy


def num_eval_envs(config: Config, episodes: int | None = None) -> int:
    """Envs an evaluation runs side by side: eval_num_envs, or one per game up to 32."""
    return config.eval_num_envs or min(episodes or config.eval_episodes, 32)


def evaluate(config: Config, policy: Callable, params: Any, key: jax.Array, seed: int,
             episodes: int | None = None) -> dict:
    """Play `episodes` games (default config.eval_episodes); return score statistics."""
    episodes = episodes or config.eval_episodes
    num_envs = num_eval_envs(config, episodes)
    quota = np.full(num_envs, episodes // num_envs)
    quota[: episodes % num_envs] += 1
    env = make_eval_env(config, num_envs, seed)
    scores: list[float] = []
    lengths: list[int] = []
    done_count = np.zeros(num_envs, np.int64)
    step = env.reset()
    try:
        while (done_count < quota).any():
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
    if env.kind != "vector":
        hns = human_normalized(env.game, result["score_mean"])
        result["human_normalized"] = None if math.isnan(hns) else hns
    return result
