"""Running a planned ablation: one `train()` per run (seeds side by side), the
manifest ablation.json, resume of interrupted runs; then the report."""

from __future__ import annotations

import os
from typing import Any, Sequence

from experiments.ablate.plan import (DEFAULT_ENVS, DEFAULT_SEEDS, DEFAULT_VARIANTS, PlannedRun,
                                     parse_overrides, plan_ablation)
from experiments.ablate.report import summarize
from experiments.common import MANIFEST_NAME, TABLE_NAME, Interrupted, read_json, write_json
from experiments.runner import train_session, wall_s


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
    os.makedirs(out_dir, exist_ok=True)
    manifest = update_manifest(out_dir, plan, parse_overrides(overrides), command)
    say = (lambda *a: None) if quiet else (lambda *a: print(*a, flush=True))
    for i, run in enumerate(plan, 1):
        seeds_text = ",".join(map(str, run.config.all_seeds))
        head = f"[{i}/{len(plan)}] {run.env} / {run.variant}"
        if run.action == "reuse":
            say(f"{head}: finished run in {run.run_dir}, reused")
            continue
        say(f"{head}: {'resuming' if run.action == 'resume' else 'training'} seeds "
            f"{seeds_text} for {run.config.total_steps:,} steps -> {run.run_dir}")
        key = f"{run.env}/{run.variant}"
        try:
            summary, wall = train_session(run.config, run.run_dir, run.action,
                                          label=f"{run.env} / {run.variant}", quiet=quiet)
        except Interrupted as stopped:
            _record(manifest, key, run, out_dir, stopped.summary)
            raise
        _record(manifest, key, run, out_dir, summary)
        finals = summary["final_eval"]["score_mean"] if summary["final_eval"] else []
        say(f"{head}: done in {wall:.0f} s, final eval score "
            f"{', '.join(f'{m:.1f}' for m in finals)} (seeds {seeds_text})")
    summarize(out_dir)
    return os.path.join(out_dir, TABLE_NAME)


def _record(manifest: dict, key: str, run: PlannedRun, out_dir: str, summary: dict) -> None:
    """The run's entry in ablation.json; its wall time is the sum of RUN_DIR/wall.jsonl."""
    manifest["runs"][key] = {"run_dir": run.run_dir, "seeds": list(run.config.all_seeds),
                             "steps": summary["steps"], "wall_s": wall_s(run.run_dir),
                             "stopped_by": summary["stopped_by"]}
    write_json(os.path.join(out_dir, MANIFEST_NAME), manifest)


def update_manifest(out_dir: str, plan: list[PlannedRun], overrides: dict,
                     command: str | None) -> dict:
    """ablation.json: envs and variants in the order asked (merged with earlier
    invocations into the same dir), the last request, and per-run wall times."""
    path = os.path.join(out_dir, MANIFEST_NAME)
    manifest = read_json(path) or {}
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
    write_json(path, manifest)
    return manifest

