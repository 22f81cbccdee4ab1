"""Replay sampling rules by name (Config.replay); the replay module implements them.

`SAMPLING` maps a name to a function Config -> the sampling keywords of
`replay.make_replay` (uniform, or proportional prioritized with exponent alpha
and priority floor eps, Schaul et al. 2016).
"""

from __future__ import annotations

from typing import Any, Callable

from purejaxdqn.config import Config
from purejaxdqn.registry import Registry

SAMPLING: Registry[Callable[[Config], dict[str, Any]]] = Registry("replay")
SAMPLING.register("uniform", lambda config: {"prioritized": False})
SAMPLING.register("prioritized", lambda config: {
    "prioritized": True, "alpha": config.per_alpha, "eps": config.per_eps})
