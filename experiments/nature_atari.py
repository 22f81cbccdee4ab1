"""The Nature preset on an Atari game, per 1M-frame iteration, beside Dopamine's DQN.

    python -m experiments.nature_atari --run RUN_DIR --out experiments/results/nature-breakout
                                       [--dopamine CSV] [--game-label Breakout]

Dopamine reports one number per iteration of 1M frames (250k agent steps) and seed: the
average return of the training games of that iteration. The table puts beside it, for
the same iterations, the run's average raw training score over the games that ended in
that iteration and its Nature-protocol evaluation (ε 0.05) at the iteration's end. The
protocols differ (the study's README lists how); the evaluation column is the one that
measures the policy itself. Writes OUT/results.md and OUT/curves.png, and copies the
run's logs (not its checkpoint) into OUT/run/.
"""

from __future__ import annotations

import csv
import os
import shutil
import sys
from typing import Sequence

import numpy as np

from experiments.common import AblationError, check_out
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.tools.cli import OneLineParser

ITERATION = 250_000  # agent steps: Dopamine's iteration of 1M frames
LOGS = ("config.json", "episodes.csv", "metrics.jsonl", "eval.jsonl", "summary.json")


def dopamine_rows(path: str) -> dict[int, list[float]]:
    """{iteration: [value per seed]} from the committed CSV (comment lines start with #)."""
    with open(path) as f:
        rows = list(csv.reader(line for line in f if not line.startswith("#")))
    return {int(r[0]): [float(v) for v in r[1:]] for r in rows[1:]}


def our_iterations(run_dir: str) -> tuple[dict[int, list[float]], dict[int, float], int]:
    """({iteration: training scores}, {iteration: evaluation mean at its end}, steps)."""
    train: dict[int, list[float]] = {}
    with open(os.path.join(run_dir, "episodes.csv")) as f:
        for row in csv.DictReader(f):
            step = int(row["step"])
            train.setdefault((step - 1) // ITERATION, []).append(float(row["score"]))
    evals = {row["step"] // ITERATION - 1: row["score_mean"]
             for row in read_jsonl(os.path.join(run_dir, "eval.jsonl"))
             if row["step"] % ITERATION == 0}
    steps = max([int(r["step"]) for r in read_jsonl(os.path.join(run_dir, "metrics.jsonl"))],
                default=0)
    return train, evals, steps


def table(dopamine: dict, train: dict, evals: dict, steps: int) -> str:
    lines = ["| iteration (1M frames) | agent steps | Dopamine DQN, training return: mean "
             "[min, max] of 5 seeds | ours, training return (games) | ours, evaluation "
             "ε 0.05 |", "|---|---|---|---|---|"]
    for it in range(max(steps // ITERATION, 0) + (steps % ITERATION > 0)):
        ref = dopamine.get(it)
        ref_text = f"{np.mean(ref):.1f} [{min(ref):.1f}, {max(ref):.1f}]" if ref else "-"
        games = train.get(it, [])
        ours = f"{np.mean(games):.1f} ({len(games)})" if games else "-"
        partial = " (so far)" if (it + 1) * ITERATION > steps else ""
        ev = f"{evals[it]:.1f}" if it in evals else "-"
        lines.append(f"| {it} | {it * ITERATION:,}–{(it + 1) * ITERATION:,}{partial} | "
                     f"{ref_text} | {ours} | {ev} |")
    return "\n".join(lines)


def plot(dopamine: dict, train: dict, evals: dict, label: str, out: str, steps: int) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.2))
    its = sorted(i for i in dopamine if i <= max([*train, *evals, 0]) + 2)
    ref = np.array([dopamine[i] for i in its])
    x = (np.array(its) + 1) * 4  # millions of frames at the iteration's end
    ax.plot(x, ref.mean(1), color="0.3", label="Dopamine DQN (5 seeds, training returns)")
    ax.fill_between(x, ref.min(1), ref.max(1), color="0.3", alpha=0.2)
    done = sorted(train)
    # an iteration still under way is drawn where it has got to
    ax.plot([min((i + 1) * 4, steps * 4 / 1e6) for i in done], [np.mean(train[i]) for i in done],
            "o-",
            color="C0", label="ours, training games")
    if evals:
        ax.plot([(i + 1) * 4 for i in sorted(evals)], [evals[i] for i in sorted(evals)],
                "s--", color="C1", label="ours, Nature evaluation (ε 0.05)")
    ax.set_xlabel("frames (millions)")
    ax.set_ylabel("score")
    ax.set_title(f"{label}: Nature preset vs Dopamine's DQN baseline")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=110)


def main(argv: Sequence[str] | None = None) -> int:
    parser = OneLineParser(prog="python -m experiments.nature_atari",
                           description=__doc__.splitlines()[0])
    parser.name = "nature_atari"
    parser.add_argument("--run", required=True, metavar="RUN_DIR", help="the training run")
    parser.add_argument("--out", required=True, metavar="DIR", help="where the report goes")
    parser.add_argument("--dopamine", default=None, metavar="CSV",
                        help="Dopamine's per-iteration values (default: OUT/"
                             "dopamine_dqn_breakout.csv)")
    parser.add_argument("--game-label", default="Breakout")
    args = parser.parse_args(argv)
    reference = args.dopamine or os.path.join(args.out, "dopamine_dqn_breakout.csv")
    try:
        for path in (os.path.join(args.run, "episodes.csv"), reference):
            if not os.path.exists(path):
                raise AblationError(f"{path} does not exist")
        check_out(args.out)
        os.makedirs(os.path.join(args.out, "run"), exist_ok=True)
    except (AblationError, OSError) as error:
        print(f"nature_atari: error: {error}", file=sys.stderr)
        return 2
    dopamine = dopamine_rows(reference)
    train, evals, steps = our_iterations(args.run)
    for name in LOGS:
        if os.path.exists(os.path.join(args.run, name)):
            shutil.copy(os.path.join(args.run, name), os.path.join(args.out, "run", name))
    with open(os.path.join(args.out, "results.md"), "w") as f:
        f.write(f"# {args.game_label}, Nature preset, {steps:,} agent steps\n\n"
                f"{table(dopamine, train, evals, steps)}\n\nGenerated by `python -m "
                f"experiments.nature_atari --run RUN_DIR --out {args.out}`.\n")
    plot(dopamine, train, evals, args.game_label, os.path.join(args.out, "curves.png"), steps)
    print(open(os.path.join(args.out, "results.md")).read(), end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
