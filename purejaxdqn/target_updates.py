"""Target-network updates as pure functions of (online, target, update step)."""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.config import Config


class TargetUpdate(NamedTuple):
    apply: Callable[[Any, Any, jax.Array], Any]  # (online, target, update_count) -> new target


def hard_update(online, target, step, period: int):
    """target <- online when step % period == 0, else unchanged (Nature: every 2,500 updates)."""
    copy = (step % period) == 0
    return jax.tree_util.tree_map(lambda o, t: jnp.where(copy, o, t), online, target)


def soft_update(online, target, step, tau: float):
    """Polyak averaging every step: target <- tau * online + (1 - tau) * target."""
    del step
    return jax.tree_util.tree_map(lambda o, t: tau * o + (1.0 - tau) * t, online, target)


def make_target_update(config: Config) -> TargetUpdate:
    if config.target_update == "hard":
        period = config.target_update_period_updates
        return TargetUpdate(apply=lambda o, t, s: hard_update(o, t, s, period))
    return TargetUpdate(apply=lambda o, t, s: soft_update(o, t, s, config.soft_tau))
