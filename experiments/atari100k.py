"""Atari 100k study with the `data-efficient` (DrQ(eps)) preset: games x seeds, resumable.

    python -m experiments.atari100k --games Pong,Breakout,Boxing --seeds 0

Each (game, seed) is one run of the preset in `OUT/runs/<game>/seed<k>/`,
trained one after another in this process. Re-running the command reuses
finished runs and resumes interrupted ones from their checkpoint (the replay is
checkpointed too, so no new warm-up). After every run, and with
`--summarize-only`, the report is rebuilt from the run dirs:

  results.md / results.csv   our mean final score per game (95% bootstrap CI over
                             seeds when several) beside published DrQ(eps), DER,
                             random and human scores, and human-normalised scores
  iqm.png                    IQM of human-normalised score across games (rliable)
  learning_curves.png        training-episode scores vs agent steps, one panel per game

SIGINT/SIGTERM checkpoint the current run and stop the study (exit code 3);
bad input exits with code 2 and one line on stderr before anything runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import os
import sys
import time
from typing import Sequence

import numpy as np

from experiments.ablate import (AblationError, _read_json, canonical_env, _run_action, _split, _write_json,
                                bootstrap_ci, iqm_with_ci, parse_int)
from purejaxdqn.config import PRESETS, Config, ConfigError

PRESET = "data-efficient"
DEFAULT_GAMES = ("Pong", "Breakout", "Boxing", "RoadRunner", "Kangaroo", "Freeway")
DEFAULT_OUT = os.path.join("experiments", "results", "atari100k")
PUBLISHED = os.path.join(os.path.dirname(__file__), "atari100k_published.csv")


def game_config(game: str, seed: int, total_steps: int | None = None) -> Config:
    config = PRESETS[PRESET].replace(env_id=game, seed=seed)
    if total_steps is not None:  # smoke runs only; the study's budget is 100k
        config = config.replace(total_steps=total_steps,
                                warmup_steps=min(config.warmup_steps, total_steps // 2))
    return config.validate()


def _atari_game(name: str) -> str:
    """envpool's spelling of an Atari game ('pong' -> 'Pong'); ConfigError otherwise."""
    _, kind, game = canonical_env(name)
    if kind != "atari":
        raise ConfigError(f"{name!r} is not an Atari game (Atari 100k needs pixels)")
    return game


def run_dir(out_dir: str, game: str, seed: int) -> str:
    return os.path.join(out_dir, "runs", game, f"seed{seed}")


def run_study(games: Sequence[str], seeds: Sequence[int], out_dir: str = DEFAULT_OUT,
              total_steps: int | None = None, overrides: dict | None = None,
              progress: bool = True) -> int:
    """Train/resume every game x seed in order, rebuild the report; 0, or 3 if stopped."""
    from purejaxdqn.train import train

    plan = []
    games = [_atari_game(g) for g in games]
    for game in games:  # check every run dir before training anything
        for seed in seeds:
            config = game_config(game, seed, total_steps).replace(**(overrides or {})).validate()
            path = run_dir(out_dir, game, seed)
            plan.append((game, seed, config, path, _run_action(path, config)))
    for i, (game, seed, config, path, action) in enumerate(plan, 1):
        head = f"[{i}/{len(plan)}] {game} seed {seed}"
        if action == "reuse":
            print(f"{head}: finished, reused ({path})", flush=True)
            continue
        print(f"{head}: {'resuming' if action == 'resume' else 'training'} -> {path}", flush=True)
        os.makedirs(path, exist_ok=True)
        start = time.perf_counter()
        summary = train(config, path, resume=action == "resume", progress=progress)
        wall = time.perf_counter() - start
        _log_wall(path, summary["steps"], wall)
        summarize(out_dir)
        if summary["stopped_by"]:
            print(f"{head}: stopped by {summary['stopped_by']} at {summary['steps']:,} steps "
                  "(checkpoint saved); run the same command to resume", flush=True)
            return 3
        final = summary["final_eval"]["score_mean"][0]
        print(f"{head}: done in {wall:.0f} s this session, final eval {final:.1f}", flush=True)
    summarize(out_dir)
    return 0


def _log_wall(path: str, steps: int, wall: float) -> None:
    """wall.jsonl: one row per session of a run, so the total wall time survives resumes."""
    with open(os.path.join(path, "wall.jsonl"), "a") as f:
        f.write(json.dumps({"steps": steps, "wall_s": round(wall, 1),
                            "ended": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}) + "\n")


def summarize(out_dir: str) -> str:
    """Placeholder until the report lands: nothing to rebuild."""
    return out_dir


# --- command line ---------------------------------------------------------------
class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # one line, exit code 2
        print(f"atari100k: error: {message}", file=sys.stderr)
        raise SystemExit(2)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m experiments.atari100k",
                     description="Atari 100k study with the data-efficient (DrQ(eps)) preset.")
    parser.add_argument("--games", default=",".join(DEFAULT_GAMES), help="comma-separated")
    parser.add_argument("--seeds", default="0", help="comma-separated, e.g. 0,1,2")
    parser.add_argument("--out", default=DEFAULT_OUT)
    parser.add_argument("--summarize-only", action="store_true",
                        help="rebuild the table and plots from the run dirs, train nothing")
    parser.add_argument("--total-steps", default=None,
                        help="shorter runs for smoke tests (the benchmark is 100k)")
    parser.add_argument("--no-progress", action="store_true")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        games = _split(args.games)
        seeds = [parse_int(s, "seed") for s in _split(args.seeds)]
        total = None if args.total_steps is None else parse_int(args.total_steps, "total_steps")
        if not games or not seeds:
            raise AblationError("--games and --seeds must name at least one each")
        if args.summarize_only:
            print(summarize(args.out))
            return 0
        return run_study(games, seeds, args.out, total, progress=not args.no_progress)
    except (AblationError, ConfigError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
