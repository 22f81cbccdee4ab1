"""How near the learner runs to this machine's limit: updates/s and GFLOP/s of the
data-efficient (Atari 100k) and Nature updates, beside large matrix products measured
in the same run.

    python -m benchmarks.learner_limit [--game RoadRunner] [--reps 5]
                                       [--out benchmarks/results/learner_limit_<platform>.json]

* limit: a 2048 x 2048 x 2048 `jnp.dot` in float32, and in bfloat16 with float32
  accumulation (`preferred_element_type`), GFLOP/s (2 n^3 per product), median of reps;
* learner: the agent's jitted `learn` (replay sample, augmentation where the preset has
  it, forward/backward passes, optimizer, target update), batch 32, one update per call,
  in updates/s (learner_only.py), and its FLOPs per call from XLA's cost analysis of the
  compiled program, so GFLOP/s = FLOPs x updates/s; its ratio to the float32 limit;
  each with XLA's convolutions and with im2col ones (`--conv-impl`), one after the other.

The figures are taken back to back; on a shared machine compare them as ratios.
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks.common import log, machine_info, repeat_blocking, result_path, stats, write_json

MATMUL_N = 2048
CONV_IMPLS = ("xla", "im2col")  # networks.ConvSettings: the two ways to compute a conv


def matmul_gflops(dtype_name: str, reps: int) -> dict:
    import jax
    import jax.numpy as jnp

    dtype = jnp.dtype(dtype_name)
    a = jnp.ones((MATMUL_N, MATMUL_N), dtype)
    product = jax.jit(lambda a, b: jnp.dot(a, b, preferred_element_type=jnp.float32))
    product(a, a).block_until_ready()  # compiled before any timing
    rates, _ = repeat_blocking(lambda: product(a, a).block_until_ready(),
                               2 * MATMUL_N ** 3 / 1e9, reps, 1.0)
    return {"dtype": dtype_name, "n": MATMUL_N, "gflops": stats(rates)}


def learn_flops(config, spec) -> float:
    """FLOPs of one compiled `learn` call (XLA's cost analysis; sampling included)."""
    import jax

    from benchmarks.learner_only import random_inputs
    from purejaxdqn.agent import make_agent

    agent = make_agent(config, spec)
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(0)]))
    inputs = random_inputs(spec, 1, config.num_envs, 2, np.random.default_rng(0))
    state, _ = agent.act(state, inputs[0])
    cost = agent.learn.lower(state).compile().cost_analysis()
    cost = cost[0] if isinstance(cost, list) else cost
    return float(cost["flops"])


def updates(name: str, config, spec, reps: int, limit: float) -> dict:
    from benchmarks.learner_only import learner_only

    row = learner_only(config, spec, reps, 2.0)
    flops = learn_flops(config, spec) / row["updates_per_learn"]
    rate = row["updates_per_s"]["median"]
    return {"update": name, "env_id": config.env_id, "batch_size": config.batch_size,
            "updates_per_s": row["updates_per_s"], "gflop_per_update": flops / 1e9,
            "gflops": flops * rate / 1e9, "fraction_of_float32_matmul": flops * rate / 1e9 / limit}


def run(game: str, reps: int) -> dict:
    from benchmarks.configs import bench_config, env_spec
    from purejaxdqn.presets import get_preset

    machine = machine_info()
    log("learner_limit: matrix products")
    limits = [matmul_gflops("float32", reps), matmul_gflops("bfloat16", reps)]
    f32 = limits[0]["gflops"]["median"]
    spec = env_spec(game)
    rows = []
    for name, config in (
            ("data-efficient", get_preset("data-efficient").replace(env_id=game).validate()),
            ("nature", bench_config(game, 4, False, 32))):
        for conv_impl in CONV_IMPLS:  # side by side: the ratio is the figure to read
            log(f"learner_limit: {name} update, {conv_impl} convolutions")
            row = updates(name, config.replace(conv_impl=conv_impl), spec, reps, f32)
            rows.append({**row, "conv_impl": conv_impl})
    limits.append(matmul_gflops("float32", reps))  # again: did the machine's load change?
    machine["load_average_end"] = list(os.getloadavg())
    return {"benchmark": "learner_limit", "machine": machine, "reps": reps,
            "matmul": limits, "learner": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.learner_limit",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--game", default="RoadRunner",
                        help="Atari game whose action count sizes the head (default: %(default)s)")
    parser.add_argument("--reps", type=int, default=5,
                        help="timed repetitions per figure (default: %(default)s)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="default: benchmarks/results/learner_limit_<platform>.json")
    args = parser.parse_args(argv)
    out = args.out or result_path("learner_limit")
    report = run(args.game, max(args.reps, 1))
    write_json(out, report)
    for row in report["learner"]:
        log(f"{row['update']}: {row['updates_per_s']['median']:.1f} updates/s, "
            f"{row['gflops']:.0f} GFLOP/s = {row['fraction_of_float32_matmul']:.2f} of the "
            f"float32 matmul rate ({report['matmul'][0]['gflops']['median']:.0f})")
    log(f"wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
