"""Target-network updates as pure functions of (online, target, update step).

Step-keyed rules act inside each gradient update (`apply`); episode-keyed rules
act when training episodes finish (`on_episode`, called by the agent's `act`).
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.config import Config


class TargetUpdate(NamedTuple):
    apply: Callable[[Any, Any, jax.Array], Any]  # (online, target, update_count) -> new target
    # (online, target, episodes before, episodes after) -> new target; identity for step rules
    on_episode: Callable[[Any, Any, jax.Array, jax.Array], Any] = lambda o, t, before, after: t


def hard_update(online, target, step, period: int):
    """target <- online when step % period == 0, else unchanged (Nature: every 2,500 updates)."""
    copy = (step % period) == 0
    return jax.tree_util.tree_map(lambda o, t: jnp.where(copy, o, t), online, target)


def soft_update(online, target, step, tau: float):
    """Polyak averaging every step: target <- tau * online + (1 - tau) * target."""
    del step
    return jax.tree_util.tree_map(lambda o, t: tau * o + (1.0 - tau) * t, online, target)


def episode_hard_update(online, target, episodes_before, episodes_after, period: int):
    """target <- online when a multiple of `period` lies in (before, after]: a copy every
    `period` finished episodes (note 003: every 20)."""
    copy = episodes_after // period > episodes_before // period
    return jax.tree_util.tree_map(lambda o, t: jnp.where(copy, o, t), online, target)


def make_target_update(config: Config) -> TargetUpdate:
    if config.target_update == "hard_episodes":
        period = config.target_update_episodes
        return TargetUpdate(apply=lambda o, t, s: t,
                            on_episode=lambda o, t, b, a: episode_hard_update(o, t, b, a, period))
    if config.target_update == "hard":
        period = config.target_update_period_updates
        return TargetUpdate(apply=lambda o, t, s: hard_update(o, t, s, period))
    return TargetUpdate(apply=lambda o, t, s: soft_update(o, t, s, config.soft_tau))
