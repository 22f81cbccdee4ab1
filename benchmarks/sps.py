"""Throughput of purejaxdqn on one game and device: env-only, learner-only, end-to-end.

    python -m benchmarks.sps [--game Breakout] [--num-envs 1 4 8 16 32 64]
                             [--batch-sizes 32 64 128 256] [--reps 5] [--quick]
                             [--out benchmarks/results/sps_<platform>.json] [--plot PATH]

1. env-only: envpool Atari (Nature settings) stepped with random actions, agent
   steps/s vs num_envs, synchronously through `purejaxdqn.envs.envpool.make_env` (what
   the trainer uses) and asynchronously through envpool directly
   (batch_size = num_envs / 2, send/recv by env_id);
2. learner-only: the agent's jitted `learn` (replay sample + update, as many
   updates as the trainer owes per call) in updates/s at batch 32 for every
   num_envs, and at batch 64, 128, 256; also the same sample + update jitted
   bare (no vmap, one update per call) as a reference;
3. end-to-end: `purejaxdqn.run.train.train` at the Nature replay ratio (one update
   of 32 per 4 agent steps), steps/s after warm-up vs num_envs, overlap on,
   and overlap off at one num_envs;
4. efficiency = end-to-end / min(env-only sync, learner-only x 4), with a
   serial-loop profile (act + host transfer, env step, learn) naming where
   the time goes;
5. multi-seed: seeds side by side (`Config.seeds`) if the trainer has them.

Compilation never enters a timed figure: learner functions are compiled
ahead of time and warmed up, envs get untimed warm-up steps, and the
end-to-end window holding the trainer's first update (which compiles `learn`)
is dropped. Each figure is the median over `--reps` repetitions with
min/max/quartiles kept in the JSON. For each num_envs the three measurements
run back to back, so an efficiency compares figures taken close in time. A
temporary JAX persistent compilation cache lets a configuration measured
twice (learner-only, then end-to-end) compile once; it only saves wall time.
See benchmarks/README.md for what each figure means.

This module is the entry point; the parts live beside it: `common` (timing, stats,
machine info), `configs`, `env_only`, `learner_only`, `end_to_end` (with the
serial profile), `analysis` (efficiency, diagnosis) and `report` (tables, plot).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from benchmarks.analysis import TARGET_EFFICIENCY, diagnose, efficiency
from benchmarks.common import log, machine_info, write_json
from benchmarks.configs import NATURE_RATIO, SWEEP_NUM_ENVS, bench_config, env_spec
from benchmarks.end_to_end import end_to_end, serial_profile
from benchmarks.env_only import env_only
from benchmarks.learner_only import learner_only
from benchmarks.report import sps_plot, sps_tables


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--game", default="Breakout", help="Atari game (or any env id the trainer takes)")
    p.add_argument("--num-envs", type=int, nargs="+",
                   help="num_envs values (default 1 4 8 16 32 64; --quick: 4)")
    p.add_argument("--batch-sizes", type=int, nargs="+",
                   help="learner-only batch sizes (default 32 64 128 256; --quick: 32)")
    p.add_argument("--reps", type=int, help="timed repetitions per figure (default 5; --quick: 2)")
    p.add_argument("--overlap-num-envs", type=int,
                   help="num_envs for overlap on/off, the serial profile and multi-seed "
                        "(default 8 if measured, else the first)")
    p.add_argument("--multi-seed", type=int, default=2,
                   help="seeds side by side for the multi-seed figure (1: skip; skipped in --quick)")
    p.add_argument("--quick", action="store_true", help="CI smoke test: under a minute")
    p.add_argument("--out", help="JSON path (default benchmarks/results/sps_<platform>.json)")
    p.add_argument("--plot", help="PNG path (default: the JSON path with .png)")
    args = p.parse_args(argv)
    args.num_envs = args.num_envs or ([4] if args.quick else [1, 4, 8, 16, 32, 64])
    args.batch_sizes = args.batch_sizes or ([32] if args.quick else [32, 64, 128, 256])
    if 32 not in args.batch_sizes:
        args.batch_sizes = [32] + args.batch_sizes
    if args.reps is None:  # not `or`: --reps 0 is an error below, not the default
        args.reps = 2 if args.quick else 5
    if args.overlap_num_envs is None:
        args.overlap_num_envs = 8 if 8 in args.num_envs else args.num_envs[0]
    elif args.overlap_num_envs not in args.num_envs:
        args.num_envs.append(args.overlap_num_envs)
    args.num_envs = sorted(set(args.num_envs))
    if args.reps < 1 or min(args.num_envs) < 1 or min(args.batch_sizes) < 1:
        p.error("--reps, --num-envs and --batch-sizes must be positive")
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    cache_dir = tempfile.mkdtemp(prefix="sps-jax-cache-")
    run_root = tempfile.mkdtemp(prefix="sps-runs-")
    try:
        return run(args, cache_dir, run_root)
    finally:
        shutil.rmtree(cache_dir, ignore_errors=True)
        shutil.rmtree(run_root, ignore_errors=True)


def run(args, cache_dir: str, run_root: str) -> int:
    began = time.perf_counter()
    import jax

    jax.config.update("jax_compilation_cache_dir", cache_dir)
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)

    from purejaxdqn.config import ConfigError

    quick, reps = args.quick, args.reps
    rep_s = 0.25 if quick else 0.5  # seconds per timed repetition (env-only, learner-only)
    window_s = 0.0 if quick else 2.0  # seconds per end-to-end window (at least one learn)
    profile_s = 0.5 if quick else 3.0
    ref = args.overlap_num_envs
    try:
        configs = {n: bench_config(args.game, n, quick) for n in args.num_envs}
        have_32 = SWEEP_NUM_ENVS in args.num_envs  # then batch 32 is measured per num_envs
        sweep = {b: bench_config(args.game, SWEEP_NUM_ENVS, quick, batch_size=b)
                 for b in args.batch_sizes if b != 32 or not have_32}
    except ConfigError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2

    platform_name = jax.devices()[0].platform
    out = args.out or os.path.join("benchmarks", "results", f"sps_{platform_name}.json")
    plot_path = args.plot or os.path.splitext(out)[0] + ".png"
    report = {
        "schema": "purejaxdqn-sps/1",
        "benchmark": "env-only, learner-only and end-to-end agent steps/s at the Nature "
                     "replay ratio (1 update of 32 per 4 agent steps)",
        "quick": quick,
        "machine": machine_info(),
        "settings": {
            "game": args.game, "num_envs": args.num_envs, "batch_sizes": args.batch_sizes,
            "reps": reps, "rep_seconds": rep_s, "window_seconds": window_s,
            "reference_num_envs": ref, "batch_sweep_num_envs": SWEEP_NUM_ENVS,
            "steps_per_update": NATURE_RATIO,
            "replay_capacity": {n: c.replay_capacity for n, c in configs.items()},
            "warmup_steps": {n: c.warmup_steps for n, c in configs.items()},
            "envpool_threads": "envpool default (one per env in the batch)",
        },
    }
    spec = env_spec(args.game)
    report["settings"]["envpool_id"] = spec.envpool_id

    # Per num_envs, the three measurements back to back, so that each efficiency
    # compares figures taken close in time (what else runs on the machine drifts).
    env_rows, learn_rows, bare_rows, e2e_rows = [], [], [], []
    for i, n in enumerate(args.num_envs):
        log(f"num_envs={n} ({i + 1}/{len(args.num_envs)}): env-only, learner-only, end-to-end")
        rows = env_only(args.game, [n], reps, rep_s)
        env_rows += rows
        result = learner_only(configs[n], spec, reps, rep_s, bare=(n == SWEEP_NUM_ENVS))
        row, bare = result if n == SWEEP_NUM_ENVS else (result, None)
        learn_rows.append(row)
        log(f"learner-only num_envs={n:3d} batch=32: "
            f"{row['updates_per_s']['median']:.2f} updates/s")
        if bare:
            bare_rows.append(bare)
            log(f"bare update  num_envs={n:3d} batch=32: "
                f"{bare['updates_per_s']['median']:.2f} updates/s")
        sync = next(r for r in rows if r["mode"] == "sync")["steps_per_s"]["median"]
        window = min(sync, NATURE_RATIO * row["updates_per_s"]["median"]) * window_s
        for overlap in ((True, False) if n == ref else (True,)):
            e2e = end_to_end(configs[n], overlap, reps, window, run_root)
            e2e_rows.append(e2e)
            log(f"end-to-end num_envs={n:3d} overlap={'on ' if overlap else 'off'}: "
                f"{e2e['steps_per_s']['median']:.1f} steps/s "
                f"(trainer's own figure {e2e['trainer_learning_steps_per_s']:.1f})")

    log(f"learner-only by batch size at num_envs={SWEEP_NUM_ENVS}")
    for b, config in sweep.items():  # a secondary figure: at most 3 repetitions
        row, bare = learner_only(config, spec, min(reps, 3), rep_s, bare=True)
        learn_rows.append(row)
        bare_rows.append(bare)
        log(f"learner-only num_envs={SWEEP_NUM_ENVS} batch={b}: "
            f"{row['updates_per_s']['median']:.2f} updates/s "
            f"(bare {bare['updates_per_s']['median']:.2f})")
    report["env_only"], report["end_to_end"] = env_rows, e2e_rows
    report["learner_only"], report["learner_bare"] = learn_rows, bare_rows
    on = next(r for r in e2e_rows if r["num_envs"] == ref and r["overlap"])
    off = next(r for r in e2e_rows if r["num_envs"] == ref and not r["overlap"])
    report["overlap"] = {"num_envs": ref, "on": on["steps_per_s"]["median"],
                         "off": off["steps_per_s"]["median"],
                         "speedup": on["steps_per_s"]["median"] / off["steps_per_s"]["median"]}

    log("efficiency and serial profile")
    report["efficiency"] = efficiency(env_rows, learn_rows, e2e_rows)
    best = max(report["efficiency"], key=lambda r: r["efficiency"])
    report["efficiency_target"] = {
        "threshold": TARGET_EFFICIENCY, "best_num_envs": best["num_envs"],
        "best_efficiency": best["efficiency"], "met": best["efficiency"] >= TARGET_EFFICIENCY}
    report["profile"] = serial_profile(configs[ref], profile_s, 2)

    log("multi-seed")
    report["multi_seed"] = multi_seed(args, spec, reps, rep_s, window_s, run_root, on,
                                      next(r for r in learn_rows if r["num_envs"] == ref and
                                           r["batch_size"] == 32))
    report["machine"]["load_average_end"] = list(os.getloadavg())
    report["diagnosis"] = diagnose(report)
    report["wall_s"] = time.perf_counter() - began
    report["plot"] = plot_path

    write_json(out, report)
    sps_plot(report, plot_path)
    print(sps_tables(report))
    print(f"\nwrote {out} and {plot_path} in {report['wall_s']:.0f} s")
    return 0


def multi_seed(args, spec, reps, rep_s, window_s, run_root, one_seed_e2e, one_seed_learn):
    if args.quick or args.multi_seed < 2:
        return {"supported": True, "measured": False,
                "note": "skipped (--quick)" if args.quick else "skipped (--multi-seed 1)"}
    n = args.overlap_num_envs
    reps = min(reps, 3)  # vmapped seeds compile and run slowly on a CPU
    config = bench_config(args.game, n, args.quick, seeds=tuple(range(args.multi_seed)))
    learn = learner_only(config, spec, reps, rep_s)
    log(f"learner-only {args.multi_seed} seeds: {learn['updates_per_s']['median']:.1f} "
        "updates/s, all seeds")
    window = NATURE_RATIO * learn["updates_per_s"]["median"] / args.multi_seed * window_s
    e2e = end_to_end(config, True, reps, window, run_root)
    total = e2e["steps_per_s_all_seeds"]["median"]
    log(f"end-to-end {args.multi_seed} seeds: {total:.1f} steps/s, all seeds")
    one = one_seed_e2e["steps_per_s"]["median"]
    return {
        "supported": True, "measured": True, "num_envs": n,
        "rows": [
            {"seeds": 1, "learner_updates_per_s_total": one_seed_learn["updates_per_s"]["median"],
             "end_to_end_steps_per_s_total": one, "vs_one_seed": 1.0},
            {"seeds": args.multi_seed,
             "learner_updates_per_s_total": learn["updates_per_s"]["median"],
             "end_to_end_steps_per_s_total": total, "vs_one_seed": total / one},
        ],
        "learner_only": learn, "end_to_end": e2e,
    }


if __name__ == "__main__":
    sys.exit(main())