"""The kinds of environment, and what each one is, in one table.

Each env's entry in the env table (`envs.table.ENVS`) names its kind; every place that
treats kinds differently reads this table's properties instead of comparing kind names.
Only what holds for every env of a kind lives here; what an env has or lacks (envpool,
a JAX implementation, a player) is its own entry's.
"""

from __future__ import annotations

from typing import NamedTuple


class EnvKind(NamedTuple):
    name: str
    atari: bool  # an Atari game: ALE options, human-normalised scores, envpool's XLA path
    pixels: bool  # stacked image frames: frame size, stack, crop and resize apply
    ram: bool  # the network sees the 128 RAM bytes instead of the screen
    lives: bool  # a lives counter, so life losses can be flagged


KINDS = {
    "atari": EnvKind("atari", atari=True, pixels=True, ram=False, lives=True),
    "atari_ram": EnvKind("atari_ram", atari=True, pixels=False, ram=True, lives=True),
    "vector": EnvKind("vector", atari=False, pixels=False, ram=False, lives=False),
    # MinAtar's 10x10 grid of object channels: single frames, no lives
    "minatar": EnvKind("minatar", atari=False, pixels=False, ram=False, lives=False),
}
