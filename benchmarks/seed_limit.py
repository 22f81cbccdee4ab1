"""Why total steps/s levels off with seeds: the MinAtar `learn` (replay sample + update,
all seeds vmapped in one call) timed per seed at S seeds and two batch sizes.

    python -m benchmarks.seed_limit [--seeds 1,4,16,64] [--batches 32,8] [--reps 3]
                                    [--out benchmarks/results/seed_limit_cpu.json]

A seed's update has two kinds of work: the forward and backward passes grow with the
batch; the optimizer step and the rest of the parameter bookkeeping touch every
parameter once per update whatever the batch. A line through the per-seed times at the
two batch sizes, t(B) = fixed + per_sample * B, separates them: `fixed_ms` (B = 0) and
`batch_ms` (per_sample * the preset's batch, 32). Beside them, per seed, the bytes of
the learner's parameter-shaped state (online and target parameters, optimizer
moments) and the rate at which `fixed_ms` moves them (`fixed_gb_per_s`), to read
against this machine's memory bandwidth (`bandwidth`: a jitted x + 1 over 256 MB,
read + write) and float32 matrix-product rate (`matmul`, as in learner_limit.py).

What the rows answer: if `fixed_ms` per seed stops falling as seeds are added while
`fixed_gb_per_s` nears the bandwidth, the seeds' shared update is bound by moving their
parameters through memory, and more seeds cannot make it cheaper per seed. Compare
figures as ratios within one run; the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import sys

from benchmarks.common import (int_list, log, machine_info, repeat_blocking, result_path, stats,
                               write_json)

BANDWIDTH_FLOATS = 64 * 2 ** 20  # 256 MB of float32: far larger than any CPU cache


def bandwidth_gb_per_s(reps: int) -> dict:
    import jax
    import jax.numpy as jnp

    x = jnp.zeros((BANDWIDTH_FLOATS,), jnp.float32)
    add = jax.jit(lambda x: x + 1.0)
    add(x).block_until_ready()  # compiled before any timing
    # bytes read + written per call, in GB
    rates, _ = repeat_blocking(lambda: add(x).block_until_ready(),
                               2 * 4 * BANDWIDTH_FLOATS / 1e9, reps, 1.0)
    return {"array_mb": 4 * BANDWIDTH_FLOATS / 2 ** 20, "gb_per_s": stats(rates)}


def state_bytes_per_seed(config, spec) -> int:
    """Bytes of one seed's parameter-shaped learner state: every float leaf of the
    learner (params, target params, optimizer moments), not the replay."""
    import jax
    import numpy as np

    from purejaxdqn.agent import make_agent

    agent = make_agent(config.replace(seeds=(0,)), spec)
    # shapes only: nothing is allocated (the replay would be)
    state = jax.eval_shape(agent.init, jax.numpy.stack([jax.random.PRNGKey(0)]))
    return int(sum(leaf.size // leaf.shape[0] * leaf.dtype.itemsize
                   for leaf in jax.tree_util.tree_leaves(state.learner)
                   if np.issubdtype(leaf.dtype, np.floating) and leaf.ndim > 0))


def per_seed_ms(config, spec, reps: int, rep_s: float) -> dict:
    from benchmarks.learner_only import learner_only

    row = learner_only(config, spec, reps, rep_s)  # updates/s counts every seed's update
    return {"ms_per_seed_update": 1e3 / row["updates_per_s"]["median"],
            "updates_per_s": row["updates_per_s"], "compile_s": row["compile_s"]}


def split(times_by_batch: dict[int, float], batch: int) -> tuple[float, float]:
    """(fixed, batch part at `batch`) of the line through the per-seed times at two
    batch sizes: t(B) = fixed + per_sample * B."""
    (b0, t0), (b1, t1) = sorted(times_by_batch.items())
    per_sample = (t1 - t0) / (b1 - b0)
    return t0 - per_sample * b0, per_sample * batch


def run(seeds_list, batches, reps: int, rep_s: float) -> dict:
    from benchmarks.engines import WORKLOADS
    from benchmarks.learner_limit import matmul_gflops
    from purejaxdqn.envs.table import make_jax_env

    machine = machine_info()
    base = WORKLOADS["minatar"]
    spec = make_jax_env(base, 1, base.max_episode_steps).spec
    log("seed_limit: memory bandwidth and matrix products")
    limits = {"bandwidth": bandwidth_gb_per_s(reps), "matmul": matmul_gflops("float32", reps)}
    state_bytes = state_bytes_per_seed(base, spec)
    rows = []
    for num_seeds in seeds_list:
        times = {}
        for batch in batches:
            log(f"seed_limit: {num_seeds} seed(s), batch {batch}")
            config = base.replace(seeds=tuple(range(num_seeds)), seed_group=num_seeds,
                                  batch_size=batch).validate()
            row = per_seed_ms(config, spec, reps, rep_s)
            times[batch] = row["ms_per_seed_update"]
            rows.append({"seeds": num_seeds, "batch_size": batch, **row})
        fixed, batch_part = split(times, base.batch_size)
        rows.append({"seeds": num_seeds, "fit": True, "fixed_ms": fixed,
                     "batch_ms": batch_part,
                     "fixed_gb_per_s": state_bytes / (fixed * 1e-3) / 1e9 if fixed > 0 else None})
        log(f"  per seed: fixed {fixed:.3f} ms, batch part {batch_part:.3f} ms")
    limits["bandwidth_end"] = bandwidth_gb_per_s(reps)  # did the machine's load change?
    machine["load_average_end"] = list(os.getloadavg())
    return {"benchmark": "seed_limit", "machine": machine, "reps": reps,
            "workload": base.to_dict(), "state_bytes_per_seed": state_bytes,
            "limits": limits, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seed_limit",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", default="1,4,16,64", help="seed counts (default: %(default)s)")
    parser.add_argument("--batches", default="32,8",
                        help="two batch sizes for the fit (default: %(default)s)")
    parser.add_argument("--reps", type=int, default=3, help="timed repetitions per figure")
    parser.add_argument("--rep-s", type=float, default=2.0, help="seconds per repetition")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="default: benchmarks/results/seed_limit_<platform>.json")
    args = parser.parse_args(argv)
    try:
        seeds_list, batches = int_list(args.seeds, 1), int_list(args.batches, 1)
    except ValueError:
        seeds_list = batches = []
    if not seeds_list or len(set(batches)) != 2 or args.reps < 1 or args.rep_s <= 0:
        print(f"seed_limit: error: --seeds takes counts >= 1, --batches two different sizes "
              f">= 1, --reps >= 1 and --rep-s > 0; got {args.seeds!r}, {args.batches!r}, "
              f"{args.reps}, {args.rep_s}", file=sys.stderr)
        return 2
    out = args.out or result_path("seed_limit")
    report = run(seeds_list, batches, args.reps, args.rep_s)
    write_json(out, report)
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
