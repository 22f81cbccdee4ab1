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

SIGINT/SIGTERM checkpoint the current run and stop the study (exit code 130, as ablate);
bad input exits with code 2 and one line on stderr before anything runs.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import glob
import math
import os
import sys
from typing import Sequence

import numpy as np

from experiments.ablate.plan import canonical_env
from experiments.ablate.statistics import iqm_with_ci
from experiments.common import AblationError, Interrupted, check_out, read_json, split_list
from experiments.runner import decide, train_session, wall_s
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.scores import human_normalized
from purejaxdqn.presets import PRESETS
from purejaxdqn.run.checkpoint import CheckpointError
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.tools.cli import OneLineParser
from purejaxdqn.tools.fieldparse import parse_int
from purejaxdqn.tools.stats import bootstrap_ci

PRESET = "data-efficient"
# Games where the published agents learn at 100k steps (far above random for DER); on
# Pong, Breakout and Boxing DER is close to random, no test of learning.
DEFAULT_GAMES = ("RoadRunner", "Freeway", "Kangaroo", "Krull")
DEFAULT_OUT = os.path.join("runs", "atari100k")  # the committed study: --out experiments/results/atari100k
PUBLISHED = os.path.join(os.path.dirname(__file__), "atari100k_published.csv")
# rliable's per-run scores of published agents (see PUBLISHED_FILES below)
PUBLISHED_RUNS_DIR = os.path.join(os.path.dirname(__file__), "atari100k_published_runs")


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
              progress: bool = True, published_dir: str | None = PUBLISHED_RUNS_DIR) -> int:
    """Train/resume every game x seed in order, rebuild the report; 0, or 130 if stopped."""
    plan = []
    games = [_atari_game(g) for g in games]
    for game in games:  # check every run dir before training anything
        for seed in seeds:
            config = game_config(game, seed, total_steps).replace(**(overrides or {})).validate()
            path = run_dir(out_dir, game, seed)
            plan.append((game, seed, config, path, decide(path, config)))
    for i, (game, seed, config, path, action) in enumerate(plan, 1):
        head = f"[{i}/{len(plan)}] {game} seed {seed}"
        if action == "reuse":
            print(f"{head}: finished, reused ({path})", flush=True)
            continue
        print(f"{head}: {'resuming' if action == 'resume' else 'training'} -> {path}", flush=True)
        try:
            summary, wall = train_session(config, path, action, label=head, progress=progress)
        except Interrupted as stopped:
            summarize(out_dir, published_dir)
            print(stopped, flush=True)
            return stopped.exit_code
        summarize(out_dir, published_dir)
        final = summary["final_eval"]["score_mean"][0]
        print(f"{head}: done in {wall:.0f} s this session, final eval {final:.1f}", flush=True)
    summarize(out_dir, published_dir)
    return 0


# --- report ---------------------------------------------------------------------
# Published per-game means after 100k agent steps, as first reported by each method's
# paper (atari100k_published.csv, read from the compiled table of Cetin et al. 2022,
# "Stabilizing Off-Policy Deep RL from Pixels", App. A.2, Table 5):
PAPER_COLUMNS = {"DER": "der", "OTRainbow": "otrainbow"}
PAPER_SOURCES = {
    "DER": "Data-Efficient Rainbow, as reported by van Hasselt, Hessel & Aslanides 2019 "
           "(\"When to use parametric models in reinforcement learning?\", NeurIPS)",
    "OTRainbow": "\"Overtrained\" Rainbow, as reported by Kielak 2019 (\"Do recent "
                 "advancements in model-based deep RL really improve data efficiency?\")",
}
# Per-run scores: rliable's released Atari-100k runs (Agarwal et al. 2021, App. A.1:
# gs://rl-benchmark-data/atari_100k), one JSON per algorithm mapping game -> final scores
# of its runs (the format rliable's colab reads with load_json_scores). DrQ(eps)'s and
# SPR's ship in PUBLISHED_RUNS_DIR (copied from eloialonso/iris, its README says
# how); DER's is not public outside that bucket: put DER.json beside them to add it.
PUBLISHED_FILES = {"DrQ(eps)": "DrQ(eps).json", "SPR": "SPR.json",
                   "DER (Agarwal et al. re-runs)": "DER.json"}
PUBLISHED_SOURCE = ("mean over the runs in rliable's released `{file}` "
                    "(gs://rl-benchmark-data/atari_100k, Agarwal et al. 2021, App. A.1)")


def load_paper_means(path: str = PUBLISHED) -> dict[str, dict[str, list[float]]]:
    """{"DER": {game: [mean]}, "OTRainbow": {...}} from the papers' per-game means."""
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    return {name: {row["game"]: [float(row[column])] for row in rows}
            for name, column in PAPER_COLUMNS.items()}


@dataclasses.dataclass
class Run:
    game: str
    seed: int
    run_dir: str
    steps: int
    total_steps: int
    finished: bool
    final: dict | None  # the final evaluation row of eval.jsonl
    episodes: np.ndarray  # [n, 2]: agent step, raw training score
    wall_s: float  # summed over ended sessions (wall.jsonl)
    checkpoint_steps: int | None  # where a resume would continue from
    steps_per_s: float | None  # agent steps/s from the first update on (its last session)


def collect(out_dir: str) -> list[Run]:
    """Every run dir under OUT/runs/<game>/seed<k>/ that holds a config.json."""
    runs = []
    for config_path in sorted(glob.glob(os.path.join(out_dir, "runs", "*", "seed*",
                                                     "config.json"))):
        path = os.path.dirname(config_path)
        config = Config.from_dict(read_json(config_path))
        summary = read_json(os.path.join(path, "summary.json")) or {}
        evals = [e for e in read_jsonl(os.path.join(path, "eval.jsonl"))
                 if e.get("step") == config.total_steps]
        finished = summary.get("stopped_by", "x") is None and bool(evals)
        episodes = _episodes(os.path.join(path, "episodes.csv"))
        logged = read_jsonl(os.path.join(path, "metrics.jsonl"))
        steps = max([int(summary.get("steps", 0))] + [int(r["step"]) for r in logged[-1:]]
                    + [int(step) for step in episodes[-1:, 0]])  # none before a game ends
        saved = read_json(os.path.join(path, "checkpoint", "host.json")) or {}
        wall = wall_s(path) or 0.0
        runs.append(Run(config.env_id, config.seed, path, steps, config.total_steps, finished,
                        evals[-1] if finished else None, episodes, wall,
                        saved.get("steps"), summary.get("learning_steps_per_s")))
    return runs


def _episodes(path: str) -> np.ndarray:
    rows = []
    if os.path.exists(path):
        with open(path) as f:
            rows = [(float(r["step"]), float(r["score"])) for r in csv.DictReader(f)]
    return np.asarray(rows, np.float64).reshape(-1, 2)


def load_published(folder: str | None) -> dict[str, dict[str, list[float]]]:
    """{algorithm: {game: final scores of its runs}} from rliable's JSON files."""
    published: dict[str, dict[str, list[float]]] = {}
    for name, file in PUBLISHED_FILES.items():
        data = read_json(os.path.join(folder, file)) if folder else None
        if isinstance(data, dict):
            published[name] = {game: [float(x) for x in v] for game, v in data.items()
                               if isinstance(v, list) and v}
    return published


def hns(game: str, score: float) -> float:
    """Human-normalised score with the Atari-100k random/human columns ("updated")."""
    return human_normalized(game, score, columns="updated")


def placement(score: float, runs: list[float]) -> str:
    """Where `score` falls among published `runs`: how many are below, equal and above,
    and its percentile rank (below + half the ties, over all runs)."""
    runs_array = np.asarray(runs)
    below, equal = int(np.sum(runs_array < score)), int(np.sum(runs_array == score))
    above = len(runs) - below - equal
    rank = 100 * (below + equal / 2) / len(runs)
    return f"{below} below, {equal} equal, {above} above ({rank:.1f}th percentile)"


def _placement_lines(runs: list[Run], published: dict) -> list[str]:
    """The section placing each finished run of ours among each algorithm's published
    runs of its game (empty without per-run files)."""
    names = [name for name in PUBLISHED_FILES if name in published]
    finished = [r for r in runs if r.finished]
    if not names or not finished:
        return []
    lines = ["", "## Our runs among the published runs", "",
             "Each finished run's final score against every published run of the same "
             "game (rliable's per-run files, below).", "",
             "| game | seed | ours | " + " | ".join(f"{n} runs" for n in names) + " |",
             "|---|---:|---:|" + "---|" * len(names)]
    for r in finished:
        score = r.final["score_mean"]
        cells = [placement(score, published[n][r.game]) if r.game in published[n] else "–"
                 for n in names]
        lines.append(f"| {r.game} | {r.seed} | {_fmt(score)} | {' | '.join(cells)} |")
    return lines


def summarize(out_dir: str, published_dir: str | None = PUBLISHED_RUNS_DIR) -> str:
    """Write results.md, results.csv, iqm.png, learning_curves.png; return results.md's path."""
    runs = collect(out_dir)
    published = {**load_paper_means(), **load_published(published_dir)}
    os.makedirs(out_dir, exist_ok=True)
    _write_csv(runs, os.path.join(out_dir, "results.csv"))
    iqm = _iqm(runs, published)
    text = render_markdown(runs, published, iqm, published_dir)
    path = os.path.join(out_dir, "results.md")
    with open(path, "w") as f:
        f.write(text)
    if runs:
        plot_curves(runs).savefig(os.path.join(out_dir, "learning_curves.png"), dpi=110)
    if iqm and "iqm" in iqm:
        plot_iqm(iqm).savefig(os.path.join(out_dir, "iqm.png"), dpi=110)
    return path


def _write_csv(runs: list[Run], path: str) -> None:
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["game", "seed", "steps", "total_steps", "finished", "score_mean",
                      "score_median", "eval_episodes", "human_normalized", "wall_s"])
        for r in runs:
            final = r.final or {}
            score = final.get("score_mean")
            out.writerow([r.game, r.seed, r.steps, r.total_steps, r.finished, score,
                          final.get("score_median"), final.get("episodes"),
                          None if score is None else round(hns(r.game, score), 4),
                          round(r.wall_s, 1)])


def _iqm(runs: list[Run], published: dict) -> dict | None:
    """IQM of HNS over (run, game) with rliable's stratified-bootstrap 95% CI, over the
    finished games (ours: as many seeds as every one of them has; each published
    algorithm: all its runs on those games, or its one per-game mean for the papers'
    numbers, whose interval is then just the point); None if no game finished."""
    by_game: dict[str, list[float]] = {}
    for r in runs:
        if r.finished:
            by_game.setdefault(r.game, []).append(hns(r.game, r.final["score_mean"]))
    if not by_game:
        return None
    n = min(len(v) for v in by_game.values())
    games = sorted(by_game)
    matrices = {"ours": np.array([[by_game[g][k] for g in games] for k in range(n)])}
    for name, scores in published.items():
        if all(g in scores for g in games):
            m = min(len(scores[g]) for g in games)
            matrices[name] = np.array([[hns(g, scores[g][k]) for g in games] for k in range(m)])
    result = {"games": games, "runs": {k: len(v) for k, v in matrices.items()}}
    try:
        result["iqm"] = iqm_with_ci(matrices)  # {name: (point, lo, hi)}
    except AblationError as error:
        result["error"] = str(error)
    return result


def _fmt(x: float | None, digits: int = 1) -> str:
    return "–" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:,.{digits}f}"


def render_markdown(runs: list[Run], published: dict, iqm: dict | None,
                    published_dir: str | None) -> str:
    games = list(dict.fromkeys(r.game for r in runs))
    others = [name for name in published if name in PAPER_COLUMNS or name in PUBLISHED_FILES]
    lines = ["# Atari 100k: the `data-efficient` (DrQ(ε)) preset", "",
             "Generated by `python -m experiments.atari100k` from the run dirs under `runs/`;",
             "do not edit by hand. Scores are raw game scores, mean over 100 evaluation",
             "episodes (ε = 0.001, up to 27,000 agent steps) of the agent after 100k agent",
             "steps. HNS = (score − random) / (human − random). DER and OTRainbow: the",
             "per-game means their papers report; DrQ(eps), SPR (where their files are",
             "read): means over rliable's released runs (sources below).", "",
             "| game | seeds | ours: mean | 95% CI | ours: HNS | "
             + "".join(f"{name} | {name} HNS | " for name in others) + "random | human |",
             "|---|---:|---:|---|---:|" + "---:|---:|" * len(others) + "---:|---:|"]
    for game in games:
        finals = [r.final["score_mean"] for r in runs if r.game == game and r.finished]
        if finals:
            mean, lo, hi = bootstrap_ci(finals)
            ci = f"[{_fmt(lo)}, {_fmt(hi)}]" if len(finals) > 1 else "– (1 seed)"
            ours = (_fmt(mean), ci, _fmt(hns(game, mean), 3))
        else:
            ours = ("unfinished", "–", "–")
        pub = []
        for name in others:
            runs_of = published[name].get(game)
            value = float(np.mean(runs_of)) if runs_of else None
            pub += [_fmt(value), _fmt(None if value is None else hns(game, value), 3)]
        random, human = (table_row(game).get(k) for k in ("random_updated", "human_updated"))
        lines.append(f"| {game} | {len(finals)} | {ours[0]} | {ours[1]} | {ours[2]} | "
                     f"{' | '.join(pub)} | {_fmt(random)} | {_fmt(human)} |")
    lines.append("")
    if iqm and "iqm" in iqm:
        parts = [f"{name} **{p:.3f}** " + (
                     f"(the papers' per-game means: no interval)" if name in PAPER_COLUMNS
                     else f"[{lo:.3f}, {hi:.3f}] ({iqm['runs'][name]} runs/game)")
                 for name, (p, lo, hi) in iqm["iqm"].items()]
        lines.append(f"IQM of HNS over the {len(iqm['games'])} finished game(s) "
                     f"({', '.join(iqm['games'])}; rliable, stratified-bootstrap 95% CI): "
                     + "; ".join(parts) + ". See `iqm.png`. Over so few games this is not "
                     "comparable to a published 26-game IQM.")
    elif iqm:
        lines.append(f"IQM not computed: {iqm['error']}")
    lines += _placement_lines(runs, published)
    lines += ["", "## Runs", "",
              "| game | seed | agent steps | state | training score, last 20 games | "
              "wall time of ended sessions (h) | agent steps/s while learning |",
              "|---|---:|---:|---|---:|---:|---:|"]
    for r in runs:
        recent = r.episodes[-20:, 1].mean() if len(r.episodes) else None
        state = "finished" if r.finished else (
            f"unfinished, checkpoint at {r.checkpoint_steps:,} steps" if r.checkpoint_steps
            else "unfinished, no checkpoint")
        lines.append(f"| {r.game} | {r.seed} | {r.steps:,} / {r.total_steps:,} | {state} | "
                     f"{_fmt(recent)} | {r.wall_s / 3600:.2f} | {_fmt(r.steps_per_s)} |")
    lines += ["", "Wall time: training, the final 100-episode evaluation and checkpoints, on "
              "the machine the run had (README: this project's 2-core AMD EPYC CPU, no GPU). "
              "Steps/s: `summary.json`'s `learning_steps_per_s`, agent steps from the first "
              "update to the end of the run's last session, evaluation included.",
              "", "## Where the numbers come from", "",
              "- ours: `runs/<game>/seed<k>/eval.jsonl`, the evaluation at 100k steps; the 95% "
              "CI is a percentile bootstrap over seeds (`experiments.ablate.bootstrap_ci`).",
              "- random and human: the `random_updated` / `human_updated` columns of "
              "`purejaxdqn/data/nature_dqn_scores.csv`, the same values as Dopamine's "
              "`dopamine/labs/atari_100k/normalization_utils.py` used by Agarwal et al. 2021."]
    for name, source in PAPER_SOURCES.items():
        lines.append(f"- {name}: {source}; the per-game means of "
                     "`experiments/atari100k_published.csv`, read from the compiled table "
                     "of Cetin et al. 2022 (\"Stabilizing Off-Policy Deep RL from Pixels\", "
                     "ICML, App. A.2, Table 5), which lists the originally reported values.")
    for name, file in PUBLISHED_FILES.items():
        if name in published:
            lines.append(f"- {name}: " + PUBLISHED_SOURCE.format(file=file) +
                         f", read from `{published_dir}`.")
        else:
            lines.append(f"- {name}: not shown. Its per-run scores are rliable's released "
                         f"`{file}` (gs://rl-benchmark-data/atari_100k, Agarwal et al. "
                         "2021), not in the folder read; put it there and rerun with "
                         "`--summarize-only` to add them.")
    lines.append("- learning curves (`learning_curves.png`): raw training-game scores "
                 "(ε-greedy, full games), moving mean over 10 games.")
    return "\n".join(lines) + "\n"


def table_row(game: str) -> dict:
    from purejaxdqn.envs.scores import game_key, table

    return table().get(game_key(game), {})


def plot_curves(runs: list[Run]):
    """Training-game score vs agent steps, moving mean over 10 games, one panel per game."""
    from matplotlib.figure import Figure

    games = list(dict.fromkeys(r.game for r in runs))
    figure = Figure(figsize=(4.6 * len(games), 3.6), layout="constrained")
    axes = figure.subplots(1, len(games), squeeze=False)[0]
    for ax, game in zip(axes, games):
        for r in (r for r in runs if r.game == game):
            if len(r.episodes):
                k = min(10, len(r.episodes))
                smooth = np.convolve(r.episodes[:, 1], np.ones(k) / k, mode="valid")
                line, = ax.plot(r.episodes[k - 1:, 0], smooth, marker="o" if k < 10 else None,
                                label=f"seed {r.seed}" + ("" if r.finished else
                                                          f" (unfinished, {r.steps:,} steps)"))
                ax.plot(r.episodes[:, 0], r.episodes[:, 1], ".", color=line.get_color(),
                        alpha=0.3)  # each game
        ax.set_title(game)
        ax.set_xlim(0, runs[0].total_steps)
        ax.set_xlabel("agent steps")
        ax.set_ylabel("training score")
        ax.grid(alpha=0.3)
        if ax.get_legend_handles_labels()[0]:
            ax.legend(fontsize="small")
    figure.suptitle("dots: training games (raw score); line: 10-game moving mean",
                    fontsize="small")
    return figure


def plot_iqm(iqm: dict):
    """Horizontal bars: IQM of HNS with its 95% CI, ours and any published algorithm."""
    from matplotlib.figure import Figure

    names = list(iqm["iqm"])
    figure = Figure(figsize=(4.6, 1.2 + 0.5 * len(names)), layout="constrained")
    ax = figure.subplots()
    for i, name in enumerate(names):
        point, lo, hi = iqm["iqm"][name]
        ax.barh([i], [point], xerr=[[point - lo], [hi - point]], color=f"C{i}", capsize=4)
    ax.set_yticks(range(len(names)), [f"{n} ({iqm['runs'][n]} runs/game)" for n in names])
    ax.set_xlabel("IQM human-normalised score (95% CI)")
    ax.set_title(f"{len(iqm['games'])} game(s): {', '.join(iqm['games'])}", fontsize="small")
    ax.grid(axis="x", alpha=0.3)
    return figure


# --- command line ---------------------------------------------------------------
class _Parser(OneLineParser):
    name = "atari100k"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m experiments.atari100k",
                     description="Atari 100k study with the data-efficient (DrQ(eps)) preset.")
    parser.add_argument("--games", default=",".join(DEFAULT_GAMES), metavar="GAMES",
                        help="comma-separated Atari games, trained one after another "
                             "(default: %(default)s)")
    parser.add_argument("--seeds", default="0", metavar="SEEDS",
                        help="comma-separated seeds, one run each per game (default: %(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help="study folder: runs/<game>/seed<k>/ and the report "
                             "(default: %(default)s)")
    parser.add_argument("--summarize-only", action="store_true",
                        help="rebuild the table and plots from the run dirs, train nothing "
                             "(default: off)")
    parser.add_argument("--total-steps", default=None, metavar="STEPS",
                        help="shorter runs for smoke tests (default: the benchmark's 100,000)")
    parser.add_argument("--published-dir", default=PUBLISHED_RUNS_DIR, metavar="DIR",
                        help="folder with rliable's per-run score files (DrQ(eps).json, "
                             "SPR.json, DER.json: those present) for the table (default: "
                             "experiments/atari100k_published_runs, DrQ(eps) and SPR)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress line, only per-run lines (default: off)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        games = split_list(args.games)
        seeds = [parse_int(s, "seed") for s in split_list(args.seeds)]
        total = None if args.total_steps is None else parse_int(args.total_steps, "total_steps")
        if not games or not seeds:
            raise AblationError("--games and --seeds must name at least one each")
        check_out(args.out)
        if args.summarize_only:
            print(summarize(args.out, args.published_dir))
            return 0
        return run_study(games, seeds, args.out, total, progress=not args.no_progress,
                         published_dir=args.published_dir)
    except (AblationError, ConfigError, CheckpointError) as error:
        parser.error(str(error))


if __name__ == "__main__":
    sys.exit(main())
