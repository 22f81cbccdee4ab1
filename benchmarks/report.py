"""Put the benchmark results into the performance page, docs/performance.md.

    python -m benchmarks.report [--results benchmarks/results] [--page docs/performance.md]

Reads every `sps_*.json` (from `python -m benchmarks.sps`), `replay_*.json`
(from `python -m benchmarks.replay_bench`) and the other benchmarks' JSON files
(RESULT_SECTIONS) in the results folder and rewrites the part of the page between
the lines `<!-- perf:start -->` and `<!-- perf:end -->`; everything else in the
file is left as it is. Links in the section are relative to the page's folder. If
the markers are missing, the section is printed instead and the exit status is 1.

This module only reads JSON (no jax import); `benchmarks.sps` uses its
formatting functions to print its own tables, and `sps_plot` to draw its figure.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import sys

import numpy as np

from benchmarks.configs import NATURE_RATIO

START, END = "<!-- perf:start -->", "<!-- perf:end -->"
GPU_PLATFORMS = ("gpu", "cuda", "rocm")


# --- small formatting helpers ---------------------------------------------------


def _num(x: float | None, digits: int = 0) -> str:
    if x is None:
        return "-"
    if digits == 0 and abs(x) >= 100:
        return f"{x:,.0f}"
    if abs(x) >= 100:
        return f"{x:,.{digits}f}"
    if abs(x) >= 10:
        return f"{x:.1f}"
    if abs(x) >= 1:
        return f"{x:.2f}"
    return f"{x:.3g}"


def _spread(s: dict | None, scale: float = 1.0) -> str:
    """'median (min-max)' of a stats dict from benchmarks.common.stats."""
    if not s:
        return "-"
    med, lo, hi = s["median"] * scale, s["min"] * scale, s["max"] * scale
    return f"{_num(med)} ({_num(lo)}–{_num(hi)})"


def _find(rows: list[dict], **match) -> dict | None:
    for row in rows:
        if all(row.get(k) == v for k, v in match.items()):
            return row
    return None


def machine_line(machine: dict) -> str:
    accel = machine.get("accelerator") or "none (CPU only)"
    parts = [f"CPU {machine.get('cpu_model', '?')} ({machine.get('cpu_cores', '?')} cores)",
             f"accelerator: {accel}",
             f"jax {machine.get('jax', '?')}"]
    if machine.get("envpool"):
        parts.append(f"envpool {machine['envpool']}")
    if machine.get("date_utc"):
        parts.append(machine["date_utc"][:10])
    load = machine.get("load_average_start")
    if load:
        parts.append(f"1-min load average at start {load[0]:.1f}")
    return ", ".join(parts)


def is_gpu(report: dict) -> bool:
    machine = report.get("machine", {})
    platform = str(machine.get("jax_platform") or machine.get("device", "")).split(":")[0].lower()
    return platform in GPU_PLATFORMS


# --- the sps report as Markdown --------------------------------------------------


def sps_tables(report: dict) -> str:
    """All tables of one `benchmarks.sps` result, as Markdown."""
    out: list[str] = []
    settings = report.get("settings", {})
    game = settings.get("game", "?")
    env_rows, learn_rows = report.get("env_only", []), report.get("learner_only", [])
    e2e_rows, eff_rows = report.get("end_to_end", []), report.get("efficiency", [])

    out.append(f"Steps/s on {game} (agent steps = 4 frames; median over repetitions, "
               "min–max in brackets). Learner-only is jitted `learn` updates/s at batch 32 "
               "× 4, the Nature replay ratio; efficiency = end-to-end / min(env-only sync, "
               "learner-only × 4).")
    out.append("")
    out.append("| num_envs | env-only sync | env-only async | learner-only × 4 | "
               "end-to-end | efficiency |")
    out.append("|---:|---:|---:|---:|---:|---:|")
    for n in settings.get("num_envs", []):
        sync = _find(env_rows, num_envs=n, mode="sync")
        asyn = _find(env_rows, num_envs=n, mode="async")
        learn = _find(learn_rows, num_envs=n, batch_size=32, seeds=1)
        e2e = _find(e2e_rows, num_envs=n, overlap=True, seeds=1)
        eff = _find(eff_rows, num_envs=n)
        eff_cell = f"{eff['efficiency']:.2f} ({eff['bound_by']}-bound)" if eff else "-"
        out.append(f"| {n} | {_spread(sync and sync['steps_per_s'])} | "
                   f"{_spread(asyn and asyn['steps_per_s'])} | "
                   f"{_spread(learn and learn['updates_per_s'], 4.0)} | "
                   f"{_spread(e2e and e2e['steps_per_s'])} | {eff_cell} |")

    target = report.get("efficiency_target")
    if target and target.get("best_num_envs") is not None:
        verdict = "met" if target["met"] else "NOT met"
        out.append("")
        out.append(f"Best efficiency {target['best_efficiency']:.2f} at num_envs="
                   f"{target['best_num_envs']}: the ≥ {target['threshold']} target is {verdict}.")

    bare = report.get("learner_bare", [])
    sweep_n = settings.get("batch_sweep_num_envs", settings.get("reference_num_envs"))
    sweep = [r for r in learn_rows if r.get("seeds", 1) == 1 and r["num_envs"] == sweep_n]
    if sweep:
        out.append("")
        out.append(f"Learner-only by batch size (num_envs={sweep_n}, replay sample included): "
                   "`learn` as the trainer runs it (vmap over seeds, updates unrolled) "
                   "and the same sample + update jitted bare (no vmap).")
        out.append("")
        out.append("| batch | updates per `learn` | `learn` updates/s | bare updates/s | "
                   "bare / `learn` |")
        out.append("|---:|---:|---:|---:|---:|")
        for r in sorted(sweep, key=lambda r: r["batch_size"]):
            b = _find(bare, batch_size=r["batch_size"])
            ratio = (b["updates_per_s"]["median"] / r["updates_per_s"]["median"]) if b else None
            out.append(f"| {r['batch_size']} | {r['updates_per_learn']} | "
                       f"{_spread(r['updates_per_s'])} | "
                       f"{_spread(b and b['updates_per_s'])} | "
                       f"{'-' if ratio is None else f'{ratio:.1f}×'} |")

    overlap = report.get("overlap")
    if overlap:
        out.append("")
        out.append(f"Overlap switch at num_envs={overlap['num_envs']} "
                   "(`train(..., overlap=False)` waits for the envs and the updates in turn):")
        out.append("")
        out.append("| overlap on | overlap off (serial) | speedup |")
        out.append("|---:|---:|---:|")
        on = _find(e2e_rows, num_envs=overlap["num_envs"], overlap=True, seeds=1)
        off = _find(e2e_rows, num_envs=overlap["num_envs"], overlap=False, seeds=1)
        out.append(f"| {_spread(on and on['steps_per_s'])} | "
                   f"{_spread(off and off['steps_per_s'])} | {overlap['speedup']:.2f}× |")

    profile = report.get("profile")
    if profile:
        out.append("")
        out.append(f"Where the time goes: a serial loop at num_envs={profile['num_envs']} "
                   f"({profile['iterations']} env iterations, "
                   f"{_num(profile['steps_per_s'])} steps/s):")
        out.append("")
        out.append("| phase | ms per env iteration | ms per agent step | share |")
        out.append("|---|---:|---:|---:|")
        for name, label in (("act", "act + host transfer"), ("env", "env step"),
                            ("learn", "learn (updates owed, blocking)")):
            p = profile["phases"][name]
            out.append(f"| {label} | {_num(p['ms_per_iteration'])} | "
                       f"{_num(p['ms_per_step'])} | {100 * p['share']:.1f}% |")

    multi = report.get("multi_seed")
    if multi:
        out.append("")
        if not multi.get("measured"):
            out.append(f"Multi-seed: supported by the trainer; {multi.get('note', 'not measured')}.")
        else:
            out.append(f"Multi-seed (seeds side by side, vmapped) at num_envs={multi['num_envs']} "
                       "per seed:")
            out.append("")
            out.append("| seeds | `learn` updates/s, all seeds | end-to-end steps/s, all seeds | "
                       "vs one seed |")
            out.append("|---:|---:|---:|---:|")
            for r in multi["rows"]:
                out.append(f"| {r['seeds']} | {_num(r['learner_updates_per_s_total'])} | "
                           f"{_num(r['end_to_end_steps_per_s_total'])} | "
                           f"{r['vs_one_seed']:.2f}× |")

    diagnosis = report.get("diagnosis")
    if diagnosis:
        out.append("")
        out.extend(f"- {line}" for line in diagnosis)
    return "\n".join(out)


def sps_plot(report: dict, path: str) -> None:
    """steps/s vs num_envs of one `benchmarks.sps` result, as a PNG at `path`."""
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


def replay_table(report: dict) -> str:
    rows = ["| capacity | replay | add median | sample (batch 32) median | update_priorities median |",
            "|---:|---|---:|---:|---:|"]
    for r in report.get("results", []):
        upd = f"{r['update_priorities']['median_us']:.0f} µs" if "update_priorities" in r else "-"
        rows.append(f"| {r['capacity']:,} | {'prioritized' if r['prioritized'] else 'uniform'} | "
                    f"{r['add']['median_us']:.0f} µs | {r['sample']['median_us']:.0f} µs | {upd} |")
    return "\n".join(rows)


def engines_table(report: dict) -> str:
    """fused vs host per workload and number of seeds (benchmarks/engines.py)."""
    rows = ["| workload | seeds | host: agent steps/s (all seeds) | fused: agent steps/s "
            "(all seeds) | fused / host |", "|---|---:|---:|---:|---:|"]
    for r in report.get("rows", []):
        if "fused_over_host" in r:
            t = r["total_steps_per_s"]
            rows.append(f"| {r['workload']} | {r['seeds']} | {t['host']:,.0f} | "
                        f"{t['fused']:,.0f} | {r['fused_over_host']:.2f} |")
    return "\n".join(rows)


def seeds_table(report: dict) -> str:
    """Total steps/s against seeds, seed groups and seed blocks (benchmarks/seeds.py)."""
    rows = ["| workload (engine) | seeds | seed group | seed block | agent steps/s, all seeds | "
            "× one seed |", "|---|---:|---|---|---:|---:|"]
    for r in report.get("rows", []):
        group = r["seed_group"] or "all at once"
        block = r.get("seed_block") or "one block"  # results before blocks had one
        rows.append(f"| {r['workload']} ({r['engine']}) | {r['seeds']} | {group} | {block} | "
                    f"{r['total_steps_per_s']:,.0f} | {r['speedup']:.2f} |")
    return "\n".join(rows)


def learner_limit_table(report: dict) -> str:
    """The updates beside the matrix-product limit (benchmarks/learner_limit.py)."""
    rates: dict[str, list[float]] = {}
    for m in report.get("matmul", []):  # float32 is measured first and again at the end
        rates.setdefault(m["dtype"], []).append(m["gflops"]["median"])
    f32, bf16 = rates.get("float32", [0.0]), rates.get("bfloat16", [0.0])
    again = f" ({f32[-1]:,.0f} measured again at the end)" if len(f32) > 1 else ""
    rows = [f"2048³ matrix product: float32 {f32[0]:,.0f} GFLOP/s{again}, bfloat16 (float32 "
            f"accumulation) {bf16[0]:,.0f} GFLOP/s; the ratios below are to the first "
            "float32 figure.", "",
            "| update (batch 32) | updates/s | GFLOP per update | GFLOP/s | of float32 matmul |",
            "|---|---:|---:|---:|---:|"]
    for r in report.get("learner", []):
        conv = f", {r['conv_impl']} convolutions" if "conv_impl" in r else ""
        rows.append(f"| {r['update']} ({r['env_id']}{conv}) | {_spread(r['updates_per_s'])} | "
                    f"{r['gflop_per_update']:.2f} | {r['gflops']:,.0f} | "
                    f"{r['fraction_of_float32_matmul']:.2f} |")
    return "\n".join(rows)


def seed_limit_table(report: dict) -> str:
    """The seeds' shared update split into batch work and fixed work (seed_limit.py)."""
    limits = report["limits"]
    bandwidth = [limits[k]["gb_per_s"]["median"] for k in ("bandwidth", "bandwidth_end")
                 if k in limits]
    fits = {r["seeds"]: r for r in report["rows"] if r.get("fit")}
    times = {(r["seeds"], r["batch_size"]): r["ms_per_seed_update"]
             for r in report["rows"] if not r.get("fit")}
    batches = sorted({b for _, b in times}, reverse=True)
    rows = [f"Memory bandwidth (x + 1 over 256 MB): {' / '.join(f'{b:.1f}' for b in bandwidth)} "
            f"GB/s (start / end); float32 2048³ matrix product "
            f"{_num(limits['matmul']['gflops']['median'])} GFLOP/s; one seed's "
            f"parameter-shaped learner state {report['state_bytes_per_seed'] / 2 ** 20:.1f} MiB.",
            "", "| seeds | " + " | ".join(f"ms per seed-update, batch {b}" for b in batches)
            + f" | fixed work, ms per seed | batch work at {report['workload']['batch_size']}, "
            "ms per seed "
            "| state moved by the fixed work, GB/s |",
            "|---:|" + "---:|" * (len(batches) + 3)]
    for seeds, fit in sorted(fits.items()):
        rate = fit["fixed_gb_per_s"]
        rows.append(f"| {seeds} | " + " | ".join(f"{times[seeds, b]:.3f}" for b in batches)
                    + f" | {fit['fixed_ms']:.3f} | {fit['batch_ms']:.3f} | "
                    f"{'-' if rate is None else f'{rate:.1f}'} |")
    return "\n".join(rows)


def peer_table(report: dict) -> str:
    """purejaxdqn vs PureJaxRL's DQN on its workload (benchmarks/peer.py), with an empty
    and with a filled persistent compilation cache."""
    rows = ["| program | compilation cache | wall time, s | learning result |",
            "|---|---|---:|---|"]
    for mode in ("cold", "warm"):
        wall, last = report["wall_s"][mode], report["reps"][-1][mode]
        rows.append(f"| PureJaxRL `dqn.py` | {mode} | {_spread(wall['theirs'])} | mean return "
                    f"of the last games at the end: {last['theirs']['final_returns']:.0f} |")
        rows.append(f"| purejaxdqn `train` ({last['ours']['engine']} engine) | {mode} | "
                    f"{_spread(wall['ours'])} | final greedy evaluation: "
                    f"{last['ours']['final_eval_mean']:.0f}, last 100 training games: "
                    f"{last['ours']['last_100_training_mean']:.0f} |")
    ratios = "; ".join(f"{mode} cache **{r['median']:.2f}** (min {r['min']:.2f}, max "
                       f"{r['max']:.2f})" for mode, r in report["speed_ratio"].items())
    rows += ["", f"Speed ratio, their wall time / ours (> 1 means ours is faster): {ratios}."]
    return "\n".join(rows)


def peer_breakdown_table(report: dict) -> str:
    """The peer workload split into parts (benchmarks/peer_breakdown.py)."""
    theirs, ours = report["parts"]["theirs"], report["parts"]["ours"]
    med = lambda part, name, digits=1: f"{part[name]['median']:,.{digits}f}"  # noqa: E731
    rows = ["| part | PureJaxRL `dqn.py` | purejaxdqn |", "|---|---:|---:|",
            f"| imports, s | {med(theirs, 'imports_s')} | {med(ours, 'imports_s')} |",
            f"| compilation of the training program, s | {med(theirs, 'compile_s_500000')} | "
            f"{med(ours, 'compile_s')} |",
            f"| steady state, µs per env iteration (10 envs, one update of 128) | "
            f"{med(theirs, 'steady_us_per_iteration', 0)} | "
            f"{med(ours, 'steady_us_per_iteration_learning_on', 0)} |",
            f"| the same without learning (act, env, replay), µs | – | "
            f"{med(ours, 'steady_us_per_iteration_learning_off', 0)} |",
            f"| one update alone, µs (a minimal hand-written flax/optax update: "
            f"{med(ours, 'update_us_minimal', 0)}) | – | {med(ours, 'update_us_ours', 0)} |"]
    return "\n".join(rows)


# --- the performance page's section ----------------------------------------------
# (file pattern in results/, the JSON's "benchmark", heading, the sentence before the
# machine, table)
RESULT_SECTIONS = (
    ("engines_*.json", "engines", "Engines: fused vs host",
     lambda report: "The real training loop (`train.train`), median agent steps/s over log "
                    "windows once learning runs, all seeds together; workloads in "
                    "`benchmarks/engines.py`.", engines_table),
    ("seeds_*.json", "seeds", "Seeds side by side",
     lambda report: "The real training loop (`train.train`), median total agent steps/s "
                    "over log windows once learning runs, for each number of seeds, way "
                    "of grouping their updates (`--seed-group`: vmapped within a group, "
                    "groups one after another inside one program) and of splitting them "
                    "into blocks (`--seed-block`, fused engine: each block its own state "
                    "and device call); `benchmarks/seeds.py`.", seeds_table),
    ("seed_limit_*.json", "seed_limit", "Where the seeds' shared update stops scaling",
     lambda report: "The MinAtar `learn` vmapped over all seeds, timed per seed at two batch "
                    "sizes; a line through the two splits each seed's update into work that "
                    "grows with the batch (forward and backward passes) and fixed work "
                    "(optimizer step, target and parameter bookkeeping); "
                    "`benchmarks/seed_limit.py`.", seed_limit_table),
    ("learner_limit_*.json", "learner_limit", "The learner against the machine's limit",
     lambda report: "The agent's jitted `learn` (sample, augmentation where the preset has "
                    "it, forward and backward passes, optimizer, target update), FLOPs from "
                    "XLA's cost analysis.", learner_limit_table),
    ("peer_*.json", "peer", "Against PureJaxRL's DQN on its workload",
     lambda report: "CartPole-v1, 500k agent steps, PureJaxRL's default DQN settings "
                    "(`benchmarks/peer.py`); each program a fresh process, alternating, "
                    f"{len(report['reps'])} repetitions; `cold`: an empty persistent "
                    "compilation cache (everything compiles), `warm`: one the same "
                    "program filled before (a re-run).", peer_table),
    ("peer_breakdown_*.json", "peer_breakdown", "Where the peer workload's time goes",
     lambda report: "Each program's parts in fresh processes without a compilation cache, "
                    f"medians of {len(report['reps'])} repetitions "
                    "(`benchmarks/peer_breakdown.py`).", peer_breakdown_table),
)


def _load(results_dir: str, pattern: str) -> list[tuple[str, dict]]:
    out = []
    for path in sorted(glob.glob(os.path.join(results_dir, pattern))):
        with open(path) as f:
            out.append((path, json.load(f)))
    return out


def load_results(results_dir: str) -> tuple[list[tuple[str, dict]], list[tuple[str, dict]]]:
    return _load(results_dir, "sps_*.json"), _load(results_dir, "replay_*.json")


def section(results_dir: str, base_dir: str | None = None) -> str:
    """The Markdown between the markers. Links are relative to base_dir (the page's
    folder; default the repository root); file names in the text are relative to the
    repository root."""
    sps, replay = load_results(results_dir)
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    base = base_dir or root
    rel = lambda p: os.path.relpath(os.path.abspath(p), base)  # noqa: E731
    guide = os.path.join(root, "benchmarks", "README.md")
    lines = [f"Generated by `python -m benchmarks.report` from "
             f"`{os.path.relpath(os.path.abspath(results_dir), root)}/` "
             f"(how to rerun and what each figure means: [`benchmarks/README.md`]({rel(guide)})). "
             "Each figure names the machine it came from."]
    if not sps and not replay:
        lines += ["", "No results yet: run `python -m benchmarks.sps`, then "
                  "`python -m benchmarks.report`."]
    for path, report in sps:
        platform = "GPU" if is_gpu(report) else "CPU"
        mode = " — **quick mode** (`--quick`: short smoke-test figures, not the full run)" \
            if report.get("quick") else ""
        lines += ["", f"### Throughput, {platform} (`{os.path.basename(path)}`){mode}", "",
                  f"Machine: {machine_line(report.get('machine', {}))}.", "",
                  sps_tables(report)]
        png = os.path.splitext(path)[0] + ".png"
        if os.path.exists(png):
            lines += ["", f"![steps/s vs num_envs]({rel(png)})"]
    for path, report in replay:
        lines += ["", f"### Replay add / sample (`{os.path.basename(path)}`)", "",
                  f"{report.get('benchmark', '')}. Machine: "
                  f"{machine_line(_replay_machine(report.get('machine', {})))}.", "",
                  replay_table(report)]
    for pattern, benchmark, title, intro, table in RESULT_SECTIONS:
        for path, report in _load(results_dir, pattern):
            if report.get("benchmark") != benchmark:  # peer_*.json also finds peer_breakdown_*
                continue
            lines += ["", f"### {title} (`{os.path.basename(path)}`)", "",
                      f"{intro(report)} Machine: {machine_line(report.get('machine', {}))}.",
                      "", table(report)]
    if not any(is_gpu(r) for _, r in sps + replay):
        lines += ["", "**GPU:** no GPU was available to this project's sessions, so no GPU "
                  "figures are given; every number above is from a CPU-only machine. Running "
                  "`python -m benchmarks.sps` on a GPU machine writes `sps_gpu.json`, which "
                  "this section then includes."]
    return "\n".join(lines)


def _replay_machine(machine: dict) -> dict:
    """replay_bench names the device 'platform:kind'; map it to the sps fields."""
    m = dict(machine)
    platform = str(m.get("device", "cpu")).split(":")[0]
    m.setdefault("jax_platform", platform)
    if platform in GPU_PLATFORMS and "accelerator" not in m:
        m["accelerator"] = m.get("device")
    return m


def rewrite(page_text: str, body: str) -> str | None:
    """page_text with the text between the markers replaced by body (None: no markers)."""
    start, end = page_text.find(START), page_text.find(END)
    if start < 0 or end < 0 or end < start:
        return None
    head = page_text[: start + len(START)]
    tail = page_text[end:]
    return f"{head}\n{body}\n{tail}"


def main(argv=None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--results", default=os.path.join(here, "results"),
                        help="folder with the benchmarks' JSON files "
                             "(sps_*.json, replay_*.json, ...)")
    parser.add_argument("--page", "--readme", dest="page",
                        default=os.path.join(os.path.dirname(here), "docs", "performance.md"),
                        help="the Markdown file whose marked section is rewritten "
                             "(default docs/performance.md; --readme is its old name)")
    args = parser.parse_args(argv)

    body = section(args.results, os.path.dirname(os.path.abspath(args.page)))
    try:
        with open(args.page) as f:
            text = f.read()
    except OSError:
        text = ""
    new = rewrite(text, body)
    if new is None:
        print(body)
        print(f"\n{args.page}: markers {START} / {END} not found; section printed above",
              file=sys.stderr)
        return 1
    with open(args.page, "w") as f:
        f.write(new)
    print(f"updated the performance section of {args.page}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
