"""The kinds of environment, and what each one is, in one table.

`envs.resolve_env_id` names an env's kind; every place that treats kinds differently
reads this table's properties instead of comparing kind names.
"""

from __future__ import annotations

from typing import NamedTuple


class EnvKind(NamedTuple):
    name: str
    envpool: bool  # envpool has it (the host engine can step it on CPU threads)
    atari: bool  # an Atari game: ALE options, human-normalised scores, envpool's XLA path
    pixels: bool  # stacked image frames: frame size, stack, crop and resize apply
    ram: bool  # the network sees the 128 RAM bytes instead of the screen
    lives: bool  # a lives counter, so life losses can be flagged
    grid: bool  # MinAtar's 10x10 grid of object channels (gymnax)


KINDS = {
    "atari": EnvKind("atari", envpool=True, atari=True, pixels=True, ram=False, lives=True,
                     grid=False),
    "atari_ram": EnvKind("atari_ram", envpool=True, atari=True, pixels=False, ram=True,
                         lives=True, grid=False),
    "vector": EnvKind("vector", envpool=True, atari=False, pixels=False, ram=False,
                      lives=False, grid=False),
    "minatar": EnvKind("minatar", envpool=False, atari=False, pixels=False, ram=False,
                       lives=False, grid=True),
}
