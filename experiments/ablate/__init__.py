"""Ablation runner: named variants x envs x seeds, with error bars from one launch each.

    python -m experiments.ablate --env CartPole-v1 --variants nature,double,dueling,prioritized \
        --seeds 0,1,2 --out experiments/results/cartpole

Each variant's config is `apply_variant(base, name)` on the env's base preset
(`CARTPOLE` for vector envs, `NATURE` for Atari) with the `--set` overrides, then
the env id, `total_steps = --budget`, `seeds = --seeds` and the evaluation
options. All seeds of one variant train side by side (vmapped) in ONE `train()`
call, in `OUT/runs/<env>/<variant>/`. Then `summarize(OUT)` reads the run dirs and
writes

  results.csv           one row per env x variant x seed x evaluation
  results.md            final and area-under-curve score per variant, mean over seeds
                        with 95% percentile-bootstrap CIs over seeds; with several envs,
                        IQM of human-normalised score across the Atari games (rliable)
  learning_curves.png   evaluation score vs agent steps, shaded 95% CIs, one panel per env
  ablation.json         what was asked for, and each run's wall time

`--summarize-only` rebuilds those from the run dirs without training. Bad input
exits with code 2 and one line on stderr before anything is trained or written.
Re-running the same command reuses finished runs and resumes interrupted ones.

Modules: `plan` (variants, run dirs, what to do with each run; all checks, nothing
written), `run` (train the plan, ablation.json, resume), `statistics` (AUC, IQM with
rliable), `report` (collect the run dirs; CSV, Markdown, plot), `cli` (parser, main).
"""

from experiments.ablate.cli import build_parser, main
from experiments.ablate.plan import (DEFAULT_ENVS, DEFAULT_SEEDS, DEFAULT_VARIANTS, PlannedRun,
                                     default_out_dir, parse_overrides, plan_ablation, run_dir_for,
                                     variant_config)
from experiments.ablate.report import (CSV_COLUMNS, RunResult, collect, plot_curves,
                                       render_markdown, summarize)
from experiments.ablate.run import run_ablation, update_manifest
from experiments.ablate.statistics import curve_auc, iqm_with_ci, load_rliable
from experiments.common import (CSV_NAME, MANIFEST_NAME, PLOT_NAME, TABLE_NAME, AblationError,
                                Interrupted)
from purejaxdqn.tools.stats import bootstrap_ci  # the per-seed CI the tables use
