"""Target-network updates as pure functions of (online, target, update step).

Step-keyed rules act inside each gradient update (`apply`); episode-keyed rules
act when training episodes finish (`on_episode`, called by the agent's `act`).
`TARGET_UPDATES` maps a name (Config.target_update) to the rule's settings, whose
`build(steps_per_update)` gives the TargetUpdate.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple

import jax
import jax.numpy as jnp
import optax

from purejaxdqn.registry import Registry
from purejaxdqn.settings import ConfigError, Settings, decay_factor, positive, setting


class TargetUpdate(NamedTuple):
    apply: Callable[[Any, Any, jax.Array], Any]  # (online, target, update_count) -> new target
    # (online, target, episodes before, episodes after) -> new target; identity for step rules
    on_episode: Callable[[Any, Any, jax.Array, jax.Array], Any] = lambda o, t, before, after: t
    # True when the target equals the online params at the start of every update (a hard
    # copy after each one, as DrQ's period of 1): the learner then evaluates Q(s', .) once.
    online_at_update: bool = False


TARGET_UPDATES: Registry = Registry("target_update")


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
@dataclasses.dataclass(frozen=True)
class Hard(Settings):
    """Copy the online params every `target_update_period` agent steps (Nature: 10,000)."""
    target_update_period: int = setting(10_000, "agent steps between hard target copies",
                                        positive)

    def period_updates(self, steps_per_update: int) -> int:
        """The copy period in gradient updates (Nature: 10,000 / 4 = 2,500): the copies are
        counted in updates, so the period in agent steps must be a whole number of them."""
        if self.target_update_period % steps_per_update:
            raise ConfigError(
                f"target_update_period ({self.target_update_period}) must be a multiple of "
                f"steps_per_update ({steps_per_update})")
        return self.target_update_period // steps_per_update

    def check_against(self, run) -> None:
        self.period_updates(run.steps_per_update)

    def build(self, steps_per_update: int) -> TargetUpdate:
        period = self.period_updates(steps_per_update)
        return TargetUpdate(apply=lambda o, t, s: hard_update(o, t, s, period),
                            online_at_update=period == 1)


@TARGET_UPDATES.register("soft")
@dataclasses.dataclass(frozen=True)
class Soft(Settings):
    soft_tau: float = setting(0.005, "Polyak factor of the soft target update, per update",
                              decay_factor)

    def build(self, steps_per_update: int) -> TargetUpdate:
        return TargetUpdate(apply=lambda o, t, s: soft_update(o, t, s, self.soft_tau))


@TARGET_UPDATES.register("hard_episodes")
@dataclasses.dataclass(frozen=True)
class HardEpisodes(Settings):
    target_update_episodes: int = setting(
        20, "finished episodes between target copies (target_update hard_episodes)", positive)

    def build(self, steps_per_update: int) -> TargetUpdate:
        period = self.target_update_episodes
        return TargetUpdate(apply=lambda o, t, s: t,
                            on_episode=lambda o, t, b, a: episode_hard_update(o, t, b, a, period))
