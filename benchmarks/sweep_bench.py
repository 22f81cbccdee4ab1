"""Overhead of `experiments.sweep` (local Ray) against the same runs one after another.

    python -m benchmarks.sweep_bench [--runs-per-mode 2] [--budget 1000]

The same planned runs (CartPole, nature and double x seeds 0 and 1, one run per
seed: 4 runs of `--budget` agent steps) are trained three ways, each a fresh
process timed from launch to exit (so both pay Python and JAX start-up):

  sequential   one process calling `train()` on each planned run in turn (no Ray)
  sequential_omp1  the same with OMP_NUM_THREADS=1, which Ray sets in a worker
               declaring 1 CPU: separates Ray's own cost from that setting
  sweep_1cpu   `python -m experiments.sweep --local-cpus 1`: one run at a time
               (the same serial work plus Ray's start, task dispatch, workers)
  sweep_2cpu   `--local-cpus 2`: two runs at once on this machine's 2 cores

The modes alternate (sequential, sweep_1cpu, sweep_2cpu, sequential, ...), so a
ratio compares timings taken side by side. Writes
benchmarks/results/sweep_overhead_cpu.json with every timing, the medians, the
ratios to `sequential`, the machine and its load average at start and end.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import numpy as np

from benchmarks.common import machine_info, write_json

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PLAN = ["--env", "CartPole-v1", "--variants", "nature,double", "--seeds", "0,1",
        "--seeds-per-run", "1"]
OVERRIDES = ["warmup_steps=500", "eval_every=500", "eval_episodes=2"]

SEQUENTIAL = """
import sys
from experiments.ablate import parse_overrides, plan_ablation
from purejaxdqn.run.train import train
out, budget, overrides = sys.argv[1], sys.argv[2], sys.argv[3:]
for run in plan_ablation("CartPole-v1", "nature,double", "0,1", budget, out,
                         parse_overrides(overrides), seeds_per_run=1):
    train(run.config, run.run_dir, progress=False)
"""


def timed(command: list[str], **extra_env: str) -> float:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]),
               **extra_env)
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"sweep_bench: {command[2]} failed:\n{done.stderr[-2000:]}")
    return wall


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs-per-mode", type=int, default=2)
    parser.add_argument("--budget", type=int, default=1000, help="agent steps per run")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results",
                                                      "sweep_overhead_cpu.json"))
    args = parser.parse_args(argv)

    report = {"benchmark": "experiments.sweep on local Ray vs the same runs one after another",
              "plan": {"env": "CartPole-v1", "variants": ["nature", "double"],
                       "seeds": [0, 1], "runs": 4, "budget": args.budget,
                       "overrides": OVERRIDES},
              "machine": {**machine_info(), "load_average_start": list(os.getloadavg()),
                          "note": "shared machine: other jobs ran beside this benchmark "
                                  "(see the load averages); compare the ratios, not seconds"},
              "timings_s": {"sequential": [], "sequential_omp1": [], "sweep_1cpu": [],
                            "sweep_2cpu": []}}
    scratch = tempfile.mkdtemp(prefix="sweep_bench_")
    try:
        for rep in range(args.runs_per_mode):
            for mode in report["timings_s"]:
                out = os.path.join(scratch, f"{mode}-{rep}")
                extra = {"OMP_NUM_THREADS": "1"} if mode == "sequential_omp1" else {}
                if mode.startswith("sequential"):
                    command = [sys.executable, "-c", SEQUENTIAL, out, str(args.budget),
                               *OVERRIDES]
                else:
                    command = [sys.executable, "-m", "experiments.sweep", *PLAN,
                               "--budget", str(args.budget), "--set", *OVERRIDES,
                               "--out", out, "--quiet", "--local-cpus", mode[-4]]
                wall = timed(command, **extra)
                report["timings_s"][mode].append(round(wall, 2))
                print(f"{mode} #{rep + 1}: {wall:.1f} s", file=sys.stderr, flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    report["machine"]["load_average_end"] = list(os.getloadavg())
    medians = {mode: float(np.median(t)) for mode, t in report["timings_s"].items()}
    report["median_s"] = medians
    report["ratio_to_sequential"] = {mode: round(m / medians["sequential"], 3)
                                     for mode, m in medians.items()}
    write_json(args.out, report)
    print(json.dumps({"median_s": medians, "ratio": report["ratio_to_sequential"]}, indent=2))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
