"""Fused vs host engine: agent steps/s of the real training loop, side by side.

    python -m benchmarks.engines [--workloads cartpole,minatar,atari8,atari32] [--seeds 1,4,16]
                                 [--reps 3] [--out benchmarks/results/engines_cpu.json]

Each row is `end_to_end.end_to_end`: `train.train` itself, throughput per log window
once learning runs (the first window, with compilation, dropped), for one engine
and one number of seeds trained side by side (vmapped). Workloads:

* `cartpole`: the CartPole workload a fully jitted JAX DQN (PureJaxRL's) was measured
  on: 10 envs, batch 128, one update per 10 agent steps, 10k replay, MLP 120-84, Adam
  2.5e-4, MSE, target copy every 500 steps. host = envpool's CartPole-v1, fused =
  gymnax's (the same dynamics).
* `minatar`: the `minatar` preset (Young & Tian's DQN, one env, one update per step)
  on Breakout-MinAtar. host = the JAX env stepped by one jitted call per iteration.
* `atari8`, `atari32`: Nature DQN on Breakout with 8 and 32 envs (one update of 32 per
  4 agent steps). host = envpool's send/recv overlapped with learning, fused =
  envpool's XLA interface inside the loop. One seed (`--atari-seeds` to change).

Engines are interleaved within each (workload, seeds) pair so a change in the shared
machine's load hits both; compare them as ratios.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from benchmarks.common import log, machine_info, write_json
from benchmarks.end_to_end import end_to_end
from purejaxdqn.presets import CARTPOLE, MINATAR, NATURE

WORKLOADS = {
    "cartpole": CARTPOLE.replace(
        num_envs=10, batch_size=128, steps_per_update=10, replay_capacity=10_000,
        warmup_steps=10_000, mlp_hidden=(120,), head_hidden=84, optimizer="adam",
        learning_rate=2.5e-4, loss="mse", target_update_period=500, eval_every=0,
        checkpoint_every=0, checkpoint_minutes=0),
    "minatar": MINATAR.replace(warmup_steps=2_000, eval_every=0, checkpoint_every=0,
                               checkpoint_minutes=0),
    **{f"atari{n}": NATURE.replace(num_envs=n, warmup_steps=2_048, replay_capacity=100_000,
                                   eval_every=0, checkpoint_every=0, checkpoint_minutes=0)
       for n in (8, 32)},
}
# agent steps per seed per window
WINDOW_STEPS = {"cartpole": 20_000, "minatar": 2_000, "atari8": 512, "atari32": 1_024}


def run(workloads, seeds_list, reps: int, quick: bool, atari_seeds=(1,)) -> dict:
    machine = machine_info()  # the load average at start is in it
    rows = []
    with tempfile.TemporaryDirectory(prefix="engines-") as root:
        for workload in workloads:
            for num_seeds in (atari_seeds if workload.startswith("atari") else seeds_list):
                base = WORKLOADS[workload].replace(seeds=tuple(range(num_seeds)))
                window = WINDOW_STEPS[workload] // (10 if quick else 1)
                if quick:
                    base = base.replace(warmup_steps=base.warmup_steps // 10)
                pair = {}
                for engine in ("host", "fused"):
                    log(f"{workload}, {num_seeds} seed(s), {engine} engine")
                    row = end_to_end(base.replace(engine=engine), True, reps, window, root)
                    row.update(workload=workload, env_id=base.env_id)
                    rows.append(row)
                    pair[engine] = row
                total = {e: r.get("steps_per_s_all_seeds", r["steps_per_s"])["median"]
                         for e, r in pair.items()}
                rows.append({"workload": workload, "seeds": num_seeds,
                             "fused_over_host": total["fused"] / total["host"],
                             "total_steps_per_s": total})
                log(f"  fused/host = {total['fused'] / total['host']:.2f} "
                    f"({total['fused']:.0f} vs {total['host']:.0f} agent steps/s, all seeds)")
    machine["load_average_end"] = list(os.getloadavg())
    return {"benchmark": "engines", "machine": machine, "reps": reps, "quick": quick,
            "workloads": {w: WORKLOADS[w].to_dict() for w in workloads}, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.engines",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="cartpole,minatar,atari8,atari32")
    parser.add_argument("--seeds", default="1,4,16", help="for cartpole and minatar")
    parser.add_argument("--atari-seeds", default="1")
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="tiny windows (a smoke test)")
    parser.add_argument("--out", default="benchmarks/results/engines_cpu.json")
    args = parser.parse_args(argv)
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in WORKLOADS]
    try:
        seeds_list = [int(s) for s in args.seeds.split(",")]
        atari_seeds = [int(s) for s in args.atari_seeds.split(",")]
    except ValueError:
        seeds_list = atari_seeds = []
    if unknown or not workloads:
        print(f"engines: error: unknown workload(s) {', '.join(unknown) or '(none)'}; choose "
              f"from {', '.join(WORKLOADS)}", file=sys.stderr)
        return 2
    if not seeds_list or not atari_seeds or min(seeds_list + atari_seeds) < 1 or args.reps < 1:
        print(f"engines: error: --seeds must be positive integers and --reps >= 1, got "
              f"{args.seeds!r} and {args.reps}", file=sys.stderr)
        return 2
    report = run(workloads, seeds_list, args.reps, args.quick, atari_seeds)
    write_json(args.out, report)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
