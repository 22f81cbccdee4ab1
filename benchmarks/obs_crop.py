"""Where should note 002's crop + resize run: on device, or on the host?

    python -m benchmarks.obs_crop [--num-envs 8] [--reps 5] [--rep-s 2]
                                  [--out benchmarks/results/obs_crop_<platform>.json]

envpool has no crop option, so note 002's rows 31:195 -> 80x80 (nearest) needs
envpool's full 210x160 grayscale screen and then `purejaxdqn.envs.observations`'s
gather, either in numpy in the env wrapper (`obs_transform_on="host"`) or in
the jitted `act` (`"device"`). Measured side by side in ONE run, repetitions
interleaved (host, device, reference, host, ...), as agent steps/s of the acting
loop the trainer runs (env step + `act`: replay add + epsilon-greedy), no learning:

  host       envpool 210x160 -> numpy crop/resize -> act on 4x80x80
  device     envpool 210x160 -> act (crop/resize inside the jit) on 4x80x80
  reference  envpool's own 84x84 resize of the *uncropped* screen (Nature input):
             what the loop costs without a crop at all

Ratios between the rows are the result; on a shared machine absolute numbers
drift (the JSON records the load average).
"""

from __future__ import annotations

import argparse
import os
import sys

import numpy as np

from benchmarks.common import log, machine_info, stats, timed_reps, write_json

MODES = ("host", "device", "reference")


def _loop(mode: str, num_envs: int):
    """A `step_once() -> agent steps` closure for one mode, compiled and warmed up."""
    import jax

    from purejaxdqn.agent import make_agent, step_input
    from purejaxdqn.envs.envpool import make_env
    from purejaxdqn.presets import get_preset

    config = get_preset("breakout-cropped").replace(num_envs=num_envs, replay_capacity=8_192,
                                                     warmup_steps=32)
    if mode == "host":
        config = config.replace(obs_transform_on="host")
    elif mode == "reference":
        config = config.replace(frame_size=(84, 84), obs_crop_rows=(), obs_resize=())
    env = make_env(config)
    agent = make_agent(config, env.spec)
    box = {"state": agent.init(jax.random.PRNGKey(0)[None]), "step": env.reset()}

    def step_once() -> int:
        box["state"], actions = agent.act(box["state"], step_input([box["step"]]))
        box["step"] = env.step(np.asarray(actions)[0])
        return num_envs

    return step_once, env


def run(num_envs: int, reps: int, rep_s: float) -> dict:
    loops = {mode: _loop(mode, num_envs) for mode in MODES}
    values: dict[str, list[float]] = {mode: [] for mode in MODES}
    for rep in range(reps):
        for mode in MODES:
            values[mode] += timed_reps(loops[mode][0], 1, rep_s)
        log(f"rep {rep + 1}/{reps}: " + ", ".join(f"{m} {values[m][-1]:.0f}" for m in MODES))
    for _, env in loops.values():
        env.close()
    result = {mode: stats(v) for mode, v in values.items()}
    result["device_over_host"] = result["device"]["median"] / result["host"]["median"]
    return result


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.obs_crop")
    parser.add_argument("--num-envs", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--rep-s", type=float, default=2.0)
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.num_envs <= 0 or args.reps <= 0 or args.rep_s <= 0:
        print("obs_crop: error: --num-envs, --reps and --rep-s must be positive", file=sys.stderr)
        return 2
    machine = machine_info()
    result = run(args.num_envs, args.reps, args.rep_s)
    machine["load_average_end"] = list(os.getloadavg())
    report = {"machine": machine, "num_envs": args.num_envs, "unit": "agent steps/s (env + act)",
              "results": result}
    out = args.out or os.path.join("benchmarks", "results",
                                   f"obs_crop_{machine['jax_platform']}.json")
    write_json(out, report)
    for mode in MODES:
        s = result[mode]
        print(f"{mode:10s} {s['median']:8.0f} steps/s ({s['min']:.0f}-{s['max']:.0f})")
    print(f"device / host: {result['device_over_host']:.2f}x  -> {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
