"""Learning curves of one or several run directories (`purejaxdqn plot`).

Six panels over agent steps (of one seed): training episode score (each game
faint, the running average of the last 100 games bold), evaluation mean score,
loss, mean Q, epsilon, steps/s while learning (warm-up's random play is left out),
from each run's episodes.csv, eval.jsonl and metrics.jsonl (see runlog.py); a
panel with nothing logged yet says so. PNG, SVG or PDF, by the file's extension.
A run with several seeds is drawn as the mean
over seeds with a shaded 95% percentile-bootstrap band over seeds (the same
`bootstrap_ci` experiments/ablate/ uses). Runs are labelled by the config
fields in which they differ.
"""

from __future__ import annotations

import csv
import json
import os
from typing import NamedTuple

import numpy as np

from purejaxdqn.run.preflight import run_dir_problem
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.tools.stats import CONFIDENCE, bootstrap_ci

RUNNING_WINDOW = 100  # games, as the training log's recent_score
GRID_POINTS = 200  # steps at which per-seed running averages are compared
# (metrics.jsonl key, panel title, y-axis label)
METRIC_PANELS = (("loss", "loss", "TD loss"), ("q_mean", "mean Q", "Q(s, a)"),
                 ("epsilon", "ε", "ε (exploration)"),
                 ("steps_per_s", "agent steps/s while learning", "agent steps/s"))
FORMATS = (".png", ".svg", ".pdf")  # by the output file's extension


class PlotError(ValueError):
    """Bad input for plot; the message is one line for the user."""


class RunData(NamedTuple):
    run_dir: str
    config: dict
    episodes: dict[int, np.ndarray]  # seed -> [games, 2] (step, raw score)
    metrics: list[dict]  # metrics.jsonl rows
    evals: list[dict]  # eval.jsonl rows


def load_run(run_dir: str) -> RunData:
    problem = run_dir_problem(run_dir)
    if problem:
        raise PlotError(problem)
    config_path = os.path.join(run_dir, "config.json")
    if not os.path.exists(config_path):
        raise PlotError(f"{run_dir} has no config.json: not a purejaxdqn run directory")
    config = _read(config_path, json.load)
    episodes: dict[int, list] = {}
    path = os.path.join(run_dir, "episodes.csv")
    if os.path.exists(path):
        for row in _read(path, lambda f: list(csv.DictReader(f))):
            try:
                episodes.setdefault(int(row["seed"]), []).append(
                    (float(row["step"]), float(row["score"])))
            except (ValueError, KeyError, TypeError) as error:
                raise PlotError(f"{path} is unreadable ({type(error).__name__}: a row "
                                f"without a seed, step or score)") from None
    metrics = _read(os.path.join(run_dir, "metrics.jsonl"), read_jsonl, by_path=True)
    evals = _read(os.path.join(run_dir, "eval.jsonl"), read_jsonl, by_path=True)
    if not isinstance(config, dict):
        raise PlotError(f"{config_path} does not hold a config")
    if not (episodes or metrics or evals):
        raise PlotError(f"{run_dir} has no logged games, metrics or evaluations yet")
    return RunData(run_dir, config, {s: np.array(v) for s, v in sorted(episodes.items())},
                   metrics, evals)


def _read(path: str, reader, by_path: bool = False):
    """`reader(open file)` (or `reader(path)`), a PlotError naming the file if it fails."""
    try:
        if by_path:
            return reader(path)
        with open(path, newline="") as f:
            return reader(f)
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise PlotError(f"{path} is unreadable ({type(error).__name__})") from None


def check_runs(run_dirs: list[str]) -> list[RunData]:
    if len(set(map(os.path.abspath, run_dirs))) != len(run_dirs):
        raise PlotError("a run directory is named twice")
    return [load_run(d) for d in run_dirs]


def labels(runs: list[RunData]) -> list[str]:
    """Each run's config fields that differ between the runs ("target=double, dueling=True");
    a single run, or runs with equal configs, are named by env and directory."""
    keys = sorted(set().union(*(r.config for r in runs)))
    differing = [k for k in keys if len({json.dumps(r.config.get(k)) for r in runs}) > 1]
    names = []
    for r in runs:
        text = ", ".join(f"{k}={_show(_value(r.config, k))}" for k in differing)
        names.append(text or f"{r.config.get('env_id', '?')} ({os.path.basename(os.path.normpath(r.run_dir))})")
    return names


def _value(config: dict, key: str):
    """A config value as the run used it: empty `seeds` means the one `seed`."""
    if key == "seeds" and not config.get("seeds"):
        return [config.get("seed", 0)]
    return config.get(key)


def _show(value) -> str:
    if isinstance(value, list):
        return ",".join(map(str, value))
    return str(value)


def running_mean(values: np.ndarray, window: int = RUNNING_WINDOW) -> np.ndarray:
    """Mean of the last `window` values at each position (fewer at the start)."""
    sums = np.cumsum(np.concatenate([[0.0], values]))
    ends = np.arange(1, len(values) + 1)
    starts = np.maximum(ends - window, 0)
    return (sums[ends] - sums[starts]) / (ends - starts)


def seed_matrix(rows: list[dict], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(steps every seed logged `key` at, values [seeds, steps]); a repeated
    (seed, step) keeps its newest row."""
    latest = {(int(r["seed"]), int(r["step"])): r[key] for r in rows
              if r.get(key) is not None}
    seeds = sorted({s for s, _ in latest})
    if not seeds:
        return np.zeros(0), np.zeros((0, 0))
    steps = sorted(set.intersection(*({t for (s, t) in latest if s == seed} for seed in seeds)))
    return (np.array(steps, np.float64),
            np.array([[latest[(s, t)] for t in steps] for s in seeds], np.float64))


def _band(ax, steps, values, color, label=None, marker=None):
    """Mean over seeds (rows) and its bootstrap band; one seed: just the line."""
    if values.size == 0:
        return
    mean, lo, hi = bootstrap_ci(values)
    if len(steps) == 1:  # a line of one point draws nothing: mark it
        marker = marker or "o"
    ax.plot(steps, mean, color=color, label=label, marker=marker, markersize=3, linewidth=1.4)
    if values.shape[0] > 1:
        ax.fill_between(steps, lo, hi, color=color, alpha=0.2, linewidth=0)


def plot_runs(runs: list[RunData]):
    """A matplotlib Figure (no pyplot, no global state) with the six panels."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(15, 8), layout="constrained")
    axes = figure.subplots(2, 3).ravel()
    names = labels(runs)
    seeds_seen = []
    for i, (run, name) in enumerate(zip(runs, names)):
        color = f"C{i % 10}"
        seeds = sorted(set(run.episodes) | {int(r["seed"]) for r in run.metrics + run.evals})
        seeds_seen.append(len(seeds))
        label = f"{name} ({len(seeds)} seed{'s' if len(seeds) != 1 else ''})"
        _training_scores(axes[0], run, color, label)
        steps, scores = seed_matrix(run.evals, "score_mean")
        _band(axes[1], steps, scores, color, label, marker="o")
        for ax, (key, _, _) in zip(axes[2:], METRIC_PANELS):
            rows = learning_rows(run) if key == "steps_per_s" else run.metrics
            steps, values = seed_matrix(rows, key)
            _band(ax, steps, values, color, label)
    titles = [f"training score (each game; running mean of {RUNNING_WINDOW})",
              "evaluation mean score"] + [title for _, title, _ in METRIC_PANELS]
    ylabels = ["raw game score", "raw game score"] + [y for _, _, y in METRIC_PANELS]
    for ax, title, ylabel in zip(axes, titles, ylabels):
        ax.set_title(title, fontsize="medium")
        ax.set_xlabel("agent steps (per seed)")
        ax.set_ylabel(ylabel)
        ax.grid(alpha=0.3)
        if not ax.has_data():  # say so, rather than leave empty 0-1 axes
            ax.text(0.5, 0.5, "no data yet", transform=ax.transAxes, ha="center",
                    va="center", color="0.4")
    if _positive(axes[2]):  # losses span decades
        axes[2].set_yscale("log")
    axes[0].legend(fontsize="small", loc="best")
    if max(seeds_seen) > 1:
        figure.suptitle(f"mean over seeds; shaded: {CONFIDENCE:.0%} bootstrap CI over seeds",
                        fontsize="medium")
    return figure


def learning_rows(run: RunData) -> list[dict]:
    """The metrics rows whose speed window lies wholly after the warm-up: warm-up plays
    randomly without updates, tens of times faster, and would dwarf learning's speed."""
    warmup = run.config.get("warmup_steps", 0)
    window = run.config.get("log_every", 0)
    return [r for r in run.metrics if r.get("step", 0) - window >= warmup]


def _training_scores(ax, run: RunData, color: str, label: str) -> None:
    """Every game faint; the running mean bold (mean over seeds on a common step grid,
    with its band, when there are several seeds)."""
    curves = []
    for games in run.episodes.values():
        ax.scatter(games[:, 0], games[:, 1], s=2, color=color, alpha=0.12, linewidths=0)
        curves.append((games[:, 0], running_mean(games[:, 1])))
    if not curves:
        return
    if len(curves) == 1:
        ax.plot(*curves[0], color=color, label=label, linewidth=1.4)
        return
    lo, hi = max(c[0][0] for c in curves), min(c[0][-1] for c in curves)
    if hi <= lo:
        return
    grid = np.linspace(lo, hi, GRID_POINTS)
    _band(ax, grid, np.stack([np.interp(grid, s, v) for s, v in curves]), color, label)


def _positive(ax) -> bool:
    ys = [line.get_ydata() for line in ax.get_lines()]
    return bool(ys) and all(np.all(np.asarray(y) > 0) for y in ys)
