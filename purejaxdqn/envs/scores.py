"""Human-normalised scores from the Nature paper's per-game table.

HNS = (agent - random) / (human - random), with the paper's random and human
columns by default ("updated" columns on request).
"""

from __future__ import annotations

import csv
import functools
import math
import re
from importlib import resources


def game_key(name: str) -> str:
    """'Ms. Pacman', 'MsPacman', 'H.E.R.O.', 'Hero' -> 'mspacman', 'mspacman', 'hero', 'hero'."""
    key = re.sub(r"[^a-z]", "", name.lower().replace("'s ", " "))
    return {"upndown": "upanddown"}.get(key, key)  # envpool's spelling of "Up and Down"


@functools.lru_cache(maxsize=1)
def table() -> dict[str, dict[str, float]]:
    text = resources.files("purejaxdqn").joinpath("data/nature_dqn_scores.csv").read_text()
    rows = {}
    for row in csv.DictReader(text.splitlines()):
        rows[game_key(row["game"])] = {k: float(v) for k, v in row.items() if k != "game"}
    return rows


def human_normalized(game: str, score: float, columns: str = "nature") -> float:
    """HNS for an Atari game name in envpool's spelling ("SpaceInvaders"); NaN if unknown."""
    row = table().get(game_key(game))
    if row is None:
        return math.nan
    random, human = row[f"random_{columns}"], row[f"human_{columns}"]
    return (score - random) / (human - random)
