"""Throughput of purejaxdqn on one game and device: env-only, learner-only, end-to-end.

    python -m benchmarks.sps [--game Breakout] [--num-envs 1 4 8 16 32 64]
                             [--batch-sizes 32 64 128 256] [--reps 5] [--quick]
                             [--out benchmarks/results/sps_<platform>.json] [--plot PATH]

1. env-only: envpool Atari (Nature settings) stepped with random actions, agent
   steps/s vs num_envs, synchronously through `purejaxdqn.envs.make_env` (what
   the trainer uses) and asynchronously through envpool directly
   (batch_size = num_envs / 2, send/recv by env_id);
2. learner-only: the agent's jitted `learn` (replay sample + update, as many
   updates as the trainer owes per call) in updates/s at batch 32 for every
   num_envs, and at batch 64, 128, 256; also the same sample + update jitted
   bare (no vmap, one update per call) as a reference;
3. end-to-end: `purejaxdqn.train.train` at the Nature replay ratio (one update
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
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import platform
import shutil
import sys
import tempfile
import time
import warnings

import numpy as np

from benchmarks.report import sps_tables

NATURE_RATIO = 4  # agent steps per update of 32 (Nature)
SWEEP_NUM_ENVS = 4  # batch-size sweep: one update per `learn` call at the Nature ratio
TARGET_EFFICIENCY = 0.9


# --- small helpers ----------------------------------------------------------------


def stats(values) -> dict:
    v = np.asarray(list(values), float)
    return {"median": float(np.median(v)), "min": float(v.min()), "max": float(v.max()),
            "p25": float(np.percentile(v, 25)), "p75": float(np.percentile(v, 75)),
            "n": int(v.size), "values": [float(x) for x in v]}


def round_up(x: float, multiple: int) -> int:
    return int(math.ceil(x / multiple) * multiple)


def log(message: str) -> None:
    print(f"[sps {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def machine_info() -> dict:
    import envpool
    import jax
    import jaxlib

    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next((line.split(":", 1)[1].strip() for line in f
                        if line.startswith("model name")), cpu)
    except OSError:
        pass
    devices = jax.devices()
    plat = devices[0].platform
    return {
        "cpu_model": cpu,
        "cpu_cores": os.cpu_count(),
        "accelerator": None if plat == "cpu" else f"{len(devices)}x {devices[0].device_kind}",
        "jax_platform": plat,
        "jax_devices": [str(d) for d in devices],
        "jax": jax.__version__,
        "jaxlib": jaxlib.__version__,
        "envpool": envpool.__version__,
        "python": platform.python_version(),
        "os": platform.platform(),
        "date_utc": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "load_average_start": list(os.getloadavg()),
    }


# --- configurations ------------------------------------------------------------------


def steps_per_learn(num_envs: int) -> int:
    """Agent steps between two `learn` calls at the Nature ratio (whole env iterations)."""
    return max(num_envs, NATURE_RATIO)


def bench_config(game: str, num_envs: int, quick: bool, batch_size: int = 32,
                 seeds: tuple[int, ...] = ()):
    """The Nature config at benchmark scale. Identical for learner-only, end-to-end and
    the profile at one num_envs (so the compilation cache serves all three); only
    `log_every` (host-side) changes per end-to-end run."""
    from purejaxdqn.config import NATURE

    g = steps_per_learn(num_envs)
    warmup = round_up(max(batch_size, 64 if quick else 256, (4 if quick else 8) * g), g)
    capacity = round_up(max(8_192 if quick else 50_000, warmup), num_envs)
    extra = {"seeds": tuple(seeds)} if seeds else {}
    return NATURE.replace(
        env_id=game, num_envs=num_envs, batch_size=batch_size, replay_capacity=capacity,
        warmup_steps=warmup, total_steps=10**9, eval_every=0, checkpoint_every=0,
        eval_episodes=1, eval_max_episode_steps=10, log_every=10**9, **extra).validate()


def env_spec(game: str):
    from purejaxdqn.config import NATURE
    from purejaxdqn.envs import make_env

    env = make_env(NATURE.replace(env_id=game, num_envs=1))
    spec = env.spec
    env.close()
    return spec


# --- 1. env-only -------------------------------------------------------------------


def _timed_reps(step_once, reps: int, rep_s: float, warmup_calls: int = 3) -> list[float]:
    """Run `step_once() -> agent steps` in reps of about rep_s seconds; steps/s per rep."""
    for _ in range(warmup_calls):
        step_once()
    t0, calls = time.perf_counter(), 0
    while calls < 3 or time.perf_counter() - t0 < min(0.2, rep_s):
        step_once()
        calls += 1
    per_call = (time.perf_counter() - t0) / calls
    k = max(1, round(rep_s / per_call))
    out = []
    for _ in range(reps):
        t0, steps = time.perf_counter(), 0
        for _ in range(k):
            steps += step_once()
        out.append(steps / (time.perf_counter() - t0))
    return out


def env_only(game: str, num_envs: list[int], reps: int, rep_s: float) -> list[dict]:
    import envpool

    from purejaxdqn.config import NATURE
    from purejaxdqn.envs import make_env, resolve_env_id

    rows = []
    rng = np.random.default_rng(0)
    for n in num_envs:
        # sync: the trainer's own env wrapper (flags, scores), all envs per step
        env = make_env(NATURE.replace(env_id=game, num_envs=n))
        actions = rng.integers(0, env.spec.num_actions, (64, n)).astype(np.int32)
        env.reset()
        i = [0]

        def sync_step():
            env.step(actions[i[0] % 64])
            i[0] += 1
            return n

        sps = _timed_reps(sync_step, reps, rep_s)
        env.close()
        rows.append({"num_envs": n, "mode": "sync", "batch_size": n, "steps_per_s": stats(sps)})
        log(f"env-only sync    num_envs={n:3d}: {np.median(sps):8.0f} steps/s")

        if n < 2:
            continue
        # async: envpool directly, half the envs per recv
        kind, envpool_id, _ = resolve_env_id(game)
        kwargs = dict(env_type="gymnasium", num_envs=n, batch_size=n // 2, seed=0,
                      max_episode_steps=NATURE.max_episode_steps)
        if kind != "vector":
            kwargs.update(episodic_life=False, reward_clip=False, use_fire_reset=False,
                          noop_max=NATURE.noop_max, repeat_action_probability=0.0,
                          full_action_space=False)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            aenv = envpool.make(envpool_id, **kwargs)
        aenv.async_reset()
        num_actions = int(aenv.action_space.n)
        flat = rng.integers(0, num_actions, 4096).astype(np.int32)
        j = [0]

        def async_step():
            *_, info = aenv.recv()
            ids = info["env_id"]
            start = j[0] % (4096 - len(ids))
            aenv.send(flat[start:start + len(ids)], ids)
            j[0] += len(ids)
            return len(ids)

        sps = _timed_reps(async_step, reps, rep_s)
        aenv.close()
        rows.append({"num_envs": n, "mode": "async", "batch_size": n // 2,
                     "steps_per_s": stats(sps)})
        log(f"env-only async   num_envs={n:3d}: {np.median(sps):8.0f} steps/s")
    return rows


# --- 2. learner-only ----------------------------------------------------------------


def _repeat_blocking(call, units_per_call: float, reps: int, rep_s: float):
    """Time `call()` (which blocks until done) in `reps` repetitions of about rep_s
    seconds; return (units/s per repetition, calls per repetition). The first call is
    a warm-up, except when it alone takes over 2 rep_s: then it is the first
    repetition (one-time costs are negligible next to it, and it saves a long call)."""
    t0 = time.perf_counter()
    call()
    dt = time.perf_counter() - t0
    rates, calls = [], []
    if dt > 2 * rep_s:
        rates.append(units_per_call / dt)
        calls.append(1)
    k = max(1, round(rep_s / dt))
    while len(rates) < reps:
        t0 = time.perf_counter()
        for _ in range(k):
            call()
        dt = time.perf_counter() - t0
        rates.append(k * units_per_call / dt)
        calls.append(k)
        k = max(1, round(rep_s * k / dt))
    return rates, calls


def random_inputs(spec, num_seeds: int, num_envs: int, count: int, rng) -> list:
    from purejaxdqn.agent import StepInput

    shape = (num_seeds, num_envs)
    out = []
    for i in range(count):
        if np.dtype(spec.obs_dtype) == np.uint8:
            obs = rng.integers(0, 256, shape + spec.obs_shape, dtype=np.uint8)
        else:
            obs = rng.standard_normal(shape + spec.obs_shape).astype(spec.obs_dtype)
        frame = obs[:, :, -1] if spec.frame_stack > 1 else obs
        flag = np.zeros(shape, bool)
        out.append(StepInput(obs=obs, frame=frame, reward=rng.integers(-1, 2, shape).astype(
            np.float32), terminated=flag, truncated=flag, life_lost=flag,
            first=np.full(shape, i == 0), reset=flag))
    return out


def learner_only(config, spec, reps: int, rep_s: float, bare: bool = False):
    """updates/s of `agent.learn` (all seeds) after filling the replay with random
    frames through `act`; with bare=True also (row, bare_update row)."""
    import jax

    from purejaxdqn.agent import make_agent

    seeds = config.all_seeds if hasattr(config, "all_seeds") else (config.seed,)
    agent = make_agent(config, spec)
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(s) for s in seeds]))
    inputs = random_inputs(spec, len(seeds), config.num_envs, 4, np.random.default_rng(1))
    fill = max(16, math.ceil(config.batch_size / config.num_envs) + 8)
    for i in range(fill):
        state, _ = agent.act(state, inputs[0] if i == 0 else inputs[1 + i % 3])
    t0 = time.perf_counter()
    learn = agent.learn.lower(state).compile()  # ahead of time: no call is a compile
    compile_s = time.perf_counter() - t0
    box = [state]

    def call():
        box[0], _ = learn(box[0])  # learn donates its argument: always rebind
        jax.block_until_ready(box[0])

    ups, calls = _repeat_blocking(call, agent.updates_per_learn * len(seeds), reps, rep_s)
    row = {"num_envs": config.num_envs, "batch_size": config.batch_size, "seeds": len(seeds),
           "updates_per_learn": agent.updates_per_learn, "calls_per_rep": calls,
           "compile_s": compile_s, "updates_per_s": stats(ups)}
    if not bare:
        return row
    return row, bare_update(config, spec, agent, box[0], reps, rep_s)


def bare_update(config, spec, agent, state, reps: int, rep_s: float) -> dict:
    """The same replay sample + learner update as one update of `learn`, jitted on its
    own: one update per call, no vmap over seeds. A reference for `learn`."""
    import functools

    import jax

    from purejaxdqn import replay as replay_lib
    from purejaxdqn.learner import make_update
    from purejaxdqn.optimizers import make_optimizer
    from purejaxdqn.target_updates import make_target_update

    update = make_update(config, agent.network, make_optimizer(config),
                         make_target_update(config))
    replay_params = replay_lib.ReplayParams(
        capacity_per_env=config.capacity_per_env, num_envs=config.num_envs,
        batch_size=config.batch_size, frame_stack=spec.frame_stack, n_step=config.n_step,
        gamma=config.gamma, life_loss_terminal=config.life_loss_terminal,
        prioritized=config.replay == "prioritized", alpha=config.per_alpha, eps=config.per_eps)

    @functools.partial(jax.jit, donate_argnums=0)
    def step(learner, buffer):
        key, sample_key = jax.random.split(learner.key)
        batch = replay_lib.sample(replay_params, buffer, sample_key)
        learner, metrics = update(learner.replace(key=key), batch)
        return learner, metrics["loss"]

    first = lambda x: x[0]  # noqa: E731  (seed 0 of the vmapped state, copied)
    box = [jax.tree_util.tree_map(first, state.learner)]
    buffer = jax.tree_util.tree_map(first, state.replay)
    compiled = step.lower(box[0], buffer).compile()

    def call():
        box[0], _ = compiled(box[0], buffer)
        jax.block_until_ready(box[0])

    ups, calls = _repeat_blocking(call, 1, reps, rep_s)
    return {"num_envs": config.num_envs, "batch_size": config.batch_size,
            "calls_per_rep": calls, "updates_per_s": stats(ups)}


# --- 3. end-to-end ------------------------------------------------------------------


def end_to_end(config, overlap: bool, reps: int, window_steps: int, root: str) -> dict:
    """The real trainer; throughput per log window after warm-up, first window dropped."""
    from purejaxdqn.runlog import read_jsonl
    from purejaxdqn.train import train

    g = steps_per_learn(config.num_envs)
    w = round_up(max(window_steps, g), g)
    # The first update (and compilation of learn) falls in [warmup, warmup + g).
    first_clean = round_up(config.warmup_steps + g, w)
    stop = first_clean + reps * w
    config = config.replace(log_every=w)
    run_dir = tempfile.mkdtemp(prefix=f"e2e-n{config.num_envs}-", dir=root)
    t0 = time.perf_counter()
    summary = train(config, run_dir, progress=False, overlap=overlap, stop_after_steps=stop)
    wall = time.perf_counter() - t0
    seeds = config.all_seeds if hasattr(config, "all_seeds") else (config.seed,)
    rows = [r for r in read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
            if r.get("seed", seeds[0]) == seeds[0]]
    windows, prev = [], 0
    for r in rows:
        if prev >= first_clean:
            windows.append(r["steps_per_s"])
        prev = r["step"]
    shutil.rmtree(run_dir, ignore_errors=True)
    if len(windows) != reps or summary["steps"] != stop:
        raise RuntimeError(f"end-to-end run at num_envs={config.num_envs} logged "
                           f"{len(windows)} windows, expected {reps}")
    per_seed = stats(windows)
    row = {"num_envs": config.num_envs, "overlap": overlap, "seeds": len(seeds),
           "warmup_steps": config.warmup_steps, "window_steps": w,
           "measured_steps": reps * w, "run_wall_s": wall,
           "steps_per_s": per_seed,  # agent steps/s of one seed
           "trainer_learning_steps_per_s": summary["learning_steps_per_s"]}
    if len(seeds) > 1:
        row["steps_per_s_all_seeds"] = stats(np.asarray(windows) * len(seeds))
    return row


# --- 4. where the time goes -----------------------------------------------------------


def serial_profile(config, min_seconds: float, min_learns: int) -> dict:
    """A serial copy of the training loop with a clock around each phase."""
    import jax

    from purejaxdqn.agent import make_agent, step_input
    from purejaxdqn.envs import make_env

    n = config.num_envs
    env = make_env(config)
    agent = make_agent(config, env.spec)
    state = agent.init(jax.numpy.stack([jax.random.PRNGKey(config.seed)]))
    env_step = env.reset()
    steps, iteration = 0, 0
    while steps < config.warmup_steps:  # random play, act compiled here
        state, actions = agent.act(state, step_input([env_step]))
        env_step = env.step(np.asarray(actions)[0])
        steps, iteration = steps + n, iteration + 1
    state, _ = agent.learn(state)  # compile
    jax.block_until_ready(state)
    ipl = agent.iterations_per_learn
    while iteration % ipl:  # align on a learn boundary
        state, actions = agent.act(state, step_input([env_step]))
        env_step = env.step(np.asarray(actions)[0])
        iteration += 1
    t_act = t_env = t_learn = 0.0
    learns, iters = 0, 0
    start = time.perf_counter()
    while learns < min_learns or time.perf_counter() - start < min_seconds:
        for _ in range(ipl):
            t0 = time.perf_counter()
            state, actions = agent.act(state, step_input([env_step]))
            actions = np.asarray(actions)
            t1 = time.perf_counter()
            env_step = env.step(actions[0])
            t2 = time.perf_counter()
            t_act, t_env = t_act + t1 - t0, t_env + t2 - t1
            iters += 1
        t0 = time.perf_counter()
        state, _ = agent.learn(state)
        jax.block_until_ready(state)
        t_learn += time.perf_counter() - t0
        learns += 1
    env.close()
    total = t_act + t_env + t_learn
    phases = {name: {"ms_per_iteration": 1e3 * t / iters, "ms_per_step": 1e3 * t / (iters * n),
                     "share": t / total}
              for name, t in (("act", t_act), ("env", t_env), ("learn", t_learn))}
    return {"num_envs": n, "iterations": iters, "learn_calls": learns,
            "updates_per_learn": agent.updates_per_learn,
            "steps_per_s": iters * n / total, "phases": phases}


def efficiency(env_rows, learn_rows, e2e_rows) -> list[dict]:
    out = []
    for e in e2e_rows:
        if not e["overlap"] or e["seeds"] != 1:
            continue
        n = e["num_envs"]
        env = next(r for r in env_rows if r["num_envs"] == n and r["mode"] == "sync")
        learn = next(r for r in learn_rows
                     if r["num_envs"] == n and r["batch_size"] == 32 and r["seeds"] == 1)
        env_sps = env["steps_per_s"]["median"]
        learn_sps = NATURE_RATIO * learn["updates_per_s"]["median"]
        bound = min(env_sps, learn_sps)
        out.append({"num_envs": n, "end_to_end": e["steps_per_s"]["median"],
                    "env_only": env_sps, "learner_only_x4": learn_sps, "bound": bound,
                    "bound_by": "env" if env_sps <= learn_sps else "learner",
                    "efficiency": e["steps_per_s"]["median"] / bound})
    return out


def diagnose(report: dict) -> list[str]:
    """Short sentences: whether the target is met, where the time goes, what stops it."""
    lines = []
    eff, target = report["efficiency"], report["efficiency_target"]
    if eff:
        best = max(eff, key=lambda r: r["efficiency"])
        if target["met"]:
            lines.append(f"End-to-end reaches {best['efficiency']:.2f} of min(env-only, "
                         f"learner-only × 4) at num_envs={best['num_envs']} "
                         f"({best['bound_by']}-bound): the ≥ {TARGET_EFFICIENCY} target is met.")
        else:
            lines.append(f"End-to-end reaches at best {best['efficiency']:.2f} of min(env-only, "
                         f"learner-only × 4) (num_envs={best['num_envs']}, "
                         f"{best['bound_by']}-bound): below the {TARGET_EFFICIENCY} target.")

        above = [r["num_envs"] for r in eff if r["efficiency"] > 1.1]
        if above:
            lines.append(
                f"Efficiencies above 1 (num_envs={', '.join(map(str, above))}) are not real "
                "(end-to-end runs the same `learn` plus acting and env steps): they show how "
                "far this machine's speed drifted between back-to-back measurements.")

    sweep_n = report["settings"]["batch_sweep_num_envs"]
    learn = next((r for r in report["learner_only"] if r["num_envs"] == sweep_n and
                  r["batch_size"] == 32 and r["seeds"] == 1), None)
    bare = next((r for r in report.get("learner_bare", []) if r["batch_size"] == 32), None)
    if learn and bare:
        ratio = bare["updates_per_s"]["median"] / learn["updates_per_s"]["median"]
        if ratio > 1.5:
            caveat = (" So the efficiency target is met against a slow learner: the loop "
                      "keeps up with `learn`, but `learn` is far from what the hardware "
                      "can do." if target["met"] else "")
            lines.append(
                f"The learner-only ceiling itself is low: the same sample + update jitted bare "
                f"runs {ratio:.1f}× faster ({bare['updates_per_s']['median']:.1f} vs "
                f"{learn['updates_per_s']['median']:.2f} updates/s at batch 32, "
                f"num_envs={sweep_n}) than `agent.learn`, which wraps it (updates unrolled, vmap "
                "over seeds). On XLA:CPU, convolution gradients inside a while loop run much "
                "slower than outside one (jax-ml/jax#12868): check that `learn` has not gone "
                "back to looping over its updates." + caveat)
        else:
            lines.append(f"`agent.learn` runs at {1 / ratio:.2f}× the speed of the bare "
                         "sample + update: the unrolled-updates/vmap wrapping costs little here.")

    prof = report.get("profile")
    if prof:
        ph = prof["phases"]
        lines.append(
            f"Where the time goes, serial loop at num_envs={prof['num_envs']} "
            f"({prof['steps_per_s']:,.1f} steps/s): act + host transfer "
            f"{ph['act']['ms_per_step']:.3g} ms/step ({100 * ph['act']['share']:.1f}%), "
            f"env step {ph['env']['ms_per_step']:.3g} ms/step "
            f"({100 * ph['env']['share']:.1f}%), learn {ph['learn']['ms_per_step']:.3g} ms/step "
            f"({100 * ph['learn']['share']:.1f}%).")
        overlapped = ph["act"]["ms_per_step"] + max(ph["env"]["ms_per_step"],
                                                     ph["learn"]["ms_per_step"])
        lines.append(
            f"With a perfect overlap (env stepping entirely hidden behind learning, or the "
            f"reverse) the loop would still pay act + max(env, learn) = {overlapped:.3g} ms/step, "
            f"at most {1e3 / overlapped:,.1f} steps/s at that num_envs; on a CPU the envpool "
            "threads, act and learn share the same cores, so the overlap hides less than that.")
        if not target["met"]:
            top = max(("act", "env", "learn"), key=lambda k: ph[k]["share"])
            what = {"learn": "the learner's updates",
                    "env": "env stepping on the host",
                    "act": "acting (a forward pass plus a host round trip per env iteration)"}
            lines.append(f"What stops it: {what[top]} ({100 * ph[top]['share']:.0f}% of the "
                         "serial loop), plus the act time that learner-only × 4 does not pay.")
    ov = report.get("overlap")
    if ov:
        lines.append(f"Overlap on vs off at num_envs={ov['num_envs']}: {ov['speedup']:.2f}× "
                     f"({ov['on']:,.1f} vs {ov['off']:,.1f} steps/s).")
    m = report["machine"]
    load = m["load_average_start"][0]
    if load > 0.5 * (m["cpu_cores"] or 1):
        lines.append(f"The machine was busy when this run started (1-min load average "
                     f"{load:.1f} on {m['cpu_cores']} cores): figures are noisy, and the "
                     "ratios between them (efficiency, overlap) more so.")
    return lines


# --- plot ------------------------------------------------------------------------------


def plot(report: dict, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, ax = plt.subplots(figsize=(7, 4.5))

    def series(rows, key, scale=1.0, **kw):
        rows = sorted(rows, key=lambda r: r["num_envs"])
        if not rows:
            return
        x = [r["num_envs"] for r in rows]
        med = np.array([r[key]["median"] for r in rows]) * scale
        lo = np.array([r[key]["min"] for r in rows]) * scale
        hi = np.array([r[key]["max"] for r in rows]) * scale
        kw.setdefault("marker", "o")
        ax.errorbar(x, med, yerr=[med - lo, hi - med], capsize=3, **kw)

    env, learn, e2e = report["env_only"], report["learner_only"], report["end_to_end"]
    series([r for r in env if r["mode"] == "sync"], "steps_per_s", label="env-only, sync")
    series([r for r in env if r["mode"] == "async"], "steps_per_s",
           label="env-only, async (batch = n/2)", linestyle="--")
    series([r for r in learn if r["batch_size"] == 32 and r["seeds"] == 1], "updates_per_s",
           scale=NATURE_RATIO, label="learner-only × 4 (batch 32)")
    series([r for r in e2e if r["overlap"] and r["seeds"] == 1], "steps_per_s",
           label="end-to-end, overlap on", linewidth=2)
    series([r for r in e2e if not r["overlap"] and r["seeds"] == 1], "steps_per_s",
           label="end-to-end, overlap off", linestyle="none", marker="s")
    bare = next((r for r in report.get("learner_bare", []) if r["batch_size"] == 32), None)
    if bare:
        ax.axhline(NATURE_RATIO * bare["updates_per_s"]["median"], color="grey", linestyle=":",
                   label="bare update × 4 (no vmap; reference)")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ticks = report["settings"]["num_envs"]
    ax.set_xticks(ticks)
    ax.set_xticklabels([str(t) for t in ticks])
    ax.xaxis.set_minor_locator(matplotlib.ticker.NullLocator())
    ax.set_xlabel("num_envs")
    ax.set_ylabel("agent steps / s")
    m = report["machine"]
    title = f"{report['settings']['game']}: {m['cpu_model']} ({m['cpu_cores']} cores)"
    title += f", {m['accelerator']}" if m["accelerator"] else ", CPU only"
    if report["quick"]:
        title += " [quick]"
    ax.set_title(title, fontsize=10)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


# --- main ---------------------------------------------------------------------------------


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
    args.reps = args.reps or (2 if args.quick else 5)
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

    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    with open(out, "w") as f:
        json.dump(report, f, indent=2)
    plot(report, plot_path)
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
