"""The ablation's report from its run dirs: collect the evaluations, then results.csv,
results.md (final and AUC score with bootstrap CIs, IQM across games) and the plot."""

from __future__ import annotations

import csv
import dataclasses
import os
import re
from typing import Any, Iterable, Sequence

import numpy as np

from experiments.ablate.plan import canonical_env, has_human_score
from experiments.ablate.statistics import curve_auc, iqm_with_ci
from experiments.common import (CSV_NAME, MANIFEST_NAME, PLOT_NAME, TABLE_NAME, AblationError,
                                read_json)
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.presets import VARIANTS
from purejaxdqn.tools.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE, bootstrap_ci

CSV_COLUMNS = ("env", "variant", "seed", "step", "score_mean", "score_median", "score_std",
               "score_min", "score_max", "episodes", "length_mean", "human_normalized")


@dataclasses.dataclass
class RunResult:
    env: str
    variant: str
    run_dir: str
    game: str | None  # Atari game with a human score (for HNS), else None
    total_steps: int
    eval_episodes: int
    eval_epsilon: float
    rows: list[dict]  # eval.jsonl rows, one per (seed, step), sorted
    seeds: list[int]
    steps: np.ndarray  # evaluation steps that every seed has
    scores: np.ndarray  # [seeds, steps] mean evaluation score
    launches: int = 1  # run dirs the seeds came from (a sweep's seed groups: several)

    @property
    def final(self) -> np.ndarray:
        return self.scores[:, -1]

    @property
    def auc(self) -> np.ndarray:
        return curve_auc(self.steps, self.scores)

    @property
    def final_step(self) -> int:
        return int(self.steps[-1])


def collect(out_dir: str) -> list[RunResult]:
    """Every run under out_dir/runs/<env>/<variant>/ with at least one evaluation,
    ordered by ablation.json (envs, variants as asked), then VARIANTS, then name."""
    runs_root = os.path.join(out_dir, "runs")
    if not os.path.isdir(runs_root):
        raise AblationError(f"no runs under {runs_root}; run the ablation first")
    manifest = read_json(os.path.join(out_dir, MANIFEST_NAME)) or {}
    env_order = _order(os.listdir(runs_root), manifest.get("envs", []))
    results = []
    for env in env_order:
        env_dir = os.path.join(runs_root, env)
        if not os.path.isdir(env_dir):
            continue
        for variant in _order(os.listdir(env_dir), manifest.get("variants", []) + list(VARIANTS)):
            result = _load_run(env, variant, os.path.join(env_dir, variant))
            if result is not None:
                results.append(result)
    if not results:
        raise AblationError(f"no evaluated runs under {runs_root}; run the ablation first")
    return results


def _order(names: Iterable[str], preferred: Sequence[str]) -> list[str]:
    names = set(names)
    first = [n for n in dict.fromkeys(preferred) if n in names]
    return first + sorted(names - set(first))


def _run_parts(run_dir: str) -> list[str]:
    """The run dirs holding a variant's seeds: the variant dir itself (all seeds side
    by side) or its seed-group subdirectories (seed-<s>, seeds-<a>-<b>)."""
    if not os.path.isdir(run_dir):
        return []
    if os.path.exists(os.path.join(run_dir, "config.json")):
        return [run_dir]
    subdirs = (os.path.join(run_dir, name) for name in sorted(os.listdir(run_dir))
               if re.fullmatch(r"seeds?(-\d+)+", name))
    return [d for d in subdirs if os.path.exists(os.path.join(d, "config.json"))]


def _load_run(env: str, variant: str, run_dir: str) -> RunResult | None:
    from purejaxdqn.run.runlog import read_jsonl

    parts = _run_parts(run_dir)
    config = read_json(os.path.join(parts[0], "config.json")) if parts else None
    if not isinstance(config, dict):
        return None
    latest: dict[tuple[int, int], dict] = {}
    for row in (row for part in parts for row in read_jsonl(os.path.join(part, "eval.jsonl"))):
        latest[(int(row["seed"]), int(row["step"]))] = row  # a repeat keeps the newest
    if not latest:
        return None
    rows = [latest[key] for key in sorted(latest)]
    seeds = sorted({seed for seed, _ in latest})
    steps = sorted(set.intersection(*({s for (k, s) in latest if k == seed} for seed in seeds)))
    if not steps:
        return None
    scores = np.array([[latest[(seed, step)]["score_mean"] for step in steps]
                       for seed in seeds], dtype=np.float64)
    game = None
    try:
        _, kind, atari_game = canonical_env(config.get("env_id", env))
        game = atari_game if has_human_score(atari_game) else None
    except ConfigError:
        pass
    default = Config()
    return RunResult(env, variant, run_dir, game,
                     int(config.get("total_steps", steps[-1])),
                     int(config.get("eval_episodes", default.eval_episodes)),
                     float(config.get("eval_epsilon", default.eval_epsilon)),
                     rows, seeds, np.array(steps), scores, len(parts))


def summarize(out_dir: str) -> str:
    """(Re)build results.csv, results.md and learning_curves.png in `out_dir` from its
    run dirs, without training; return the Markdown. Everything is computed before
    anything is written, so an error (AblationError) leaves the old files."""
    results = collect(out_dir)
    markdown = render_markdown(results, out_dir)
    figure = plot_curves(results)
    _write_csv(results, os.path.join(out_dir, CSV_NAME))
    with open(os.path.join(out_dir, TABLE_NAME), "w") as f:
        f.write(markdown)
    figure.savefig(os.path.join(out_dir, PLOT_NAME), dpi=120)
    return markdown


def _write_csv(results: list[RunResult], path: str) -> None:
    from purejaxdqn.envs.scores import human_normalized

    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(CSV_COLUMNS)
        for r in results:
            for row in r.rows:
                hns = human_normalized(r.game, row["score_mean"]) if r.game else ""
                writer.writerow([r.env, r.variant, row["seed"], row["step"]] +
                                [row.get(c, "") for c in CSV_COLUMNS[4:-1]] + [hns])


def _num(x: float, digits: int = 1) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{x:.{digits}f}"


def _ci(lo: float, hi: float, digits: int = 1) -> str:
    return f"[{_num(lo, digits)}, {_num(hi, digits)}]"


def _same(values: Iterable[Any]) -> Any:
    values = set(values)
    return values.pop() if len(values) == 1 else None


def render_markdown(results: list[RunResult], out_dir: str = "OUT") -> str:
    envs = list(dict.fromkeys(r.env for r in results))
    variants = list(dict.fromkeys(r.variant for r in results))
    conf = f"{CONFIDENCE:.0%}"
    lines = [f"# Ablation: {', '.join(variants)} on {', '.join(envs)}", ""]
    seeds = _same(tuple(r.seeds) for r in results)
    budget = _same(r.total_steps for r in results)
    protocol = _same((r.eval_episodes, r.eval_epsilon) for r in results)
    facts = []
    if seeds and all(r.launches == 1 for r in results):
        facts.append(f"seeds {', '.join(map(str, seeds))}, trained side by side "
                     "(one launch per variant)")
    elif seeds:
        facts.append(f"seeds {', '.join(map(str, seeds))}, in separate runs per seed group")
    if budget:
        facts.append(f"{budget:,} agent steps per seed")
    if protocol:
        facts.append(f"each evaluation: mean score of {protocol[0]} episodes at "
                     f"ε = {protocol[1]:g}")
    if facts:
        text = "; ".join(facts)
        lines += [text[0].upper() + text[1:] + ".", ""]
    lines += [
        f"**Table 1.** *Final score*: mean evaluation score at the last evaluation. "
        f"*AUC score*: area under the evaluation curve (score vs agent steps, trapezoid rule) "
        f"divided by its step range from the first to the last evaluation, i.e. the curve's "
        f"average height. Each is the mean over seeds with a {conf} percentile-bootstrap CI "
        f"over seeds ({BOOTSTRAP_RESAMPLES:,} resamples, numpy RNG seed {BOOTSTRAP_SEED}).",
        "",
        f"| env | variant | seeds | steps | final score | final {conf} CI | AUC score | "
        f"AUC {conf} CI |",
        "|---|---|---:|---:|---:|---|---:|---|",
    ]
    for r in results:
        final, final_lo, final_hi = bootstrap_ci(r.final)
        auc, auc_lo, auc_hi = bootstrap_ci(r.auc)
        steps = f"{r.final_step:,}"
        if r.final_step < r.total_steps:
            steps += f" of {r.total_steps:,} (unfinished)"
        lines.append(f"| {r.env} | {r.variant} | {len(r.seeds)} | {steps} | {_num(final)} | "
                     f"{_ci(final_lo, final_hi)} | {_num(auc)} | {_ci(auc_lo, auc_hi)} |")
    if len(envs) > 1:
        section = _iqm_section(results, envs, variants)
        while section and not section[-1]:
            section.pop()
        lines += [""] + section
    lines += ["", f"Learning curves: `{PLOT_NAME}`; every evaluation: `{CSV_NAME}`. "
              f"Rebuild without training: `python -m experiments.ablate --summarize-only "
              f"--out {out_dir}`.", ""]
    return "\n".join(lines)


def _iqm_section(results: list[RunResult], envs: list[str], variants: list[str]) -> list[str]:
    from purejaxdqn.envs.scores import human_normalized

    games = [env for env in envs if any(r.env == env and r.game for r in results)]
    lines = ["## Across games: IQM of human-normalised score", ""]
    if not games:
        return lines + ["No Atari game with a human score among these envs, so no "
                        "human-normalised IQM (human scores exist for Atari only).", ""]
    by_key = {(r.env, r.variant): r for r in results}
    final, auc, notes, shape = {}, {}, [], {}
    for variant in variants:
        runs = [by_key.get((game, variant)) for game in games]
        if any(run is None for run in runs):
            notes.append(f"{variant} is left out: it has no run on "
                         f"{', '.join(g for g, run in zip(games, runs) if run is None)}.")
            continue
        common = sorted(set.intersection(*(set(run.seeds) for run in runs)))
        if not common:
            notes.append(f"{variant} is left out: no seed was run on every game.")
            continue
        rows = [[run.seeds.index(s) for s in common] for run in runs]
        final[variant] = np.array([[human_normalized(run.game, run.final[i]) for run, i in
                                    zip(runs, picks)] for picks in zip(*rows)])
        auc[variant] = np.array([[human_normalized(run.game, run.auc[i]) for run, i in
                                  zip(runs, picks)] for picks in zip(*rows)])
        shape[variant] = (len(common), len(games))
    skipped = [env for env in envs if env not in games]
    if skipped:
        notes.append(f"Not in the IQM (no human score): {', '.join(skipped)}.")
    if final:
        final_iqm, auc_iqm = iqm_with_ci(final), iqm_with_ci(auc)
        lines += [
            f"**Table 2.** Interquartile mean over all (seed, game) runs of the human-"
            f"normalised score (agent − random) / (human − random), with the Nature paper's "
            f"random and human scores (`purejaxdqn.envs.scores.human_normalized`; 1.0 = human), "
            f"for the final and the AUC score of Table 1; {CONFIDENCE:.0%} stratified-bootstrap "
            f"CIs (seeds resampled within each game) from rliable, {BOOTSTRAP_RESAMPLES:,} "
            f"resamples, RNG seed {BOOTSTRAP_SEED}. Games: {', '.join(games)}.",
            "",
            f"| variant | games | seeds | IQM HNS final | {CONFIDENCE:.0%} CI | IQM HNS AUC | "
            f"{CONFIDENCE:.0%} CI |",
            "|---|---:|---:|---:|---|---:|---|",
        ]
        for variant in final:
            f_point, f_lo, f_hi = final_iqm[variant]
            a_point, a_lo, a_hi = auc_iqm[variant]
            n_seeds, n_games = shape[variant]
            lines.append(f"| {variant} | {n_games} | {n_seeds} | {_num(f_point, 3)} | "
                         f"{_ci(f_lo, f_hi, 3)} | {_num(a_point, 3)} | {_ci(a_lo, a_hi, 3)} |")
        lines.append("")
    return lines + notes + ([""] if notes else [])


def plot_curves(results: list[RunResult]):
    """A matplotlib Figure: mean evaluation score vs agent steps per variant, shaded
    95% bootstrap CI over seeds, one panel per env (no pyplot, no global state)."""
    from matplotlib.figure import Figure

    envs = list(dict.fromkeys(r.env for r in results))
    variants = list(dict.fromkeys(r.variant for r in results))
    colors = {v: f"C{i % 10}" for i, v in enumerate(variants)}
    figure = Figure(figsize=(5.2 * len(envs), 4.0), layout="constrained")
    axes = figure.subplots(1, len(envs), squeeze=False)[0]
    for ax, env in zip(axes, envs):
        for r in (r for r in results if r.env == env):
            mean, lo, hi = bootstrap_ci(r.scores)
            ax.plot(r.steps, mean, color=colors[r.variant], marker="o", markersize=3,
                    label=f"{r.variant} ({len(r.seeds)} seeds)")
            ax.fill_between(r.steps, lo, hi, color=colors[r.variant], alpha=0.2, linewidth=0)
        ax.set_title(env)
        ax.set_xlabel("agent steps")
        ax.set_ylabel("evaluation score")
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    figure.suptitle(f"mean over seeds; shaded: {CONFIDENCE:.0%} bootstrap CI over seeds",
                    fontsize="medium")
    return figure
