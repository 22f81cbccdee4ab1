"""purejaxdqn against PureJaxRL's DQN on PureJaxRL's own workload, side by side.

    python -m benchmarks.peer --purejaxrl PATH [--reps 3] [--out benchmarks/results/peer_<platform>.json]

PATH is a checkout of PureJaxRL (github.com/luchris429/purejaxrl; its `purejaxrl/dqn.py`
is run, never copied; it imports flashbax and wandb: `pip install -e ".[bench]"`).

The workload is that script's default config: CartPole-v1 (gymnax), 500k agent steps,
10 envs, batch 128, one update per 10 agent steps, 10k replay, MLP 120-84, Adam 2.5e-4,
squared TD loss, target copy every 500 steps, ε 1 → 0.05 over 250k steps, learning from
step 10k. Ours runs `purejaxdqn train` with the same settings (`peer_config`: ε decays
over 240k steps after the 10k warm-up, so it ends at 250k too; our squared loss has a
factor 1/2, which Adam's scale invariance leaves without effect up to its ε).

Each repetition runs both programs as fresh processes, one after the other (the order
alternates), and times the whole process: imports, compilation, training and, for
ours, the final evaluation (PureJaxRL's script has none). Reported: wall seconds, the
ratio theirs / ours (> 1: ours faster), and the learning result of each: PureJaxRL's
mean return of the last finished games at the end of training (its own metric,
`returned_episode_returns`), ours the final greedy evaluation over 20 games and the
training score of the last 100 games.

Both programs run twice per repetition, under JAX's persistent compilation cache
(`JAX_COMPILATION_CACHE_DIR`, which any JAX program honours): `cold`, an empty cache
directory, so every program compiles (what a first run pays); `warm`, a directory
that one untimed run of the same program filled beforehand (what a re-run, another
seed of the same shapes or a resume pays; `purejaxdqn train` turns the cache on by
default, PureJaxRL's script leaves it to the environment). Each program has its own
warm directory, with its minimum compile time for caching set to 0.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

from benchmarks.common import log, machine_info, result_path, stats, write_json

# PureJaxRL's dqn.py `main()` trains with its config and keeps nothing; this runner
# (a separate process) imports the script from PATH, wraps jax.block_until_ready to
# catch main()'s outputs, runs main() and prints their last returns as JSON.
# The script was written for gymnax < 1.0, whose step returned (obs, state, reward, done,
# info); gymnax 1.0 (ours) returns terminated and truncated apart. The runner gives the
# script's LogWrapper the old 5-tuple (done = terminated or truncated, as gymnax < 1.0
# reported it), and restores `jax.tree_map`, an alias of jax.tree_util.tree_map that the
# script calls and JAX 0.6 removed, so the script runs unchanged on our JAX and gymnax.
# THEIR_IMPORT is that set-up and import (benchmarks.peer_breakdown times it on its own).
THEIR_IMPORT = """
import importlib.util, json, sys, time
start = time.perf_counter()
import jax
import jax.numpy as jnp
from gymnax.wrappers import purerl

class LogWrapper(purerl.LogWrapper):
    def step(self, key, state, action, params=None):
        obs, state, reward, terminated, truncated, info = super().step(key, state, action,
                                                                       params)
        return obs, state, reward, jnp.logical_or(terminated, truncated), info

purerl.LogWrapper = LogWrapper
jax.tree_map = jax.tree_util.tree_map
spec = importlib.util.spec_from_file_location("purejaxrl_dqn", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
"""
# ... then runs main(), catching what it passes to jax.block_until_ready.
THEIR_RUNNER = THEIR_IMPORT + """
caught = {}
block = jax.block_until_ready
def catch(x):
    caught["outs"] = x
    return block(x)
jax.block_until_ready = catch
module.main()
returns = caught["outs"]["metrics"]["returns"]  # [seeds, updates]: mean over envs
print(json.dumps({"final_returns": float(returns[0, -1]),
                  "last_1000_mean": float(returns[0, -1000:].mean()),
                  "in_process_s": time.perf_counter() - start}))
"""


def peer_config():
    """PureJaxRL's default DQN workload as our Config (see the module docstring)."""
    from benchmarks.engines import WORKLOADS

    return WORKLOADS["cartpole"].replace(
        total_steps=500_000, epsilon_end=0.05, epsilon_decay_steps=240_000,
        eval_every=0, eval_episodes=20, log_every=50_000, checkpoint_every=0,
        checkpoint_minutes=0, checkpoint_replay=False)


def cli_flags(config) -> list[str]:
    """`purejaxdqn train` flags that give `config` from the cartpole preset."""
    from purejaxdqn.presets import CARTPOLE

    flags = ["--preset", "cartpole"]
    for name, value in config.to_dict().items():
        if value == getattr(CARTPOLE, name):
            continue
        text = (",".join(map(str, value)) if isinstance(value, tuple) else
                str(value).lower() if isinstance(value, bool) else str(value))
        flags += [f"--{name.replace('_', '-')}", text]
    return flags


MODES = ("cold", "warm")


def cache_env(cache_dir: str) -> dict:
    """The environment for a run under the persistent compilation cache in `cache_dir`."""
    return dict(os.environ, JAX_COMPILATION_CACHE_DIR=cache_dir,
                JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS="0")


def run_theirs(script: str, cache_dir: str) -> dict:
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", THEIR_RUNNER, script], capture_output=True,
                          text=True, check=False, env=cache_env(cache_dir))
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"PureJaxRL's dqn.py failed: {done.stderr.strip()[-500:]}")
    return {"wall_s": wall, **json.loads(done.stdout.strip().splitlines()[-1])}


def run_ours(config, root: str, cache_dir: str) -> dict:
    run_dir = tempfile.mkdtemp(dir=root)
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "purejaxdqn", "train", *cli_flags(config),
                           "--run-dir", run_dir, "--overwrite", "--no-progress"],
                          capture_output=True, text=True, check=False, env=cache_env(cache_dir))
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"purejaxdqn train failed: {done.stderr.strip()[-500:]}")
    with open(os.path.join(run_dir, "summary.json")) as f:
        summary = json.load(f)
    with open(os.path.join(run_dir, "episodes.csv")) as f:
        scores = [float(line.split(",")[2]) for line in f.readlines()[1:]]
    return {"wall_s": wall, "engine": summary["engine"],
            "learning_steps_per_s": summary["learning_steps_per_s"],
            "final_eval_mean": summary["final_eval"]["score_mean"][0],
            "last_100_training_mean": sum(scores[-100:]) / len(scores[-100:])}


def run(purejaxrl: str, reps: int) -> dict:
    script = os.path.join(purejaxrl, "purejaxrl", "dqn.py")
    config = peer_config()
    machine = machine_info()
    rows = []
    with tempfile.TemporaryDirectory(prefix="peer-") as root:
        programs = {"theirs": lambda cache: run_theirs(script, cache),
                    "ours": lambda cache: run_ours(config, root, cache)}
        warm = {who: tempfile.mkdtemp(prefix=f"cache-{who}-", dir=root) for who in programs}
        for who, program in programs.items():
            log(f"peer: filling the warm cache of {who} (untimed)")
            program(warm[who])
        for rep in range(reps):
            order = ("theirs", "ours") if rep % 2 == 0 else ("ours", "theirs")
            row = {}
            for mode in MODES:
                row[mode] = {}
                for who in order:
                    log(f"peer: rep {rep + 1}/{reps}, {mode}, {who}")
                    cache = warm[who] if mode == "warm" else tempfile.mkdtemp(dir=root)
                    row[mode][who] = programs[who](cache)
                row[mode]["theirs_over_ours_wall"] = (row[mode]["theirs"]["wall_s"] /
                                                      row[mode]["ours"]["wall_s"])
            rows.append(row)
    machine["load_average_end"] = list(os.getloadavg())
    return {"benchmark": "peer", "machine": machine, "purejaxrl": purejaxrl,
            "workload": config.to_dict(), "ours_flags": cli_flags(config), "reps": rows,
            "wall_s": {mode: {who: stats([r[mode][who]["wall_s"] for r in rows])
                              for who in programs} for mode in MODES},
            "speed_ratio": {mode: stats([r[mode]["theirs_over_ours_wall"] for r in rows])
                            for mode in MODES}}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peer",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--purejaxrl", required=True, metavar="PATH",
                        help="a PureJaxRL checkout (holding purejaxrl/dqn.py); no default")
    parser.add_argument("--reps", type=int, default=3,
                        help="repetitions of the pair (default: %(default)s)")
    parser.add_argument("--out", default=None, metavar="FILE",
                        help="default: benchmarks/results/peer_<platform>.json")
    args = parser.parse_args(argv)
    script = os.path.join(args.purejaxrl, "purejaxrl", "dqn.py")
    if not os.path.isfile(script):
        print(f"peer: error: {script} does not exist (--purejaxrl names a PureJaxRL checkout)",
              file=sys.stderr)
        return 2
    if args.reps < 1:
        print(f"peer: error: --reps must be at least 1, got {args.reps}", file=sys.stderr)
        return 2
    out = args.out or result_path("peer")
    report = run(args.purejaxrl, args.reps)
    write_json(out, report)
    ratios = ", ".join(f"{mode} {report['speed_ratio'][mode]['median']:.2f}" for mode in MODES)
    log(f"peer: theirs / ours wall time (median of {args.reps}): {ratios}; wrote {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
