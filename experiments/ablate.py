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
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import difflib
import io
import json
import math
import os
import re
import sys
import time
import warnings
from typing import Any, Iterable, Mapping, Sequence

import numpy as np

if __package__ in (None, ""):  # `python experiments/ablate.py` from a checkout
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

from purejaxdqn.checkpoint import CheckpointError
from purejaxdqn.cli import OneLineParser
from purejaxdqn.config import CARTPOLE, NATURE, VARIANTS, Config, ConfigError, apply_variant
from purejaxdqn.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE, bootstrap_ci

DEFAULT_ENVS = ("CartPole-v1",)
DEFAULT_VARIANTS = ("nature", "double", "dueling", "prioritized")
DEFAULT_SEEDS = (0, 1, 2)

CSV_NAME, TABLE_NAME, PLOT_NAME, MANIFEST_NAME = (
    "results.csv", "results.md", "learning_curves.png", "ablation.json")
CSV_COLUMNS = ("env", "variant", "seed", "step", "score_mean", "score_median", "score_std",
               "score_min", "score_max", "episodes", "length_mean", "human_normalized")
# Fields the runner sets itself: --set may not touch them.
CONTROLLED = {"env_id": "--env", "total_steps": "--budget", "seeds": "--seeds",
              "seed": "--seeds"}
_FIELDS = {f.name: f for f in dataclasses.fields(Config)}
_SAVING = ("checkpoint_every", "checkpoint_minutes", "checkpoint_replay")
RLIABLE_HINT = 'pip install rliable "pandas<3"'


class AblationError(ValueError):
    """Bad input or an unusable output dir; the message is one line for the user."""


class Interrupted(RuntimeError):
    """A run was stopped by SIGINT/SIGTERM (checkpoint written); re-run to resume.
    `exit_code`: 130 for SIGINT, 143 for SIGTERM, as `purejaxdqn train` exits."""

    def __init__(self, message: str, signal_name: str | None = None):
        super().__init__(message)
        from purejaxdqn.cli import EXIT_CODES

        self.exit_code = EXIT_CODES.get(signal_name, 130)


# --- statistics ---------------------------------------------------------------
def curve_auc(steps: Any, scores: Any) -> np.ndarray:
    """Trapezoid area under score-vs-step (last axis) divided by the step range from
    the first to the last evaluation: the curve's average height, in score units.
    One evaluation: that score."""
    steps = np.asarray(steps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if steps.size == 1:
        return scores[..., 0]
    areas = (scores[..., 1:] + scores[..., :-1]) / 2 * np.diff(steps)
    return areas.sum(axis=-1) / (steps[-1] - steps[0])


def load_rliable():
    """(library, metrics) from rliable, or AblationError saying how to install it."""
    try:
        from rliable import library, metrics
    except ImportError:
        raise AblationError(f"IQM across games needs rliable: {RLIABLE_HINT}") from None
    except Exception as error:  # e.g. rliable's pinned arch breaking on pandas 3
        raise AblationError(f"rliable is installed but fails to import "
                            f"({type(error).__name__}); try {RLIABLE_HINT}") from None
    return library, metrics


def iqm_with_ci(score_matrices: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:
    """IQM over all (seed, game) scores per key, with rliable's stratified-bootstrap
    95% CI (seeds resampled within each game). Matrices are [seeds, games]."""
    library, metrics = load_rliable()
    with warnings.catch_warnings():  # arch deprecates the random_state rliable passes on
        warnings.filterwarnings("ignore", message=".*random_state.*", category=FutureWarning)
        point, interval = library.get_interval_estimates(
            {k: np.asarray(v, dtype=np.float64) for k, v in score_matrices.items()},
            lambda x: np.array([metrics.aggregate_iqm(x)]),
            reps=BOOTSTRAP_RESAMPLES, confidence_interval_size=CONFIDENCE,
            random_state=np.random.RandomState(BOOTSTRAP_SEED))
    return {k: (float(point[k][0]), float(interval[k][0][0]), float(interval[k][1][0]))
            for k in score_matrices}


# --- parsing ------------------------------------------------------------------
def parse_int(text: Any, what: str) -> int:
    """'60000', '60_000' and '6e4' are all 60000; anything else is an AblationError."""
    if isinstance(text, bool):
        raise AblationError(f"{what} must be an integer, got {text!r}")
    if isinstance(text, int):
        return text
    try:
        return int(str(text).strip())
    except ValueError:
        pass
    try:
        value = float(str(text).strip())
    except ValueError:
        raise AblationError(f"{what} must be an integer, got {text!r}") from None
    if not value.is_integer():
        raise AblationError(f"{what} must be an integer, got {text!r}")
    return int(value)


def parse_field_value(name: str, text: str) -> Any:
    """Parse `text` with the type of Config field `name` (bool, int, float, str, int tuple)."""
    default = _FIELDS[name].default
    text = text.strip()
    if isinstance(default, bool):
        lowered = text.lower()
        if lowered in ("1", "true", "yes", "on"):
            return True
        if lowered in ("0", "false", "no", "off"):
            return False
        raise AblationError(f"--set {name}: expected true or false, got {text!r}")
    if isinstance(default, tuple):
        return tuple(parse_int(part, f"--set {name}") for part in text.split(",") if part.strip())
    if isinstance(default, int):
        return parse_int(text, f"--set {name}")
    if isinstance(default, float):
        try:
            return float(text)
        except ValueError:
            raise AblationError(f"--set {name}: expected a number, got {text!r}") from None
    return text


def parse_overrides(overrides: Mapping[str, Any] | Iterable[str] | None) -> dict[str, Any]:
    """Config overrides from a mapping or from 'field=value' strings; names may use '-'.

    String values are parsed with the field's type, other values are kept as given.
    """
    if not overrides:
        return {}
    if isinstance(overrides, Mapping):
        items = list(overrides.items())
    else:
        items = []
        for item in overrides:
            name, sep, value = str(item).partition("=")
            if not sep or not name.strip():
                raise AblationError(f"--set expects FIELD=VALUE, got {item!r}")
            items.append((name, value))
    parsed: dict[str, Any] = {}
    for name, value in items:
        name = name.strip().replace("-", "_")
        if name in CONTROLLED:
            raise AblationError(f"{name} is set by {CONTROLLED[name]}, not --set")
        if name not in _FIELDS:
            close = difflib.get_close_matches(name, list(_FIELDS), n=1)
            hint = f"; did you mean {close[0]}?" if close else ""
            raise AblationError(f"unknown config field {name!r}{hint}")
        if isinstance(value, str) and not isinstance(_FIELDS[name].default, str):
            value = parse_field_value(name, value)
        parsed[name] = value
    return parsed


def _split(text: str | Sequence[str] | None) -> list[str]:
    """'a,b' or ['a', 'b,c'] -> ['a', 'b', 'c']."""
    if text is None:
        return []
    parts = [text] if isinstance(text, str) else list(text)
    return [item.strip() for part in parts for item in str(part).split(",") if item.strip()]


def canonical_env(env_id: str) -> tuple[str, str, str | None]:
    """(name used for dirs and config, kind, Atari game or None); ConfigError if unknown."""
    from purejaxdqn.envs import resolve_env_id

    kind, envpool_id, game = resolve_env_id(env_id)
    if kind == "vector":
        return envpool_id, kind, None
    return (f"{game}-ram" if kind == "atari_ram" else game), kind, game


def _has_human_score(game: str | None) -> bool:
    from purejaxdqn.scores import human_normalized

    return game is not None and not math.isnan(human_normalized(game, 0.0))


def default_out_dir(envs: Sequence[str]) -> str:
    """experiments/results/<envs, lower case, version suffix dropped, joined by '+'>."""
    slugs = [re.sub(r"-v\d+$", "", str(e).strip().lower()) for e in envs] or ["cartpole"]
    return os.path.join("experiments", "results", "+".join(slugs))


# --- planning (all validation, nothing written) ---------------------------------
@dataclasses.dataclass(frozen=True)
class PlannedRun:
    env: str  # canonical env name (also its directory name)
    variant: str
    config: Config
    run_dir: str  # out_dir/runs/<env>/<variant>[/seed-<s> or /seeds-<a>-<b>]
    action: str  # "train", "resume" (checkpoint of the same config) or "reuse" (finished);
    #              "restart" (unfinished, no checkpoint) only when planned with restart=True
    out_dir: str

    @property
    def key(self) -> str:
        """'<env>/<variant>', or '<env>/<variant>/seed-0' for a seed group's run."""
        return os.path.relpath(self.run_dir, os.path.join(self.out_dir, "runs")).replace(
            os.sep, "/")


def run_dir_for(out_dir: str, env: str, variant: str, group: Sequence[int] | None = None) -> str:
    """A run's directory: all seeds of a variant side by side in runs/<env>/<variant>;
    a group of them (a sweep's --seeds-per-run) in a subdirectory seed-<s> or seeds-<a>-<b>."""
    run_dir = os.path.join(out_dir, "runs", env, variant)
    if group is None:
        return run_dir
    name = f"seed-{group[0]}" if len(group) == 1 else "seeds-" + "-".join(map(str, group))
    return os.path.join(run_dir, name)


def variant_config(env: str, kind: str, variant: str, seeds: Sequence[int], budget: int | None,
                   overrides: Mapping[str, Any] | None = None, eval_every: int | None = None,
                   eval_episodes: int | None = None) -> Config:
    """The config one ablation run trains (not validated)."""
    base = (CARTPOLE if kind == "vector" else NATURE).replace(**(overrides or {}))
    config = apply_variant(base, variant).replace(
        env_id=env, total_steps=base.total_steps if budget is None else budget,
        seeds=tuple(seeds), seed=seeds[0])
    if eval_every is not None:
        config = config.replace(eval_every=eval_every)
    if eval_episodes is not None:
        config = config.replace(eval_episodes=eval_episodes)
    return config


def plan_ablation(envs: Sequence[str] | str = DEFAULT_ENVS,
                  variants: Sequence[str] | str = DEFAULT_VARIANTS,
                  seeds: Sequence[int] | str = DEFAULT_SEEDS, budget: int | str | None = None,
                  out_dir: str | None = None, overrides: Any = None,
                  eval_every: int | str | None = None,
                  eval_episodes: int | str | None = None, seeds_per_run: int | None = None,
                  restart: bool = False) -> list[PlannedRun]:
    """Check everything an ablation needs and list its runs; raise AblationError
    (or ConfigError) with a one-line message. Writes nothing.

    `seeds_per_run` k splits each variant's seeds into groups of k, one run (dir)
    each (None: one run with all seeds). `restart`: an unfinished run without a
    checkpoint is planned as "restart" instead of being an error."""
    env_names = _split(envs)
    if not env_names:
        raise AblationError("no environment given")
    variant_names = _split(variants)
    if not variant_names:
        raise AblationError("no variant given")
    for name in variant_names:
        if name not in VARIANTS:
            close = difflib.get_close_matches(name, list(VARIANTS), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            raise AblationError(f"unknown variant {name!r}{hint}; choose from "
                                f"{', '.join(VARIANTS)}")
    _no_duplicates("variant", variant_names)
    if isinstance(seeds, int):
        seeds = [seeds]
    seed_list = [parse_int(s, "seeds") for s in (_split(seeds) if isinstance(seeds, str)
                                                 else seeds)]
    if not seed_list:
        raise AblationError("no seed given")
    if any(s < 0 for s in seed_list):
        raise AblationError(f"seeds must be >= 0, got {seed_list}")
    _no_duplicates("seed", seed_list)
    if budget is not None:
        budget = parse_int(budget, "budget")
        if budget <= 0:
            raise AblationError(f"budget must be a positive number of agent steps, got {budget}")
    if eval_every is not None:
        eval_every = parse_int(eval_every, "eval-every")
    if eval_episodes is not None:
        eval_episodes = parse_int(eval_episodes, "eval-episodes")
    overrides = parse_overrides(overrides)
    if seeds_per_run is not None:
        seeds_per_run = parse_int(seeds_per_run, "seeds-per-run")
        if seeds_per_run <= 0:
            raise AblationError(f"seeds-per-run must be >= 1, got {seeds_per_run}")
    groups = [None] if seeds_per_run is None or seeds_per_run >= len(seed_list) else \
        [seed_list[i:i + seeds_per_run] for i in range(0, len(seed_list), seeds_per_run)]

    resolved = []
    for env_id in env_names:
        resolved.append(canonical_env(env_id))  # ConfigError names close matches
    _no_duplicates("environment", [name for name, _, _ in resolved])
    out_dir = out_dir or default_out_dir([name for name, _, _ in resolved])
    if os.path.exists(out_dir) and not os.path.isdir(out_dir):
        raise AblationError(f"--out {out_dir} exists and is not a directory")

    plan = []
    for env, kind, _ in resolved:
        for variant in variant_names:
            if groups != [None] and os.path.exists(os.path.join(
                    run_dir_for(out_dir, env, variant), "config.json")):
                raise AblationError(f"{run_dir_for(out_dir, env, variant)} holds a run of all "
                                    "seeds side by side; drop --seeds-per-run or choose "
                                    "another --out")
            for group in groups:
                config = variant_config(env, kind, variant, group or seed_list, budget,
                                        overrides, eval_every, eval_episodes)
                try:
                    config.validate()
                except ConfigError as error:
                    raise AblationError(f"{variant} on {env}: {error}") from None
                run_dir = run_dir_for(out_dir, env, variant, group)
                plan.append(PlannedRun(env, variant, config, run_dir,
                                       _run_action(run_dir, config, restart), out_dir))
    if _iqm_games([(env, game) for env, _, game in resolved]):
        load_rliable()  # several envs with Atari among them: fail now, not after training
    return plan


def _no_duplicates(what: str, items: Sequence[Any]) -> None:
    seen = set()
    for item in items:
        if item in seen:
            raise AblationError(f"{what} {item!r} is listed twice")
        seen.add(item)


def _iqm_games(env_games: Sequence[tuple[str, str | None]]) -> list[str]:
    """Envs that enter the IQM across games: only with several envs, only Atari games
    with a human score in the Nature table."""
    if len({env for env, _ in env_games}) < 2:
        return []
    return [env for env, game in env_games if _has_human_score(game)]


def _run_action(run_dir: str, config: Config, restart: bool = False) -> str:
    if not os.path.isdir(run_dir) or not os.listdir(run_dir):
        return "train"
    hint = "delete it or choose another --out"
    try:
        with open(os.path.join(run_dir, "config.json")) as f:
            existing = Config.from_dict(json.load(f))
    except (OSError, ValueError, TypeError):
        raise AblationError(f"{run_dir} is not empty and has no readable config.json; "
                            f"{hint}") from None
    # when and what a run saves does not change what it learned
    config = config.replace(**{name: getattr(existing, name) for name in _SAVING})
    if existing != config:
        field = next(name for name in _FIELDS
                     if getattr(existing, name) != getattr(config, name))
        raise AblationError(f"{run_dir} holds a run with another config ({field} "
                            f"{getattr(existing, field)!r}, now {getattr(config, field)!r}); "
                            f"{hint}")
    summary = _read_json(os.path.join(run_dir, "summary.json"))
    if summary is not None and summary.get("stopped_by") is None:
        return "reuse"
    from purejaxdqn import checkpoint

    if checkpoint.exists(run_dir):
        return "resume"
    if restart:
        return "restart"
    raise AblationError(f"{run_dir} holds an unfinished run without a checkpoint; {hint}")


def _read_json(path: str) -> Any:
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return None


# --- running ------------------------------------------------------------------
def run_ablation(envs: Sequence[str] | str = DEFAULT_ENVS,
                 variants: Sequence[str] | str = DEFAULT_VARIANTS,
                 seeds: Sequence[int] | str = DEFAULT_SEEDS, budget: int | str | None = None,
                 out_dir: str | None = None, overrides: Any = None, *,
                 eval_every: int | str | None = None, eval_episodes: int | str | None = None,
                 quiet: bool = False, command: str | None = None) -> str:
    """Train every variant x env (seeds side by side, one `train()` call each) into
    `out_dir/runs/<env>/<variant>/`, then `summarize(out_dir)`; return the path of
    results.md. `budget` None: the base preset's total_steps (CARTPOLE: 100,000).
    `overrides` ({field: value} or 'field=value' strings) change the base config
    before the variant applies, so a variant's own fields win over them."""
    plan = plan_ablation(envs, variants, seeds, budget, out_dir, overrides,
                         eval_every, eval_episodes)
    out_dir = plan[0].out_dir
    from purejaxdqn.train import train

    os.makedirs(out_dir, exist_ok=True)
    manifest = _update_manifest(out_dir, plan, parse_overrides(overrides), command)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    for i, run in enumerate(plan, 1):
        seeds_text = ",".join(map(str, run.config.all_seeds))
        head = f"[{i}/{len(plan)}] {run.env} / {run.variant}"
        if run.action == "reuse":
            say(f"{head}: finished run in {run.run_dir}, reused")
            continue
        say(f"{head}: {'resuming' if run.action == 'resume' else 'training'} seeds "
            f"{seeds_text} for {run.config.total_steps:,} steps -> {run.run_dir}")
        start = time.perf_counter()
        quiet_stdout = contextlib.redirect_stdout(io.StringIO()) if quiet else \
            contextlib.nullcontext()
        with quiet_stdout:
            summary = train(run.config, run.run_dir, resume=run.action == "resume",
                            progress=not quiet)
        wall = time.perf_counter() - start
        manifest["runs"][f"{run.env}/{run.variant}"] = {
            "run_dir": run.run_dir, "seeds": list(run.config.all_seeds),
            "steps": summary["steps"], "wall_s": round(wall, 1),
            "stopped_by": summary["stopped_by"]}
        _write_json(os.path.join(out_dir, MANIFEST_NAME), manifest)
        if summary["stopped_by"]:
            raise Interrupted(f"{run.env} / {run.variant} stopped by {summary['stopped_by']} at "
                              f"{summary['steps']:,} steps (checkpoint saved); run the same "
                              "command again to resume", summary["stopped_by"])
        finals = summary["final_eval"]["score_mean"] if summary["final_eval"] else []
        say(f"{head}: done in {wall:.0f} s, final eval score "
            f"{', '.join(f'{m:.1f}' for m in finals)} (seeds {seeds_text})")
    summarize(out_dir)
    return os.path.join(out_dir, TABLE_NAME)


def _update_manifest(out_dir: str, plan: list[PlannedRun], overrides: dict,
                     command: str | None) -> dict:
    """ablation.json: envs and variants in the order asked (merged with earlier
    invocations into the same dir), the last request, and per-run wall times."""
    path = os.path.join(out_dir, MANIFEST_NAME)
    manifest = _read_json(path) or {}
    envs, variants = list(manifest.get("envs", [])), list(manifest.get("variants", []))
    for run in plan:
        if run.env not in envs:
            envs.append(run.env)
        if run.variant not in variants:
            variants.append(run.variant)
    first = plan[0].config
    manifest.update({
        "envs": envs, "variants": variants,
        "last_request": {
            "command": command, "envs": list(dict.fromkeys(r.env for r in plan)),
            "variants": list(dict.fromkeys(r.variant for r in plan)),
            "seeds": list(dict.fromkeys(s for r in plan for s in r.config.all_seeds)),
            "budget": {r.env: r.config.total_steps for r in plan},
            "overrides": {k: list(v) if isinstance(v, tuple) else v
                          for k, v in overrides.items()},
            "eval_every": first.eval_every, "eval_episodes": first.eval_episodes},
    })
    manifest.setdefault("runs", {})
    _write_json(path, manifest)
    return manifest


def _write_json(path: str, value: Any) -> None:
    with open(path + ".tmp", "w") as f:
        json.dump(value, f, indent=2)
    os.replace(path + ".tmp", path)


# --- summarizing ----------------------------------------------------------------
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
    manifest = _read_json(os.path.join(out_dir, MANIFEST_NAME)) or {}
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
    from purejaxdqn.runlog import read_jsonl

    parts = _run_parts(run_dir)
    config = _read_json(os.path.join(parts[0], "config.json")) if parts else None
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
        game = atari_game if _has_human_score(atari_game) else None
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
    from purejaxdqn.scores import human_normalized

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
    from purejaxdqn.scores import human_normalized

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
            f"random and human scores (`purejaxdqn.scores.human_normalized`; 1.0 = human), "
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


# --- command line ---------------------------------------------------------------
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
                        help=f"comma-separated, from: {', '.join(VARIANTS)} "
                             "(default: %(default)s)")
    parser.add_argument("--seeds", default=",".join(map(str, DEFAULT_SEEDS)),
                        help="comma-separated seeds, trained side by side (default: %(default)s)")
    parser.add_argument("--budget", default=None, metavar="STEPS",
                        help=f"agent steps per seed (default: the base preset's, "
                             f"{CARTPOLE.total_steps:,} for CartPole)")
    parser.add_argument("--out", default=None, metavar="DIR",
                        help="output dir (default: experiments/results/<env>)")
    parser.add_argument("--eval-every", default=None, metavar="STEPS",
                        help="agent steps between evaluations (default: the base preset's)")
    parser.add_argument("--eval-episodes", default=None, metavar="N",
                        help="episodes per evaluation (default: the base preset's)")
    parser.add_argument("--set", dest="overrides", nargs="+", action="extend", default=[],
                        metavar="FIELD=VALUE",
                        help="config overrides on the base preset, before the variant applies "
                             "(e.g. --set warmup_steps=500 learning_rate=1e-3)")
    parser.add_argument("--quiet", action="store_true",
                        help="no progress bars or per-run lines; print only the table")
    parser.add_argument("--summarize-only", action="store_true",
                        help="rebuild the CSV, table and plot from OUT's run dirs; no training")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    envs = _split(args.envs) or list(DEFAULT_ENVS)
    try:
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


if __name__ == "__main__":
    raise SystemExit(main())
