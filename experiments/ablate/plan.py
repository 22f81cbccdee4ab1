"""Planning an ablation: variants x envs x seeds -> PlannedRun list, run dirs and what
to do with each (train, resume, reuse, restart). All validation, nothing written."""

from __future__ import annotations

import dataclasses
import difflib
import math
import os
import re
from typing import Any, Iterable, Mapping, Sequence

from experiments.ablate.statistics import load_rliable
from experiments.common import AblationError, split_list
from experiments.runner import decide
from purejaxdqn.config import Config, ConfigError
from purejaxdqn.presets import VARIANTS, apply_variant, get_preset
from purejaxdqn.tools.fieldparse import field_name, parse_field, parse_int

DEFAULT_ENVS = ("CartPole-v1",)
DEFAULT_VARIANTS = ("nature", "double", "dueling", "prioritized")
DEFAULT_SEEDS = (0, 1, 2)
# Fields the runner sets itself: --set may not touch them.
CONTROLLED = {"env_id": "--env", "total_steps": "--budget", "seeds": "--seeds",
              "seed": "--seeds"}


def parse_variants(variants: Sequence[str] | str) -> dict[str, dict[str, Any]]:
    """{name: the fields it changes} for `--variants`: names from VARIANTS, and ad-hoc
    definitions `NAME:FIELD=VALUE` whose further `FIELD=VALUE` items (comma-separated,
    like the names) belong to the same variant: 'nature,fast:learning_rate=1e-3,n_step=3'
    is nature and a variant `fast` with two fields. A registered component or setting
    is ablated this way without being added to VARIANTS."""
    parsed: dict[str, dict[str, Any]] = {}
    current = None
    for item in split_list(variants):
        name, colon, first = item.partition(":")
        if colon:  # a new ad-hoc variant
            current = name.strip()
            if not re.fullmatch(r"[A-Za-z0-9_.-]+", current) or current in VARIANTS:
                raise AblationError(f"an ad-hoc variant needs a new name of letters, digits, "
                                    f"'.', '_' or '-' (not a VARIANTS name); got {current!r}")
            _no_duplicates("variant", [*parsed, current])
            parsed[current] = parse_overrides([first])
        elif "=" in item:
            if current is None:
                raise AblationError(f"{item!r} must follow NAME:FIELD=VALUE in --variants")
            parsed[current].update(parse_overrides([item]))
        else:
            current = None
            if item not in VARIANTS:
                close = difflib.get_close_matches(item, list(VARIANTS), n=1)
                hint = f" (did you mean {close[0]}?)" if close else ""
                raise AblationError(f"unknown variant {item!r}{hint}; choose from "
                                    f"{', '.join(VARIANTS)}, or define one as NAME:FIELD=VALUE")
            _no_duplicates("variant", [*parsed, item])
            parsed[item] = VARIANTS[item]
    return parsed


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
        try:
            name = field_name(name)
            if isinstance(value, str):
                value = parse_field(name, value, what=f"--set {name}")
        except ConfigError as error:
            raise AblationError(str(error)) from None
        parsed[name] = value
    return parsed


def canonical_env(env_id: str) -> tuple[str, str, str | None]:
    """(name used for dirs and config, kind, Atari game or None); ConfigError if unknown."""
    from purejaxdqn.envs.table import env_entry

    entry = env_entry(env_id)
    return entry.name, entry.kind, entry.atari_game


def has_human_score(game: str | None) -> bool:
    from purejaxdqn.envs.scores import human_normalized

    return game is not None and not math.isnan(human_normalized(game, 0.0))


def default_out_dir(envs: Sequence[str]) -> str:
    """runs/ablate/<envs, lower case, version suffix dropped, joined by '+'>: a new run's
    place (the committed studies under experiments/results/ are rebuilt with --out)."""
    slugs = [re.sub(r"-v\d+$", "", str(e).strip().lower()) for e in envs] or ["cartpole"]
    return os.path.join("runs", "ablate", "+".join(slugs))


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


def variant_config(env: str, variant: str, seeds: Sequence[int], budget: int | None,
                   overrides: Mapping[str, Any] | None = None, eval_every: int | None = None,
                   eval_episodes: int | None = None,
                   fields: Mapping[str, Any] | None = None) -> Config:
    """The config one ablation run trains (not validated); `fields`: an ad-hoc variant's
    (parse_variants), else VARIANTS[variant]'s."""
    from purejaxdqn.envs.table import env_entry

    # the env's base preset (its entry in the env table); the variants change components only
    base = get_preset(env_entry(env).preset).replace(**(overrides or {}))
    config = base.replace(**fields) if fields is not None else apply_variant(base, variant)
    config = config.replace(
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
    env_names = split_list(envs)
    if not env_names:
        raise AblationError("no environment given")
    variant_fields = parse_variants(variants)
    variant_names = list(variant_fields)
    if not variant_names:
        raise AblationError("no variant given")
    if isinstance(seeds, int):
        seeds = [seeds]
    seed_list = [parse_int(s, "seeds") for s in (split_list(seeds) if isinstance(seeds, str)
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
    for env, _, _ in resolved:
        for variant in variant_names:
            if groups != [None] and os.path.exists(os.path.join(
                    run_dir_for(out_dir, env, variant), "config.json")):
                raise AblationError(f"{run_dir_for(out_dir, env, variant)} holds a run of all "
                                    "seeds side by side; drop --seeds-per-run or choose "
                                    "another --out")
            for group in groups:
                config = variant_config(env, variant, group or seed_list, budget,
                                        overrides, eval_every, eval_episodes,
                                        fields=variant_fields[variant])
                try:
                    config.validate()
                except ConfigError as error:
                    raise AblationError(f"{variant} on {env}: {error}") from None
                run_dir = run_dir_for(out_dir, env, variant, group)
                plan.append(PlannedRun(env, variant, config, run_dir,
                                       decide(run_dir, config, restart=restart), out_dir))
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
    return [env for env, game in env_games if has_human_score(game)]
