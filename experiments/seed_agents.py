"""The four agents of the users' seed notes, one command each.

    python -m experiments.seed_agents lunarlander --seeds 0,1,2
    python -m experiments.seed_agents spaceinvaders-ram --seeds 0 --random-episodes 100
    python -m experiments.seed_agents breakout-double --seeds 0
    python -m experiments.seed_agents breakout-double-nature --seeds 0
    python -m experiments.seed_agents breakout-cropped --seeds 0

Each agent is a named preset (`purejaxdqn.presets.PRESETS`, mapped setting by
setting to its note in experiments/README.md). The seeds train side by side in
ONE `train()` call into `OUT/runs/<agent>/` (OUT defaults to
experiments/results/<agent>); re-running the same command resumes an
interrupted run from its checkpoint or reuses a finished one. Then
`summarize` reads the run's logs and writes, in OUT:

  curves.png   what the notes plot: raw score of every training episode and its
               100-episode running average against episodes (one colour per seed),
               and the training loss and mean Q against agent steps
  results.md   per seed: episodes, steps, last-100 mean (95% bootstrap CI over
               those episodes), episodes-to-solve where the agent has a solve
               score, the final greedy evaluation; and the random baseline if measured
  results.json the same numbers

`--random-episodes N` also plays N episodes with a uniform-random policy in the
same environment (the training env settings) and reports their mean and 95%
bootstrap CI, for the "above random play" comparison. `--summarize-only`
rebuilds the outputs from the logs without training (with `--random-episodes`,
after measuring the random baseline). A larger `--total-steps` than a finished
run's continues it from its checkpoint; a smaller one than a stopped run's (not below
the steps it reached) resumes it to that total and ends it with the final evaluation,
which is how an open-ended preset (spaceinvaders-ram) is closed after Ctrl-C.
Bad input: one line on stderr, exit code 2.
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import json
import os
import sys
from typing import Any, Sequence

import numpy as np

if __package__ in (None, ""):  # `python experiments/seed_agents.py` from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from experiments.ablate.plan import parse_overrides
from experiments.common import (AblationError, Interrupted, check_out, read_json, split_list,
                                write_json)
from experiments.runner import decide, train_session, wall_s
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.presets import get_preset
from purejaxdqn.run.checkpoint import CheckpointError
from purejaxdqn.tools.cli import OneLineParser
from purejaxdqn.tools.fieldparse import parse_int
from purejaxdqn.tools.plot import running_mean  # the notes' 100-game average, as plots draw it
from purejaxdqn.tools.stats import bootstrap_ci

WINDOW = 100  # the notes' running average, and LunarLander's solve window


@dataclasses.dataclass(frozen=True)
class SeedAgent:
    preset: str
    note: str  # which file of ../shared/seeds/ it comes from
    solve_score: float | None = None  # solved when the last-100 mean reaches this


AGENTS: dict[str, SeedAgent] = {
    "lunarlander": SeedAgent("lunarlander", "000", solve_score=200.0),
    "spaceinvaders-ram": SeedAgent("spaceinvaders-ram", "003"),
    "breakout-double": SeedAgent("breakout-double", "004"),
    "breakout-double-nature": SeedAgent("breakout-double-nature", "004"),
    "breakout-cropped": SeedAgent("breakout-cropped", "002"),
}


# --- statistics over episode logs (pure) ----------------------------------------
def episodes_to_solve(scores: Sequence[float], threshold: float,
                      window: int = WINDOW) -> int | None:
    """1-based index of the first episode whose last-`window` mean (a full window) is
    >= threshold, or None. Note 000 prints this number minus 100."""
    means = running_mean(scores, window)
    hits = np.flatnonzero(means[window - 1:] >= threshold)
    return int(hits[0]) + window if hits.size else None


def read_episodes(run_dir: str) -> dict[int, dict[str, np.ndarray]]:
    """episodes.csv -> {seed: {"step", "score", "length"}} in logged (episode) order."""
    rows: dict[int, list[tuple[int, float, int]]] = {}
    path = os.path.join(run_dir, "episodes.csv")
    if os.path.exists(path):
        with open(path, newline="") as f:
            for row in csv.DictReader(f):
                rows.setdefault(int(row["seed"]), []).append(
                    (int(row["step"]), float(row["score"]), int(row["length"])))
    return {seed: {"step": np.array([r[0] for r in rs]), "score": np.array([r[1] for r in rs]),
                   "length": np.array([r[2] for r in rs])} for seed, rs in sorted(rows.items())}


# --- random baseline --------------------------------------------------------------
def random_baseline(config: Config, episodes: int, seed: int = 12_345) -> np.ndarray:
    """Raw scores of `episodes` full episodes of uniform-random play, in the training env
    (same settings and time limit), on `min(episodes, 16)` envs."""
    from purejaxdqn.envs.envpool import VecEnv

    num_envs = min(episodes, 16)
    env = VecEnv(config, num_envs, seed, config.max_episode_steps)
    rng = np.random.default_rng(seed)
    scores: list[float] = []
    env.reset()
    while len(scores) < episodes:
        step = env.step(rng.integers(0, env.spec.num_actions, num_envs))
        scores.extend(step.episode_return[~np.isnan(step.episode_return)].tolist())
    env.close()
    return np.array(scores[:episodes])


# --- running ----------------------------------------------------------------------
def agent_config(name: str, seeds: Sequence[int], total_steps: int | None = None,
                 overrides: Any = None) -> Config:
    if name not in AGENTS:
        raise AblationError(f"unknown agent {name!r}; choose from {', '.join(AGENTS)}")
    config = get_preset(AGENTS[name].preset).replace(**parse_overrides(overrides))
    config = config.replace(seeds=tuple(seeds), seed=seeds[0])
    if total_steps is not None:
        config = config.replace(total_steps=total_steps)
    return config.validate()


def run_agent(name: str, seeds: Sequence[int], out_dir: str, total_steps: int | None = None,
              overrides: Any = None, random_episodes: int = 0, quiet: bool = False) -> str:
    """Train (or resume, or reuse) the agent's run, then summarize; return results.md's path."""
    config = agent_config(name, seeds, total_steps, overrides)
    run_dir = os.path.join(out_dir, "runs", name)
    action = decide(run_dir, config, extend=True)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    if action != "reuse":
        say(f"{name}: {'training' if action == 'train' else action + 'ing'} seeds "
            f"{','.join(map(str, config.all_seeds))} for {config.total_steps:,} steps -> {run_dir}")
        try:
            train_session(config, run_dir, action, label=name, progress=not quiet)
        except Interrupted:
            summarize(name, out_dir)
            raise
    if random_episodes:
        say(f"{name}: {random_episodes} episodes of uniform-random play")
        measure_random(config, out_dir, random_episodes)
    return summarize(name, out_dir)


def measure_random(config: Config, out_dir: str, episodes: int) -> None:
    """random_baseline.json: scores of uniform-random play, mean and 95% bootstrap CI."""
    scores = random_baseline(config, episodes)
    mean, lo, hi = bootstrap_ci(scores)
    os.makedirs(out_dir, exist_ok=True)
    write_json(os.path.join(out_dir, "random_baseline.json"), {
        "episodes": int(scores.size), "mean": mean, "ci95": [lo, hi],
        "std": float(scores.std()), "scores": scores.tolist(),
        "env_id": config.env_id, "max_episode_steps": config.max_episode_steps,
        "sticky_action_prob": config.sticky_action_prob})


# --- summarizing --------------------------------------------------------------------
def summarize(name: str, out_dir: str) -> str:
    """Write curves.png, results.md and results.json in out_dir from its run's logs."""
    agent = AGENTS[name]
    run_dir = os.path.join(out_dir, "runs", name)
    if not os.path.exists(os.path.join(run_dir, "config.json")):
        raise AblationError(f"{run_dir} holds no run to summarize")
    with open(os.path.join(run_dir, "config.json")) as f:
        seeds = Config.from_dict(json.load(f)).all_seeds
    empty = {"step": np.zeros(0, int), "score": np.zeros(0), "length": np.zeros(0, int)}
    episodes = {seed: empty for seed in seeds} | read_episodes(run_dir)
    from purejaxdqn.run.runlog import read_jsonl

    metrics = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    evals = read_jsonl(os.path.join(run_dir, "eval.jsonl"))
    random = read_json(os.path.join(out_dir, "random_baseline.json"))
    per_seed = []
    for seed, ep in episodes.items():
        last = ep["score"][-WINDOW:]
        mean, lo, hi = bootstrap_ci(last)
        row = {"seed": seed, "episodes": int(ep["score"].size),
               "steps": int(ep["step"][-1]) if ep["step"].size else 0,
               "last100_mean": mean, "last100_ci95": [lo, hi],
               "best100_mean": float(running_mean(ep["score"])[WINDOW - 1:].max())
               if ep["score"].size >= WINDOW else None}
        if agent.solve_score is not None:
            solved = episodes_to_solve(ep["score"], agent.solve_score)
            row["episodes_to_solve"] = solved
            row["steps_to_solve"] = int(ep["step"][solved - 1]) if solved else None
        seed_evals = [e for e in evals if e["seed"] == seed]
        if seed_evals:
            row["final_eval"] = {k: seed_evals[-1][k] for k in
                                 ("step", "score_mean", "score_median", "episodes")}
        per_seed.append(row)
    result = {"agent": name, "preset": agent.preset, "note": agent.note,
              "solve_score": agent.solve_score, "seeds": per_seed, "random_baseline":
              None if random is None else {k: random[k] for k in ("episodes", "mean", "ci95")},
              "wall_time_s": wall_s(run_dir)}
    if random is not None:  # a fixed-episode window above the random CI, per seed
        for row in per_seed:
            row["above_random"] = row["last100_ci95"][0] > random["ci95"][1]
    write_json(os.path.join(out_dir, "results.json"), result)
    figure = plot_curves(name, episodes, metrics, agent.solve_score, random)
    figure.savefig(os.path.join(out_dir, "curves.png"), dpi=110)
    path = os.path.join(out_dir, "results.md")
    with open(path, "w") as f:
        f.write(render_markdown(result))
    return path


def render_markdown(result: dict) -> str:
    solve = result["solve_score"]
    lines = [f"# {result['agent']} (note {result['note']}, preset `{result['preset']}`)", ""]
    head = "| seed | episodes | agent steps | last-100 mean [95% CI] | best 100-ep mean |"
    rule = "|---:|---:|---:|---:|---:|"
    if solve is not None:
        head += f" episodes to solve (mean ≥ {solve:g}) | note's printout (− 100) | steps to solve |"
        rule += "---:|---:|---:|"
    if any("final_eval" in r for r in result["seeds"]):
        head += " final greedy eval mean (episodes) |"
        rule += "---:|"
    lines += [head, rule]
    for r in result["seeds"]:
        best = "-" if r["best100_mean"] is None else f"{r['best100_mean']:.1f}"
        line = (f"| {r['seed']} | {r['episodes']:,} | {r['steps']:,} | {r['last100_mean']:.1f} "
                f"[{r['last100_ci95'][0]:.1f}, {r['last100_ci95'][1]:.1f}] | {best} |")
        if solve is not None:
            n = r["episodes_to_solve"]
            line += (f" {n} | {n - WINDOW} | {r['steps_to_solve']:,} |" if n else
                     " not solved | - | - |")
        if "final_eval" in r:
            e = r["final_eval"]
            line += f" {e['score_mean']:.1f} ({e['episodes']}) |"
        lines.append(line)
    if solve is not None:
        solved = [r["episodes_to_solve"] for r in result["seeds"]]
        if all(solved):
            mean, lo, hi = bootstrap_ci(solved)
            lines += ["", f"All {len(solved)} seeds solved; episodes to solve: mean {mean:.0f} "
                          f"[95% bootstrap CI over seeds {lo:.0f}, {hi:.0f}]."]
        else:
            lines += ["", f"{sum(map(bool, solved))} of {len(solved)} seeds solved."]
    random = result["random_baseline"]
    if random is not None:
        lines += ["", f"Uniform-random play, same env: mean {random['mean']:.1f} "
                      f"[95% bootstrap CI {random['ci95'][0]:.1f}, {random['ci95'][1]:.1f}] "
                      f"over {random['episodes']} episodes."]
        for r in result["seeds"]:
            verdict = "above" if r["above_random"] else "not above"
            lines.append(f"Seed {r['seed']}: last-100 training mean CI is {verdict} the random "
                         "CI.")
    lines += ["", "Training scores are raw game scores of the training episodes (with the "
                  "agent's exploration), as the notes plot them.",
              "" if result["wall_time_s"] is None else
              f"Wall time of the training: {result['wall_time_s'] / 60:.1f} min on a shared "
              "2-core AMD EPYC CPU (no accelerator).", ""]
    return "\n".join(lines)


def plot_curves(name: str, episodes: dict, metrics: list[dict], solve_score: float | None,
                random: dict | None):
    """Raw episode scores and their 100-episode running mean against episodes; loss and
    mean Q against agent steps; one colour per seed (a Figure, no pyplot)."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(15, 4.2), layout="constrained")
    score_ax, loss_ax, q_ax = figure.subplots(1, 3)
    for i, (seed, ep) in enumerate(episodes.items()):
        x = np.arange(1, ep["score"].size + 1)
        score_ax.plot(x, ep["score"], color=f"C{i}", alpha=0.25, linewidth=0.6)
        score_ax.plot(x, running_mean(ep["score"]), color=f"C{i}", linewidth=1.8,
                      label=f"seed {seed}: 100-episode mean")
        rows = [m for m in metrics if m["seed"] == seed and m.get("loss") is not None]
        steps = [m["step"] for m in rows]
        loss_ax.plot(steps, [m["loss"] for m in rows], color=f"C{i}", label=f"seed {seed}")
        q_ax.plot(steps, [m["q_mean"] for m in rows], color=f"C{i}", label=f"seed {seed}")
    if solve_score is not None:
        score_ax.axhline(solve_score, color="k", linestyle="--", linewidth=1,
                         label=f"solved: {solve_score:g}")
    if random is not None:
        score_ax.axhspan(*random["ci95"], color="gray", alpha=0.4,
                         label=f"random play, 95% CI ({random['episodes']} episodes)")
    score_ax.set(title=f"{name}: training episode scores (faint: raw)", xlabel="episode",
                 ylabel="score")
    loss_ax.set(title="TD loss of the last learn call before each log row", xlabel="agent steps",
                ylabel="loss")
    loss_ax.set_yscale("log")
    q_ax.set(title="mean Q of sampled batches", xlabel="agent steps", ylabel="mean Q")
    for ax in (score_ax, loss_ax, q_ax):
        ax.grid(alpha=0.3)
        ax.legend(fontsize="small")
    return figure


# --- command line -------------------------------------------------------------------
class _Parser(OneLineParser):
    name = "seed_agents"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m experiments.seed_agents",
                     description="Train one of the seed notes' agents and plot it like the note.")
    parser.add_argument("agent", help=f"one of: {', '.join(AGENTS)}")
    parser.add_argument("--seeds", default="0,1,2",
                        help="comma-separated seeds, trained side by side (default: %(default)s)")
    parser.add_argument("--total-steps", default=None, metavar="STEPS",
                        help="agent steps per seed (default: the preset's)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output dir (default: runs/<agent>; the committed results: "
                             "experiments/results/<agent>)")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[],
                        metavar="FIELD=VALUE",
                        help="config overrides on the preset (default: none)")
    parser.add_argument("--random-episodes", default="0", metavar="N",
                        help="also measure N episodes of uniform-random play (default: 0)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.add_argument("--summarize-only", action="store_true",
                        help="rebuild curves.png and results.md/json from the logs; no training")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    out_dir = args.out or os.path.join("runs", args.agent)
    try:
        if args.agent not in AGENTS:
            raise AblationError(f"unknown agent {args.agent!r}; choose from {', '.join(AGENTS)}")
        check_out(out_dir)
        seeds = [parse_int(s, "--seeds") for s in split_list(args.seeds)]
        if not seeds:
            raise AblationError("--seeds is empty")
        total = None if args.total_steps is None else parse_int(args.total_steps,
                                                                 "--total-steps")
        random_episodes = parse_int(args.random_episodes, "--random-episodes")
        if random_episodes < 0:
            raise AblationError(f"--random-episodes must be >= 0, got {random_episodes}")
        if args.summarize_only:  # no training; the random baseline if asked for
            if random_episodes:
                measure_random(agent_config(args.agent, seeds, total, args.overrides),
                               out_dir, random_episodes)
            path = summarize(args.agent, out_dir)
        else:
            path = run_agent(args.agent, seeds, out_dir, total, args.overrides,
                             random_episodes, args.quiet)
    except (AblationError, ConfigError, CheckpointError) as error:
        print(f"seed_agents: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"seed_agents: {error}", file=sys.stderr)
        return error.exit_code
    with open(path) as f:
        print(f.read(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
