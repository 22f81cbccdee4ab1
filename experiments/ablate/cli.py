"""`python -m experiments.ablate`: the parser and main."""

from __future__ import annotations

import argparse
import sys
from typing import Sequence

from experiments.ablate.plan import DEFAULT_ENVS, DEFAULT_SEEDS, DEFAULT_VARIANTS, default_out_dir
from experiments.ablate.report import summarize
from experiments.ablate.run import run_ablation
from experiments.common import AblationError, Interrupted, check_out, split_list
from purejaxdqn.config import ConfigError
from purejaxdqn.presets import CARTPOLE, VARIANTS
from purejaxdqn.run.checkpoint import CheckpointError
from purejaxdqn.tools.cli import OneLineParser


class _Parser(OneLineParser):
    name = "ablate"


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m experiments.ablate",
        description="Train DQN variants over seeds (side by side, one launch per variant) and "
                    "tabulate final and AUC scores with 95% bootstrap CIs.")
    parser.add_argument("--env", "--envs", dest="envs", action="append", default=None,
                        metavar="ENV", help="env id(s), comma-separated or repeated: "
                        "CartPole-v1 (default), Breakout, Pong-v5, Breakout-ram, ...")
    parser.add_argument("--variants", default=",".join(DEFAULT_VARIANTS),
                        help=f"comma-separated, from: {', '.join(VARIANTS)}; or defined "
                             "here as NAME:FIELD=VALUE[,FIELD=VALUE...], e.g. "
                             "fast:learning_rate=1e-3,n_step=3 (default: %(default)s)")
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)),
                        help="comma-separated seeds, trained side by side (default: %(default)s)")
    parser.add_argument("--budget", default=None, metavar="STEPS",
                        help=f"agent steps per seed (default: the base preset's, "
                             f"{CARTPOLE.total_steps:,} for CartPole)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output dir (default: runs/ablate/<env>; the committed "
                             "studies: --out experiments/results/<study>)")
    parser.add_argument("--eval-every", default=None, metavar="STEPS",
                        help="agent steps between evaluations (default: the base preset's)")
    parser.add_argument("--eval-episodes", default=None, metavar="N",
                        help="episodes per evaluation (default: the base preset's)")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[],
                        metavar="FIELD=VALUE",
                        help="config overrides on the base preset, before the variant applies "
                             "(e.g. --set warmup_steps=500 learning_rate=1e-3; default: none)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or per-run lines; print only the table")
    parser.add_argument("--summarize-only", action="store_true",
                        help="rebuild the CSV, table and plot from OUT's run dirs; no training")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    envs = split_list(args.envs) or list(DEFAULT_ENVS)
    try:
        check_out(args.out or default_out_dir(envs))
        if args.summarize_only:
            markdown = summarize(args.out or default_out_dir(envs))
        else:
            command = "python -m experiments.ablate " + " ".join(
                sys.argv[1:] if argv is None else argv)
            table = run_ablation(envs, args.variants, args.seeds, args.budget, args.out,
                                 args.overrides, eval_every=args.eval_every,
                                 eval_episodes=args.eval_episodes, quiet=args.quiet,
                                 command=command.strip())
            with open(table) as f:
                markdown = f.read()
    except (AblationError, ConfigError, CheckpointError) as error:
        print(f"ablate: error: {error}", file=sys.stderr)
        return 2
    except Interrupted as error:
        print(f"ablate: {error}", file=sys.stderr)
        return error.exit_code
    print(markdown, end="")
    return 0
