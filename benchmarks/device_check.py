"""One command for the day an accelerator is lent: every throughput figure the project
lacks on it, then a Pong learning run with the time left, into one JSON.

    python -m benchmarks.device_check [--budget-s 480] [--out DIR] [--smoke]

Sections, in order (each is skipped, and says so in the JSON, when the time left is
below its estimate; the JSON is rewritten after every section, so a kill keeps what
was measured):

1. `learner`: the agent's jitted `learn` alone (replay sample + Nature update) at
   batch 32, 128, 512 (updates/s; learner_only.py);
2. `atari_engines`: Nature DQN on Breakout, the real training loop, host and fused
   engine at num_envs 8, 32, 128 (agent steps/s; end_to_end.py);
3. `atari_seeds`, `minatar_seeds`: 1, 4, 16 seeds trained side by side (vmapped), Nature
   DQN on Breakout (8 envs each) and the `minatar` preset on Breakout-MinAtar, the
   engine `--engine auto` picks (total agent steps/s over all seeds);
4. `peer_workload`: the CartPole workload of PureJaxRL's DQN (500k steps, 10 envs,
   batch 128, one update per 10 steps; benchmarks/engines.py WORKLOADS["cartpole"]),
   wall time including compilation and the final evaluation;
5. `pong`: Nature DQN on Pong (32 envs) for as many agent steps as the measured
   throughput fits in the time left, its logs in OUT/pong/ and the evaluations in the JSON.

`--smoke` runs the same code paths at toy sizes on the CPU in about a minute (the
test suite runs it, so the script cannot rot); its JSON says smoke: true and is not
a measurement. Results: OUT/device_check_<platform>.json (default OUT: benchmarks/results).
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time

from benchmarks.common import log, machine_info, write_json

# Sizes of the real check and of the smoke run; each section's estimated seconds on an
# H200-class GPU (compilation included), below which it is skipped.
FULL = {
    "learner_batches": (32, 128, 512), "atari_num_envs": (8, 32, 128), "seeds": (1, 4, 16),
    "reps": 3, "peer_steps": 500_000, "pong_envs": 32,
}
SMOKE = {
    "learner_batches": (32,), "atari_num_envs": (4,), "seeds": (2,),
    "reps": 1, "peer_steps": 2_000, "pong_envs": 4,
}
ESTIMATE_S = {"learner": 45, "atari_engines": 120, "atari_seeds": 90, "minatar_seeds": 60,
              "peer_workload": 40, "pong": 30}


class Clock:
    """Seconds left of the budget."""

    def __init__(self, budget_s: float):
        self.end = time.monotonic() + budget_s

    def left(self) -> float:
        return self.end - time.monotonic()


def learner(sizes: dict, smoke: bool) -> list[dict]:
    from benchmarks.configs import SWEEP_NUM_ENVS, bench_config, env_spec
    from benchmarks.learner_only import learner_only

    spec = env_spec("Breakout")
    return [learner_only(bench_config("Breakout", SWEEP_NUM_ENVS, smoke, batch), spec,
                         sizes["reps"], 0.2 if smoke else 2.0)
            for batch in sizes["learner_batches"]]


def _atari(num_envs: int, smoke: bool):
    from purejaxdqn.presets import NATURE

    warmup = 64 if smoke else 2_048
    return NATURE.replace(num_envs=num_envs, warmup_steps=max(warmup, 2 * num_envs),
                          replay_capacity=max(4_096, 64 * num_envs) if smoke else 100_000,
                          eval_every=0, checkpoint_every=0, checkpoint_minutes=0)


def _window(config, smoke: bool) -> int:
    return config.num_envs * (4 if smoke else 64)


def atari_engines(sizes: dict, smoke: bool, root: str) -> list[dict]:
    from benchmarks.end_to_end import end_to_end

    rows = []
    for n in sizes["atari_num_envs"]:
        for engine in ("host", "fused"):
            config = _atari(n, smoke).replace(engine=engine)
            rows.append(end_to_end(config, True, sizes["reps"], _window(config, smoke), root))
    return rows


def seeds(sizes: dict, smoke: bool, root: str, game: str) -> list[dict]:
    from benchmarks.end_to_end import end_to_end
    from purejaxdqn.presets import MINATAR

    rows = []
    for k in sizes["seeds"]:
        if game == "atari":
            config = _atari(4 if smoke else 8, smoke)
        else:
            config = MINATAR.replace(warmup_steps=200 if smoke else 2_000, eval_every=0,
                                     checkpoint_every=0, checkpoint_minutes=0)
        config = config.replace(seeds=tuple(range(k)))
        window = _window(config, smoke) if game == "atari" else (100 if smoke else 2_000)
        row = end_to_end(config, True, sizes["reps"], window, root)
        all_seeds = row.get("steps_per_s_all_seeds", row["steps_per_s"])
        row["total_steps_per_s"] = all_seeds["median"]
        rows.append(row)
    return rows


def peer_workload(sizes: dict, root: str) -> dict:
    from benchmarks.engines import WORKLOADS
    from purejaxdqn.run.train import train

    steps = sizes["peer_steps"]
    config = WORKLOADS["cartpole"].replace(
        total_steps=steps, warmup_steps=min(10_000, steps // 2), eval_every=0,
        eval_episodes=10, log_every=max(steps // 10, 100))
    start = time.perf_counter()
    summary = train(config, tempfile.mkdtemp(dir=root), progress=False)
    return {"total_steps": steps, "engine": summary["engine"],
            "wall_s_including_compile": time.perf_counter() - start,
            "learning_steps_per_s": summary["learning_steps_per_s"],
            "final_eval_mean": summary["final_eval"]["score_mean"][0]}


def pong(sizes: dict, smoke: bool, seconds: float, rate: float | None, out_dir: str) -> dict:
    """Nature DQN on Pong for the steps `rate` (agent steps/s measured at this num_envs)
    fits in `seconds`, less a margin for compilation and the final evaluation."""
    from purejaxdqn.run.train import train

    n = sizes["pong_envs"]
    config = _atari(n, smoke).replace(env_id="Pong", eval_episodes=2 if smoke else 8,
                                      eval_max_episode_steps=100 if smoke else 4_500,
                                      log_every=n * 64)
    if smoke:
        steps = config.warmup_steps + 32 * n
    else:
        steps = int(max(seconds - 60, 0) * 0.8 * (rate or 0)) // n * n
        if steps <= config.warmup_steps + n:
            return {"skipped": f"{seconds:.0f} s left fit no learning at {rate} steps/s"}
    run_dir = os.path.join(out_dir, "pong")
    shutil.rmtree(run_dir, ignore_errors=True)
    start = time.perf_counter()
    every = steps if smoke else max(steps // 4 // n * n, n)  # smoke: the final one only
    summary = train(config.replace(total_steps=steps, eval_every=every,
                                   checkpoint_replay=False), run_dir, progress=False)
    # the logs come back; the checkpoint (params) is not worth carrying off the machine
    shutil.rmtree(os.path.join(run_dir, "checkpoint"), ignore_errors=True)
    return {"total_steps": steps, "num_envs": n, "wall_s": time.perf_counter() - start,
            "learning_steps_per_s": summary["learning_steps_per_s"],
            "evaluations": summary.get("final_eval"), "run_dir": run_dir}


def run(budget_s: float, smoke: bool, out_dir: str) -> dict:
    import jax

    sizes = SMOKE if smoke else FULL
    clock = Clock(budget_s)
    path = os.path.join(out_dir, f"device_check_{jax.default_backend()}"
                                 f"{'_smoke' if smoke else ''}.json")
    report = {"benchmark": "device_check", "smoke": smoke, "budget_s": budget_s,
              "machine": machine_info(), "sizes": sizes, "sections": {}}
    sections = report["sections"]
    with tempfile.TemporaryDirectory(prefix="device-check-") as root:
        steps = [("learner", lambda: learner(sizes, smoke)),
                 ("atari_engines", lambda: atari_engines(sizes, smoke, root)),
                 ("atari_seeds", lambda: seeds(sizes, smoke, root, "atari")),
                 ("minatar_seeds", lambda: seeds(sizes, smoke, root, "minatar")),
                 ("peer_workload", lambda: peer_workload(sizes, root))]
        for name, measure in steps:
            if not smoke and clock.left() < ESTIMATE_S[name]:
                sections[name] = {"skipped": f"{clock.left():.0f} s left, estimate "
                                             f"{ESTIMATE_S[name]} s"}
                continue
            log(f"device_check: {name} ({clock.left():.0f} s left)")
            start = time.perf_counter()
            try:
                sections[name] = {"result": measure(), "wall_s": time.perf_counter() - start}
            except Exception as error:  # noqa: BLE001 - record it; the next section still runs
                sections[name] = {"error": f"{type(error).__name__}: {error}"}
            write_json(path, report)
        log(f"device_check: pong ({clock.left():.0f} s left)")
        sections["pong"] = pong(sizes, smoke, clock.left(), _fused_or_host_rate(sections),
                                out_dir)
    report["machine"]["load_average_end"] = list(os.getloadavg())
    write_json(path, report)
    return report | {"path": path}


def _fused_or_host_rate(sections: dict) -> float | None:
    """The faster engine's agent steps/s at 32 envs (the Pong run's), if measured."""
    rows = sections.get("atari_engines", {}).get("result") or []
    rates = [r["steps_per_s"]["median"] for r in rows if r["num_envs"] == FULL["pong_envs"]]
    return max(rates) if rates else None


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.device_check",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--budget-s", type=float, default=480.0,
                        help="seconds for everything, Pong run included (default: %(default)s)")
    parser.add_argument("--out", default=os.path.join("benchmarks", "results"), metavar="DIR",
                        help="folder for the JSON and the Pong run's logs (default: %(default)s)")
    parser.add_argument("--smoke", action="store_true",
                        help="the same code paths at toy sizes, about a minute on a CPU "
                             "(default: off)")
    args = parser.parse_args(argv)
    if args.budget_s <= 0:
        print(f"device_check: error: --budget-s must be positive, got {args.budget_s}",
              file=sys.stderr)
        return 2
    report = run(args.budget_s, args.smoke, args.out)
    failed = [name for name, section in report["sections"].items() if "error" in section]
    log(f"device_check: wrote {report['path']}" +
        (f"; failed sections: {', '.join(failed)}" if failed else ""))
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
