"""What every engine is to the training loop: the `Engine` protocol and `Advanced`.

An engine drives act -> env -> store -> learn between two events of the loop (a log
row, an evaluation, a checkpoint). The loop (train.py) sees only this interface.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Protocol

import jax
import numpy as np

from purejaxdqn.agent import AgentState


class Advanced(NamedTuple):
    """What an `advance` call did, for the loop's logs."""

    steps: int  # agent steps per seed now
    episodes: list  # (seed index, agent steps when it ended, score, length)
    metrics: Any  # the last `learn` call's metrics ({name: [S]}), or None if none ran
    first_learn: tuple | None  # (perf_counter, steps) of the first learn ever, if in this call


class Engine(Protocol):
    name: str  # "host" or "fused"
    # Whether a resume can continue the very games in progress (bitwise the same run):
    # from a saved JAX env state, or by replaying the recorded actions into fresh envpool
    # emulators. Whether it does so without being asked is engines.exact_by_default.
    resumes_exactly: bool

    def start(self, keys: jax.Array) -> Any:
        """The carry of a new run: agents initialised from `keys` [S, 2], envs reset."""

    def advance(self, carry: Any, until_steps: int, learning_starts: int,
                stop: Callable[[], bool]) -> tuple[Any, Advanced]:
        """Run env iterations until `until_steps` agent steps per seed (or `stop()`)."""

    def evaluate(self, params: Any, key: jax.Array, first_env_seed: int,
                 stop: Callable[[], bool] | None = None) -> dict | None:
        """The evaluation protocol on one seed's params; None if it was abandoned
        because `stop()` turned true (where it can be: envpool's games)."""

    def across_seeds(self, carry: Any, select: Callable[[Any], Any]) -> Any:
        """`select` applied to the carry (a pytree with `.agent`: AgentState [S, ...]),
        over every seed: how the loop reads the agents (steps, params, the state to
        save) whatever the carry's layout (the fused engine's seed blocks)."""

    def iteration(self, carry: Any) -> int:
        """Env iterations so far."""

    def checkpoint_extras(self, carry: Any) -> tuple[Any, np.ndarray]:
        """(engine state to save or None, the actions sent since the envs began)."""

    def restore(self, carry: Any, agent: AgentState, extras: Any, actions: np.ndarray,
                iteration: int, exact: bool) -> Any:
        """The carry of a resumed run."""

    def close(self) -> None:
        """Release the envs."""
