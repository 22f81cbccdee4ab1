"""Seeds side by side: total agent steps/s against the number of seeds, how the seeds'
updates are grouped (`--seed-group`: vmapped together within a group, groups one after
another inside one program) and, on the fused engine, how the seeds are split into blocks
(`--seed-block`: each block its own state and device call).

    python -m benchmarks.seeds [--workloads minatar,atari8] [--seeds 1,4,16]
                               [--atari-seeds 1,2] [--groups 0,1,4] [--blocks 0]
                               [--reps 2] [--out benchmarks/results/seeds_cpu.json]

Each row is `end_to_end.end_to_end` (the real `train.train`, throughput per log window
after compilation) for one workload, seed count and group or block; group 0 (in
`--groups` and the JSON) is all seeds in one vmapped call, block 0 all seeds in one block,
and a group or block is measured only where it splits the seeds (< seeds; blocks on the
fused engine only, with the updates of a block in one call). `--seed-group` and
`--seed-block` 0 (auto) pick one of these by backend.
Workloads as in `benchmarks.engines`: `minatar` on the fused engine, `atari8` (Nature DQN,
8 envs) on the host engine. `speedup` is the row's total steps/s over one seed's; the
sequential baseline of S seeds is one seed's total (S runs one after another).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile

from benchmarks.common import int_list, log, machine_info, result_path, write_json
from benchmarks.end_to_end import end_to_end
from benchmarks.engines import WINDOW_STEPS, WORKLOADS

ENGINE = {"minatar": "fused", "atari8": "host"}


def _total(row: dict) -> float:
    return row.get("steps_per_s_all_seeds", row["steps_per_s"])["median"]


def run(workloads, seeds_list, atari_seeds, groups, reps: int, quick: bool,
        blocks=(0,)) -> dict:
    machine = machine_info()
    rows = []
    with tempfile.TemporaryDirectory(prefix="seeds-") as root:
        for workload in workloads:
            one_seed = None
            for num_seeds in atari_seeds if workload.startswith("atari") else seeds_list:
                base = WORKLOADS[workload].replace(seeds=tuple(range(num_seeds)),
                                                   engine=ENGINE[workload])
                window = WINDOW_STEPS[workload] // (10 if quick else 1)
                if quick:
                    base = base.replace(warmup_steps=base.warmup_steps // 10)
                variants = [(g, 0) for g in sorted({0} | {g for g in groups
                                                          if 0 < g < num_seeds})]
                if ENGINE[workload] == "fused":
                    variants += [(0, b) for b in sorted({b for b in blocks if 0 < b < num_seeds})]
                for group, block in variants:
                    log(f"{workload}, {num_seeds} seed(s), seed_group {group or 'all'}, "
                        f"seed_block {block or 'all'}")
                    # 0 here is all seeds in one call / one block (the config's 0 is auto)
                    config = base.replace(seed_group=group or num_seeds,
                                          seed_block=block or num_seeds)
                    row = end_to_end(config, True, reps, window, root)
                    one_seed = one_seed or _total(row)
                    row.update(workload=workload, seed_group=group, seed_block=block,
                               total_steps_per_s=_total(row), speedup=_total(row) / one_seed)
                    rows.append(row)
                    log(f"  {row['total_steps_per_s']:.0f} agent steps/s all seeds, "
                        f"{row['speedup']:.2f}x one seed")
    machine["load_average_end"] = list(os.getloadavg())
    return {"benchmark": "seeds", "machine": machine, "reps": reps, "quick": quick,
            "workloads": {w: WORKLOADS[w].to_dict() for w in workloads}, "rows": rows}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.seeds",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default="minatar,atari8",
                        help=f"comma-separated, of {', '.join(ENGINE)}")
    parser.add_argument("--seeds", default="1,4,16", help="seed counts for minatar")
    parser.add_argument("--atari-seeds", default="1,2", help="seed counts for atari8")
    parser.add_argument("--groups", default="0,1,4",
                        help="seed groups to compare (0: all seeds in one call)")
    parser.add_argument("--blocks", default="0",
                        help="seed blocks to compare on the fused engine (0: one block)")
    parser.add_argument("--reps", type=int, default=2, help="log windows measured per row")
    parser.add_argument("--quick", action="store_true", help="tiny windows (smoke test)")
    parser.add_argument("--out", default=result_path("seeds"))
    args = parser.parse_args(argv)
    workloads = [w for w in args.workloads.split(",") if w]
    try:
        seeds_list, atari_seeds = int_list(args.seeds), int_list(args.atari_seeds)
        groups, blocks = int_list(args.groups), int_list(args.blocks)
    except ValueError:
        print("seeds: error: --seeds, --atari-seeds, --groups and --blocks take comma-separated "
              "integers >= 0", file=sys.stderr)
        return 2
    unknown = [w for w in workloads if w not in ENGINE]
    if not workloads or unknown or min(seeds_list + atari_seeds) < 1 or args.reps < 1:
        print(f"seeds: error: --workloads must be some of {', '.join(ENGINE)}, seed counts "
              f">= 1 and --reps >= 1; got {args.workloads!r}, {args.seeds!r}, "
              f"{args.atari_seeds!r}, {args.reps}", file=sys.stderr)
        return 2
    report = run(workloads, seeds_list, atari_seeds, groups, args.reps, args.quick, blocks)
    write_json(args.out, report)
    log(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
