"""Replay sampling rules by name (Config.replay); the replay module implements them.

`SAMPLING` maps a name to the rule's settings, whose `build(total_steps)` gives a
`Sampling`: uniform, or proportional prioritized with exponent alpha, priority floor
eps and importance-weight exponent beta annealed over the run (Schaul et al. 2016).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.registry import Registry
from purejaxdqn.settings import Settings, non_negative, positive, probability, setting

SAMPLING: Registry = Registry("replay")


class Sampling(NamedTuple):
    prioritized: bool
    alpha: float = 0.0  # P(i) proportional to (|delta_i| + eps) ** alpha
    eps: float = 0.0
    beta: Callable[[jax.Array], jax.Array] = lambda steps: jnp.float32(0.0)  # agent steps -> beta


@SAMPLING.register("uniform")
@dataclasses.dataclass(frozen=True)
class Uniform(Settings):
    def build(self, total_steps: int) -> Sampling:
        return Sampling(prioritized=False)


@SAMPLING.register("prioritized")
@dataclasses.dataclass(frozen=True)
class Prioritized(Settings):
    per_alpha: float = setting(0.6, "prioritized replay exponent on |TD error|", non_negative)
    per_beta_start: float = setting(
        0.4, "importance-weight exponent at the start, annealed to per_beta_end", probability)
    per_beta_end: float = setting(1.0, "importance-weight exponent reached at total_steps",
                                  probability)
    per_eps: float = setting(1e-6, "added to |TD error| so every transition keeps some "
                                   "priority", positive)

    def build(self, total_steps: int) -> Sampling:
        def beta(steps):
            frac = jnp.clip(steps / total_steps, 0.0, 1.0)
            return self.per_beta_start + frac * (self.per_beta_end - self.per_beta_start)

        return Sampling(prioritized=True, alpha=self.per_alpha, eps=self.per_eps, beta=beta)
