"""epsilon schedules (in agent steps or finished episodes) and vectorized epsilon-greedy.

Step schedules ("linear", "exponential") follow the agent-step counter, with
uniform-random warm-up. Episode schedules ("episode_linear",
"episode_exponential") follow the number of finished episodes, as the users'
LunarLander and SpaceInvaders notes do, and apply from the first step (their
agents act with the schedule's epsilon from episode 0; warm-up only delays learning).
`SCHEDULES` maps a name (Config.epsilon_schedule) to a function Config -> epsilon.
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.config import Config
from purejaxdqn.registry import Registry


class Exploration(NamedTuple):
    epsilon: Callable[..., jax.Array]  # (agent step, finished episodes=0) -> epsilon
    select: Callable[[jax.Array, jax.Array, jax.Array], jax.Array]  # (key, q, eps) -> actions


def linear_epsilon(step, start: float, end: float, decay_steps: int, offset: int):
    """eps = start until `offset` (warm-up), then linear to `end` over `decay_steps`, then `end`.

    Not optax.linear_schedule: it computes (start - end)(1 - t/T) + end, which differs by
    one float32 ulp on about half the steps, and holds `start` forever when T is 0.
    """
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


SCHEDULES: Registry[Callable[[Config], Callable[..., jax.Array]]] = Registry("epsilon_schedule")


def by_step(anneal: Callable[[Config, jax.Array], jax.Array]) -> Callable[[Config], Callable]:
    """A SCHEDULES entry from `anneal(config, step) -> eps`: epsilon(step, episodes=0)
    that ignores the episode count and is 1 during warm-up (uniform-random play
    whatever epsilon_start is)."""
    def build(config: Config):
        def epsilon(step, episodes=0):
            del episodes
            return jnp.where(step < config.warmup_steps, 1.0, anneal(config, step))
        return epsilon
    return build


def by_episode(anneal: Callable[[Config, jax.Array], jax.Array]) -> Callable[[Config], Callable]:
    """A SCHEDULES entry from `anneal(config, finished episodes) -> eps`, used from step 0."""
    return lambda config: lambda step, episodes=0: anneal(config, episodes)


SCHEDULES.register("linear", by_step(lambda c, t: linear_epsilon(
    t, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps, c.warmup_steps)))
SCHEDULES.register("exponential", by_step(lambda c, t: exponential_epsilon(
    t, c.epsilon_start, c.epsilon_end, c.epsilon_decay_steps, c.warmup_steps)))
SCHEDULES.register("multiplicative", by_step(lambda c, t: multiplicative_epsilon(
    t, c.epsilon_start, c.epsilon_end, c.epsilon_step_decay, c.warmup_steps)))
SCHEDULES.register("episode_linear", by_episode(lambda c, n: episode_linear_epsilon(
    n, c.epsilon_start, c.epsilon_end, c.epsilon_decay_episodes)))
SCHEDULES.register("episode_exponential", by_episode(lambda c, n: episode_exponential_epsilon(
    n, c.epsilon_start, c.epsilon_end, c.epsilon_episode_decay)))


def make_exploration(config: Config) -> Exploration:
    return Exploration(epsilon=SCHEDULES.get(config.epsilon_schedule)(config),
                       select=jax.jit(epsilon_greedy))
