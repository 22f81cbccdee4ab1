"""epsilon schedules (in agent steps or finished episodes) and vectorized epsilon-greedy.

Step schedules ("linear", "exponential") follow the agent-step counter, with
uniform-random warm-up. Episode schedules ("episode_linear",
"episode_exponential") follow the number of finished episodes, as the users'
LunarLander and SpaceInvaders notes do, and apply from the first step (their
agents act with the schedule's epsilon from episode 0; warm-up only delays learning).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.config import Config


class Exploration(NamedTuple):
    epsilon: Callable[..., jax.Array]  # (agent step, finished episodes=0) -> epsilon
    select: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]  # (key, q, eps) -> actions


def linear_epsilon(step, start: float, end: float, decay_steps: int, offset: int):
    """eps = start until `offset` (warm-up), then linear to `end` over `decay_steps`, then `end`."""
    frac = jnp.clip((step - offset) / max(decay_steps, 1), 0.0, 1.0)
    return start + frac * (end - start)


def exponential_epsilon(step, start: float, end: float, decay_steps: int, offset: int):
    """eps = end + (start - end) * 0.01 ** ((step - offset) / decay_steps) after `offset`.

    The excess over `end` shrinks 100-fold every `decay_steps` steps.
    """
    t = jnp.maximum(step - offset, 0) / max(decay_steps, 1)
    return end + (start - end) * 0.01**t


def multiplicative_epsilon(step, start: float, end: float, decay: float, offset: int):
    """eps = max(end, start * decay ** (step - offset)) after `offset` (note 004: eps *= 0.99995
    every step, floored at 0.05)."""
    t = jnp.maximum(step - offset, 0)
    # exp(t log decay), the log taken in float64: float32(0.99995) ** t drifts by 1e-4 at t = 2e4
    return jnp.maximum(end, start * jnp.exp(t * math.log(decay)))


def episode_linear_epsilon(episodes, start: float, end: float, decay_episodes: int):
    """eps = start + (end - start) * min(episodes / decay_episodes, 1).

    Note 003 (SpaceInvaders-RAM): max(0.01, 0.08 - 0.01 * n / 200) = 0.08 -> 0.01 over 1,400.
    """
    frac = jnp.clip(episodes / max(decay_episodes, 1), 0.0, 1.0)
    return start + frac * (end - start)


def episode_exponential_epsilon(episodes, start: float, end: float, decay: float):
    """eps = max(end, start * decay ** episodes) (note 000, LunarLander: 1.0 * 0.995**n >= 0.01).

    The note multiplies eps by `decay` after each episode; this is the closed form.
    """
    return jnp.maximum(end, start * jnp.exp(episodes * math.log(decay)))


def epsilon_greedy(key: jax.Array, q: jax.Array, epsilon: jax.Array) -> jax.Array:
    """Per row of q (N, A): a uniform action with probability eps, else argmax (first on ties)."""
    explore_key, action_key = jax.random.split(key)
    n, num_actions = q.shape
    random_actions = jax.random.randint(action_key, (n,), 0, num_actions)
    explore = jax.random.uniform(explore_key, (n,)) < epsilon
    return jnp.where(explore, random_actions, jnp.argmax(q, axis=-1)).astype(jnp.int32)


# Episode schedules: (config, finished episodes) -> epsilon.
EPISODE_SCHEDULES = {
    "episode_linear": lambda c, n: episode_linear_epsilon(
        n, c.epsilon_start, c.epsilon_end, c.epsilon_decay_episodes),
    "episode_exponential": lambda c, n: episode_exponential_epsilon(
        n, c.epsilon_start, c.epsilon_end, c.epsilon_episode_decay),
}


def make_exploration(config: Config) -> Exploration:
    if config.epsilon_schedule in EPISODE_SCHEDULES:
        by_episode = EPISODE_SCHEDULES[config.epsilon_schedule]
        return Exploration(epsilon=lambda step, episodes=0: by_episode(config, episodes),
                           select=jax.jit(epsilon_greedy))
    if config.epsilon_schedule == "multiplicative":
        def schedule(step, start, end, decay_steps, offset):
            return multiplicative_epsilon(step, start, end, config.epsilon_step_decay, offset)
    else:
        schedule = linear_epsilon if config.epsilon_schedule == "linear" else exponential_epsilon

    def epsilon(step, episodes=0):
        del episodes  # step schedules ignore the episode count
        # Warm-up is uniform-random play whatever epsilon_start is.
        annealed = schedule(step, config.epsilon_start, config.epsilon_end,
                            config.epsilon_decay_steps, config.warmup_steps)
        return jnp.where(step < config.warmup_steps, 1.0, annealed)

    return Exploration(epsilon=epsilon, select=jax.jit(epsilon_greedy))
