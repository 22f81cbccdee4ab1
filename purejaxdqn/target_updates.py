"""Target-network updates as pure functions of (online, target, update step).

Step-keyed rules act inside each gradient update (`apply`); episode-keyed rules
act when training episodes finish (`on_episode`, called by the agent's `act`).
`TARGET_UPDATES` maps a name (Config.target_update) to a function Config -> TargetUpdate.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from purejaxdqn.config import Config
from purejaxdqn.registry import Registry


class TargetUpdate(NamedTuple):
    apply: Callable[[Any, Any, jax.Array], Any]  # (online, target, update_count) -> new target
    # (online, target, episodes before, episodes after) -> new target; identity for step rules
    on_episode: Callable[[Any, Any, jax.Array, jax.Array], Any] = lambda o, t, before, after: t


TARGET_UPDATES: Registry[Callable[[Config], TargetUpdate]] = Registry("target_update")


def hard_update(online, target, step, period: int):
    """target <- online when step % period == 0, else unchanged (Nature: every 2,500 updates)."""
    return optax.periodic_update(online, target, step, period)


def soft_update(online, target, step, tau: float):
    """Polyak averaging every step: target <- tau * online + (1 - tau) * target."""
    del step
    return optax.incremental_update(online, target, tau)


def episode_hard_update(online, target, episodes_before, episodes_after, period: int):
    """target <- online when a multiple of `period` lies in (before, after]: a copy every
    `period` finished episodes (note 003: every 20)."""
    copy = episodes_after // period > episodes_before // period
    return jax.tree_util.tree_map(lambda o, t: jnp.where(copy, o, t), online, target)


@TARGET_UPDATES.register("hard")
def _hard(config: Config) -> TargetUpdate:
    period = config.target_update_period_updates
    return TargetUpdate(apply=lambda o, t, s: hard_update(o, t, s, period))


@TARGET_UPDATES.register("soft")
def _soft(config: Config) -> TargetUpdate:
    return TargetUpdate(apply=lambda o, t, s: soft_update(o, t, s, config.soft_tau))


@TARGET_UPDATES.register("hard_episodes")
def _hard_episodes(config: Config) -> TargetUpdate:
    period = config.target_update_episodes
    return TargetUpdate(apply=lambda o, t, s: t,
                        on_episode=lambda o, t, b, a: episode_hard_update(o, t, b, a, period))


def make_target_update(config: Config) -> TargetUpdate:
    return TARGET_UPDATES.get(config.target_update)(config)
