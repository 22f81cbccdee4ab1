"""Time replay add / sample / update_priorities on Atari-shaped data.

    python -m benchmarks.replay_bench [--quick] [--out PATH]

One `add` writes one env iteration (8 envs x 84x84 uint8 frames, inputs
already on device); one `sample` draws a batch of 32 stacked transitions.
Compilation is excluded (warm-up calls); every call is timed separately with
block_until_ready, and we report the median and the 10th/90th percentiles.
Sampling costs the same at any fill level (fixed-depth tree descent), so the
buffer is only partly filled before timing.
"""

from __future__ import annotations

import argparse
import datetime
import functools
import json
import os
import platform
import time
import types

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn import replay as replay_lib
from purejaxdqn.replay import Timestep

NUM_ENVS, FRAME, BATCH = 8, (84, 84), 32


def machine_info() -> dict:
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), cpu)
    except OSError:
        pass
    device = jax.devices()[0]
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "device": f"{device.platform}:{device.device_kind}",
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


def timesteps(count: int, seed: int = 0) -> list[Timestep]:
    """A few distinct device-resident Timesteps to cycle through (no episode ends)."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(count):
        out.append(
            jax.device_put(
                Timestep(
                    obs=rng.integers(0, 256, (NUM_ENVS, *FRAME), dtype=np.uint8),
                    action=rng.integers(0, 6, NUM_ENVS).astype(np.int32),
                    reward=rng.integers(-1, 2, NUM_ENVS).astype(np.float32),
                    terminated=np.zeros(NUM_ENVS, bool),
                    truncated=np.zeros(NUM_ENVS, bool),
                    life_lost=np.zeros(NUM_ENVS, bool),
                    first=np.full(NUM_ENVS, i == 0),
                    reset=np.zeros(NUM_ENVS, bool),
                )
            )
        )
    return out


def jitted(params: replay_lib.ReplayParams) -> types.SimpleNamespace:
    """add / sample / update_priorities jitted on their own, as a caller outside a
    larger jit would (state donated where it is replaced)."""
    return types.SimpleNamespace(
        add=jax.jit(functools.partial(replay_lib.add, params), donate_argnums=0),
        sample=jax.jit(functools.partial(replay_lib.sample, params)),
        update_priorities=jax.jit(functools.partial(replay_lib.update_priorities, params), donate_argnums=0))


def summarize(seconds: list[float]) -> dict:
    us = np.asarray(seconds) * 1e6
    return {
        "calls": len(us),
        "median_us": float(np.median(us)),
        "p10_us": float(np.percentile(us, 10)),
        "p90_us": float(np.percentile(us, 90)),
        "min_us": float(us.min()),
    }


def bench(total: int, prioritized: bool, calls: int, fill: int) -> dict:
    params = replay_lib.ReplayParams(total // NUM_ENVS, NUM_ENVS, BATCH, prioritized=prioritized)
    replay = jitted(params)
    inputs = timesteps(16)
    nbytes = replay_lib.state_bytes(params, inputs[0])

    t0 = time.perf_counter()
    state = jax.block_until_ready(replay_lib.init(params, inputs[0]))
    init_s = time.perf_counter() - t0
    for i in range(fill):  # also compiles add
        state = replay.add(state, inputs[i % len(inputs)])
    key = jax.random.key(0)
    jax.block_until_ready(replay.sample(state, key, 0.5))  # compile
    if prioritized:
        batch = replay.sample(state, key, 0.5)
        state = jax.block_until_ready(replay.update_priorities(state, batch.index, jnp.abs(batch.reward) + 0.5))

    add_t, sample_t, update_t = [], [], []
    keys = jax.random.split(key, calls)
    for i in range(calls):
        ts = inputs[i % len(inputs)]
        t0 = time.perf_counter()
        state = jax.block_until_ready(replay.add(state, ts))
        add_t.append(time.perf_counter() - t0)

        k = keys[i]
        t0 = time.perf_counter()
        batch = jax.block_until_ready(replay.sample(state, k, 0.5))
        sample_t.append(time.perf_counter() - t0)

        if prioritized:
            td = jnp.abs(batch.reward) + 0.5
            t0 = time.perf_counter()
            state = jax.block_until_ready(replay.update_priorities(state, batch.index, td))
            update_t.append(time.perf_counter() - t0)

    result = {
        "capacity": total,
        "capacity_per_env": total // NUM_ENVS,
        "prioritized": prioritized,
        "state_bytes": nbytes,
        "filled_steps": fill + calls,
        "init_s": init_s,
        "add": summarize(add_t),
        "sample": summarize(sample_t),
    }
    if prioritized:
        result["update_priorities"] = summarize(update_t)
    del state  # free the (up to 7 GB) buffer before the next configuration
    return result


def markdown(results: list[dict]) -> str:
    rows = [
        "| capacity | replay | state | add median (p10-p90) | sample median (p10-p90) | update_priorities median |",
        "|---:|---|---:|---:|---:|---:|",
    ]
    fmt = lambda s: f"{s['median_us']:.0f} µs ({s['p10_us']:.0f}-{s['p90_us']:.0f})"  # noqa: E731
    for r in results:
        upd = fmt(r["update_priorities"]) if "update_priorities" in r else "-"
        rows.append(
            f"| {r['capacity']:,} | {'prioritized' if r['prioritized'] else 'uniform'} | "
            f"{r['state_bytes'] / 1e9:.3f} GB | {fmt(r['add'])} | {fmt(r['sample'])} | {upd} |"
        )
    return "\n".join(rows)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="10k capacity only, few calls (< 30 s)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results", "replay_cpu.json"))
    args = parser.parse_args(argv)

    capacities = [10_000] if args.quick else [10_000, 1_000_000]
    calls, fill = (50, 20) if args.quick else (500, 1000)
    results = [bench(total, prio, calls, fill) for total in capacities for prio in (False, True)]

    report = {
        "benchmark": "replay add (8 envs, 84x84 uint8) / sample (batch 32, stack 4, n_step 1)",
        "quick": args.quick,
        "machine": machine_info(),
        "results": results,
    }
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    with open(args.out, "w") as f:
        json.dump(report, f, indent=2)
    print(markdown(results))
    print(f"\nwrote {args.out}")


if __name__ == "__main__":
    main()
