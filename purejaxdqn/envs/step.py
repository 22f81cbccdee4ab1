"""What an env adapter hands the agent each iteration, and the one computation of its
flags and game tallies, written once for numpy and jax.numpy (`xp`).

Three adapters produce it: envs.VecEnv (envpool on the host, numpy), envpool_xla.XlaAtari
(envpool's XLA interface inside jit) and jax_envs (JAX env families). Each reads its own
backend's outputs (game over, time limit, lives) and leaves the rest to this module:

* a step is `reset` when it starts a game (envpool's auto-reset step, whose action is
  ignored); `first` is the same flag, kept apart for the replay;
* a game over on the time-limit step is a termination, never a truncation;
* `life_lost` where the lives counter dropped, except on a reset step;
* the raw score and length of the game in progress restart at a reset step, and a step
  that ends a game reports them as `episode_return` / `episode_length` (NaN / 0 otherwise).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, NamedTuple

from purejaxdqn.replay import FLAGS


@dataclass(frozen=True)
class EnvSpec:
    kind: str  # "atari" (pixels), "atari_ram" (128 RAM bytes), "vector" or "minatar"
    envpool_id: str
    game: str  # Atari game name for the score table, else the env id
    num_actions: int
    obs_shape: tuple[int, ...]  # one agent observation (no batch axis)
    obs_dtype: type
    frame_stack: int  # stacked frames the replay must rebuild (1: no stacking)

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """What the replay stores per step: one frame, or the whole vector obs."""
        return self.obs_shape[1:] if self.frame_stack > 1 else self.obs_shape


# One env iteration of N envs, as numpy arrays (envpool) or jax arrays:
#   obs [N, *obs_shape]      what the agent acts on
#   frame [N, *frame_shape]  what the replay stores (the newest frame of the stack)
#   reward [N] float32       unclipped
#   the StepFlags [N] bool   terminated, truncated, life_lost, first, reset (replay/buffer.py
#                            names them once and says what each means)
#   episode_return [N]       raw score of the game that just ended (NaN otherwise)
#   episode_length [N]       its length in agent steps (0 otherwise)
EnvStep = NamedTuple("EnvStep", [("obs", Any), ("frame", Any), ("reward", Any),
                                 *((name, Any) for name in FLAGS),
                                 ("episode_return", Any), ("episode_length", Any)])


class Tally(NamedTuple):
    """The game in progress in each env: raw score and length in agent steps."""

    score: Any
    length: Any


def count(xp, tally: Tally, reward, reset) -> Tally:
    """The tally after this step: a reset step starts a new game at 0."""
    return Tally(score=xp.where(reset, 0.0, tally.score + reward),
                 length=xp.where(reset, 0, tally.length + 1))


def lives_lost(lives, previous_lives, reset):
    """Where the lives counter dropped since the last step; never on a reset step."""
    return (lives < previous_lives) & ~reset


def make_step(xp, obs, frame, reward, terminated, truncated, life_lost, reset,
              tally: Tally) -> EnvStep:
    """The EnvStep of this iteration; `tally` is already counted with this step.
    `terminated` wins over `truncated` (a game over on the time-limit step does not
    bootstrap)."""
    truncated = truncated & ~terminated
    done = terminated | truncated
    return EnvStep(obs=obs, frame=frame, reward=reward, terminated=terminated,
                   truncated=truncated, life_lost=life_lost, first=xp.array(reset),
                   reset=reset, episode_return=xp.where(done, tally.score, xp.nan),
                   episode_length=xp.where(done, tally.length, 0))
