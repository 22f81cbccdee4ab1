"""epsilon schedules (in agent steps) and vectorized epsilon-greedy selection."""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.config import Config


class Exploration(NamedTuple):
    epsilon: Callable[[jax.Array], jax.Array]  # agent step -> epsilon
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


def epsilon_greedy(key: jax.Array, q: jax.Array, epsilon: jax.Array) -> jax.Array:
    """Per row of q (N, A): a uniform action with probability eps, else argmax (first on ties)."""
    explore_key, action_key = jax.random.split(key)
    n, num_actions = q.shape
    random_actions = jax.random.randint(action_key, (n,), 0, num_actions)
    explore = jax.random.uniform(explore_key, (n,)) < epsilon
    return jnp.where(explore, random_actions, jnp.argmax(q, axis=-1)).astype(jnp.int32)


def make_exploration(config: Config) -> Exploration:
    schedule = linear_epsilon if config.epsilon_schedule == "linear" else exponential_epsilon

    def epsilon(step):
        # Warm-up is uniform-random play whatever epsilon_start is.
        annealed = schedule(step, config.epsilon_start, config.epsilon_end,
                            config.epsilon_decay_steps, config.warmup_steps)
        return jnp.where(step < config.warmup_steps, 1.0, annealed)

    return Exploration(epsilon=epsilon, select=jax.jit(epsilon_greedy))
