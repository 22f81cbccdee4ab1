"""epsilon schedules (in agent steps or finished episodes), vectorized epsilon-greedy, and
the acting policy built on them (`make_policy`).

Step schedules ("linear", "exponential") follow the agent-step counter, with
uniform-random warm-up. Episode schedules ("episode_linear",
"episode_exponential") follow the number of finished episodes, as the users'
LunarLander and SpaceInvaders notes do, and apply from the first step (their
agents act with the schedule's epsilon from episode 0; warm-up only delays learning).
`SCHEDULES` maps a name (Config.epsilon_schedule) to the schedule's settings, whose
`build(warmup_steps)` gives epsilon(step, episodes=0).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.components.networks import Network
from purejaxdqn.registry import Registry
from purejaxdqn.settings import (ConfigError, Settings, decay_factor, non_negative, positive,
                                 probability, setting)


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


SCHEDULES: Registry = Registry("epsilon_schedule")


def by_step(warmup_steps: int, anneal: Callable[[jax.Array], jax.Array]) -> Callable:
    """epsilon(step, episodes=0) = anneal(step), ignoring the episode count, and 1 during
    warm-up (uniform-random play whatever epsilon_start is)."""
    def epsilon(step, episodes=0):
        del episodes
        return jnp.where(step < warmup_steps, 1.0, anneal(step))
    return epsilon


def by_episode(anneal: Callable[[jax.Array], jax.Array]) -> Callable:
    """epsilon(step, episodes) = anneal(finished episodes), used from step 0."""
    return lambda step, episodes=0: anneal(episodes)


@dataclasses.dataclass(frozen=True)
class StartEnd(Settings):
    """The two ends every schedule shares. A schedule that rises (end above start) is
    almost always two values swapped: refused unless `epsilon_may_rise` asks for it."""
    epsilon_start: float = setting(1.0, "exploration epsilon when learning starts", probability)
    epsilon_end: float = setting(0.1, "exploration epsilon after the decay", probability)
    epsilon_may_rise: bool = setting(
        False, "allow epsilon_end above epsilon_start (a rising schedule, on purpose)")

    def __post_init__(self):
        super().__post_init__()
        if self.epsilon_end > self.epsilon_start and not self.epsilon_may_rise:
            raise ConfigError(
                f"epsilon_end ({self.epsilon_end}) is above epsilon_start "
                f"({self.epsilon_start}): exploration would rise; swap them, or set "
                f"--epsilon-may-rise true if that is meant")


@dataclasses.dataclass(frozen=True)
class StepDecay(StartEnd):
    epsilon_decay_steps: int = setting(
        1_000_000, "agent steps of the epsilon decay, from the end of warm-up", non_negative)


@SCHEDULES.register("linear")
@dataclasses.dataclass(frozen=True)
class Linear(StepDecay):
    def build(self, warmup_steps: int) -> Callable:
        return by_step(warmup_steps, lambda t: linear_epsilon(
            t, self.epsilon_start, self.epsilon_end, self.epsilon_decay_steps, warmup_steps))


@SCHEDULES.register("exponential")
@dataclasses.dataclass(frozen=True)
class Exponential(StepDecay):
    def build(self, warmup_steps: int) -> Callable:
        return by_step(warmup_steps, lambda t: exponential_epsilon(
            t, self.epsilon_start, self.epsilon_end, self.epsilon_decay_steps, warmup_steps))


@SCHEDULES.register("multiplicative")
@dataclasses.dataclass(frozen=True)
class Multiplicative(StartEnd):
    epsilon_step_decay: float = setting(
        0.99995, "eps = max(end, start * decay**steps after warm-up) (multiplicative)",
        decay_factor)

    def build(self, warmup_steps: int) -> Callable:
        return by_step(warmup_steps, lambda t: multiplicative_epsilon(
            t, self.epsilon_start, self.epsilon_end, self.epsilon_step_decay, warmup_steps))


@SCHEDULES.register("episode_linear")
@dataclasses.dataclass(frozen=True)
class EpisodeLinear(StartEnd):
    epsilon_decay_episodes: int = setting(
        1_400, "episodes from epsilon_start to epsilon_end (episode_linear)", positive)

    def build(self, warmup_steps: int) -> Callable:
        return by_episode(lambda n: episode_linear_epsilon(
            n, self.epsilon_start, self.epsilon_end, self.epsilon_decay_episodes))


@SCHEDULES.register("episode_exponential")
@dataclasses.dataclass(frozen=True)
class EpisodeExponential(StartEnd):
    epsilon_episode_decay: float = setting(
        0.995, "eps = max(end, start * decay**episodes) (episode_exponential)", decay_factor)

    def build(self, warmup_steps: int) -> Callable:
        return by_episode(lambda n: episode_exponential_epsilon(
            n, self.epsilon_start, self.epsilon_end, self.epsilon_episode_decay))


def make_policy(network: Network, select: Callable = epsilon_greedy,
                noise: bool = True) -> Callable:
    """The one acting policy (training, both evaluations, watch):
    `policy(params, obs, key, epsilon) -> (actions [N], q_values [N, |A|])`, `select`
    (epsilon-greedy) over the network's Q-values for N envs' observations.

    A stochastic network (NoisyNet) acts on Q-values under fresh noise, its own draw for
    each env (the envs explore independently), unless `noise` is False: then its mean
    weights (key None), which is what evaluation uses, as Dopamine's NoisyNetwork does in
    eval_mode ("Turn off noise during evaluation": google/dopamine
    dopamine/jax/networks.py at 5873f54). A sampling network (IQN) draws its fractions
    per env in both cases, as dqn_zoo's and Dopamine's IQN actors and evaluations do (its
    Q is an estimate from samples, not exploration). A deterministic network's key goes
    to `select` untouched.
    """

    def policy(params, obs, key, epsilon):
        if network.stochastic and (noise or network.samples):
            key, noise_key = jax.random.split(key)
            extra = {} if noise else {"noise": False}  # a plain (params, obs, key) works
            one_env = lambda o, k: (  # noqa: E731
                network.apply(params, o[None], k, **extra).q_values[0])
            q = jax.vmap(one_env)(obs, jax.random.split(noise_key, obs.shape[0]))
        else:
            q = network.apply(params, obs, None).q_values
        return select(key, q, epsilon), q

    return policy


def make_exploration(epsilon: Callable[..., jax.Array]) -> Exploration:
    """The schedule `epsilon` (a SCHEDULES entry's build) with epsilon-greedy selection."""
    return Exploration(epsilon=epsilon, select=jax.jit(epsilon_greedy))
