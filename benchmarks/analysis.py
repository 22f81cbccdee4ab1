"""Reading the throughput figures: efficiency = end-to-end / min(env-only,
learner-only x 4), and short sentences on where the time goes."""

from __future__ import annotations

from benchmarks.configs import NATURE_RATIO

TARGET_EFFICIENCY = 0.9


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
