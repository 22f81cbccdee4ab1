"""MinAtar learning evidence with the `minatar` preset (Young & Tian's DQN), resumable.

    python -m experiments.minatar --games Breakout,SpaceInvaders --seeds 0,1 --steps 1000000
    python -m experiments.minatar --report-only

Each game is one run (its seeds side by side, fused engine) in `OUT/runs/<game>/`,
trained one after another; re-running resumes an unfinished run from its checkpoint
(bit-exactly: the JAX env state is saved) and skips a finished one. The report is
rebuilt after every run and with `--report-only`:

  results.md / results.json   per game: training return (mean of each seed's last 100
                              games, as Young & Tian report training returns), the
                              final Nature-protocol evaluation, and a uniform-random
                              policy's score on the same env (100 games) for scale
  curves_<game>.png           `purejaxdqn plot` panels of the run
  young_tian_comparison.png   with --young-tian-image GIF (their README's curve image
                              from a kenjyoung/MinAtar checkout): our curves drawn on
                              their panels, same axes (experiments/young_tian_figure.py)

Young & Tian (2019) publish DQN results as learning-curve images only (kenjyoung/MinAtar
README, img/learning_curves.gif; docs/minatar_facts.md): no numbers are copied here.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

import numpy as np

from experiments.common import AblationError, Interrupted, check_out, split_list
from experiments.runner import decide, train_session
from experiments.young_tian_figure import ImageError, comparison_figure, load_image
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.table import entries
from purejaxdqn.presets import PRESETS
from purejaxdqn.run.checkpoint import CheckpointError
from purejaxdqn.tools.cli import OneLineParser
from purejaxdqn.tools.fieldparse import parse_int
from purejaxdqn.tools.plot import PlotError, load_run, plot_runs
from purejaxdqn.tools.stats import bootstrap_ci

GAMES = tuple(e.name[: -len("-MinAtar")] for e in entries() if e.kind == "minatar")
DEFAULT_OUT = os.path.join("runs", "minatar")  # the committed study: --out experiments/results/minatar
LAST_GAMES = 100


def game_config(game: str, seeds: tuple[int, ...], steps: int) -> Config:
    return PRESETS["minatar"].replace(env_id=f"{game}-MinAtar", seeds=seeds,
                                      total_steps=steps).validate()


def random_score(config: Config, episodes: int = 100) -> dict:
    """A uniform-random policy (epsilon 1) under the evaluation protocol, same env."""
    import jax

    from purejaxdqn.agent import make_agent
    from purejaxdqn.envs.table import make_jax_env
    from purejaxdqn.evaluation import evaluate_jax

    config = config.replace(eval_epsilon=1.0, seeds=(0,))
    spec = make_jax_env(config, 1, 1).spec
    agent = make_agent(config, spec)
    params = jax.tree_util.tree_map(lambda x: x[0], agent.init(
        jax.random.PRNGKey(0)[None]).learner.params)
    return evaluate_jax(config, agent.network, episodes)(params, jax.random.PRNGKey(1), 12_345)


def report(out: str, young_tian_image: str | None = None) -> str:
    """Rebuild the table and curves; with `young_tian_image` (kenjyoung/MinAtar's
    img/learning_curves.gif) also young_tian_comparison.png (experiments/young_tian_figure)."""
    rows, runs = [], {}
    for game in GAMES:
        run_dir = os.path.join(out, "runs", game)
        if not os.path.isdir(run_dir):
            continue
        try:
            run = load_run(run_dir)
        except PlotError:
            continue
        last = {s: g[-LAST_GAMES:, 1].mean() for s, g in run.episodes.items() if len(g)}
        steps = {s: int(g[-1, 0]) for s, g in run.episodes.items() if len(g)}
        mean, lo, hi = (float(x) for x in bootstrap_ci(np.array(list(last.values()))))
        final = run.evals[-len(last):] if run.evals else []
        config = Config.from_dict(run.config)
        rows.append({"game": game, "seeds": sorted(last), "steps": min(steps.values()),
                     "last100_by_seed": {str(s): float(v) for s, v in last.items()},
                     "last100_mean": mean, "last100_ci95": [lo, hi],
                     "final_eval_by_seed": {str(r["seed"]): r["score_mean"] for r in final},
                     "final_eval_step": final[0]["step"] if final else None,
                     "random_policy": random_score(config)["score_mean"]})
        plot_runs([run]).savefig(os.path.join(out, f"curves_{game}.png"), dpi=90)
        runs[game] = run
    if young_tian_image and runs:
        figure = comparison_figure(load_image(young_tian_image), runs)
        figure.savefig(os.path.join(out, "young_tian_comparison.png"), dpi=90)
    with open(os.path.join(out, "results.json"), "w") as f:
        json.dump(rows, f, indent=2)
    lines = ["| game | seeds | agent steps | training return, last 100 games (mean [95% CI]) "
             "| per seed | final eval (eps 0.05) per seed | random policy |",
             "|---|---|---|---|---|---|---|"]
    for r in rows:
        per_seed = ", ".join(f"{v:.2f}" for v in r["last100_by_seed"].values())
        evals = ", ".join(f"{v:.2f}" for v in r["final_eval_by_seed"].values()) or "-"
        lines.append(f"| {r['game']} | {len(r['seeds'])} | {r['steps']:,} | "
                     f"{r['last100_mean']:.2f} [{r['last100_ci95'][0]:.2f}, "
                     f"{r['last100_ci95'][1]:.2f}] | {per_seed} | {evals} | "
                     f"{r['random_policy']:.2f} |")
    table = "\n".join(lines) + "\n"
    with open(os.path.join(out, "results.md"), "w") as f:
        f.write("# MinAtar, `minatar` preset (Young & Tian 2019 DQN)\n\n" + table +
                "\nPublished Young & Tian DQN results exist only as curve images "
                "(kenjyoung/MinAtar README); compare by eye, see experiments/README.md.\n")
    return table


class _Parser(OneLineParser):
    name = "experiments.minatar"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m experiments.minatar", description=__doc__.split("\n")[0])
    parser.add_argument("--games", default="Breakout,SpaceInvaders", metavar="GAMES",
                        help=f"comma-separated, from: {', '.join(GAMES)} (default: %(default)s)")
    parser.add_argument("--seeds", default="0,1", metavar="SEEDS",
                        help="comma-separated seeds, trained side by side in one run per game "
                             "(default: %(default)s)")
    parser.add_argument("--steps", default="1000000", metavar="STEPS",
                        help="agent steps per seed (default: %(default)s)")
    parser.add_argument("--out", default=DEFAULT_OUT, metavar="DIR",
                        help="study folder: runs/<game>/ and the report (default: %(default)s)")
    parser.add_argument("--young-tian-image", metavar="GIF", default=None,
                        help="img/learning_curves.gif of a kenjyoung/MinAtar checkout: also "
                             "draw our curves on their published ones "
                             "(young_tian_comparison.png; default: off)")
    parser.add_argument("--report-only", action="store_true",
                        help="rebuild the table and curves from the run dirs, train nothing "
                             "(default: off)")
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        games = split_list(args.games)
        unknown = [g for g in games if g not in GAMES]
        if unknown or not games:
            raise ConfigError(f"unknown MinAtar game(s) {', '.join(unknown) or '(none)'}; "
                              f"choose from {', '.join(GAMES)}")
        seeds = tuple(parse_int(s, "seed") for s in split_list(args.seeds))
        check_out(args.out)
        if args.young_tian_image:
            load_image(args.young_tian_image)  # a wrong file fails now, not after training
        configs = {g: game_config(g, seeds, parse_int(args.steps, "--steps")) for g in games}
        # every run dir checked before any training; a larger --steps extends a finished run
        plan = [] if args.report_only else [
            (game, config, path, decide(path, config, extend=True))
            for game, config in configs.items()
            for path in [os.path.join(args.out, "runs", game)]]
    except (ConfigError, AblationError, ImageError) as error:
        print(f"experiments.minatar: error: {error}", file=sys.stderr)
        return 2
    os.makedirs(args.out, exist_ok=True)
    for game, config, path, action in plan:
        if action == "reuse":
            continue
        try:
            train_session(config, path, action, label=game, progress=False)
        except CheckpointError as error:
            print(f"experiments.minatar: error: {error}", file=sys.stderr)
            return 2
        except Interrupted as stopped:
            print(stopped)
            return stopped.exit_code
    print(report(args.out, args.young_tian_image))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
