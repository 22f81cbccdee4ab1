"""The throughput benchmark's quick mode and the performance page's report writer."""

import json
import os
import shutil
import subprocess
import sys
import time

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# The issue asks for a quick mode CI can smoke-test in under a minute on 2 cores; on a
# machine shared with other jobs, raise the limit with this variable.
QUICK_LIMIT_S = float(os.environ.get("PUREJAXDQN_SPS_QUICK_LIMIT_S", "60"))


def numbers(obj, path="$"):
    """(path, value) for every int/float leaf (bools excluded)."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield from numbers(v, f"{path}.{k}")
    elif isinstance(obj, list):
        for i, v in enumerate(obj):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(obj, (int, float)) and not isinstance(obj, bool):
        yield path, obj


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("sps") / "sps_quick.json"
    t0 = time.monotonic()
    proc = subprocess.run([sys.executable, "-m", "benchmarks.sps", "--quick", "--out", str(out)],
                          cwd=ROOT, capture_output=True, text=True, timeout=QUICK_LIMIT_S)
    elapsed = time.monotonic() - t0
    assert proc.returncode == 0, proc.stderr[-4000:]
    with open(out) as f:
        return {"report": json.load(f), "stdout": proc.stdout, "elapsed": elapsed, "path": out}


def test_quick_mode_json_structure_and_positive_figures(quick):
    r = quick["report"]
    assert r["schema"] == "purejaxdqn-sps/1" and r["quick"] is True
    m = r["machine"]
    for key in ("cpu_model", "cpu_cores", "accelerator", "jax_platform", "jax", "jaxlib",
                "envpool", "date_utc"):
        assert key in m
    assert m["cpu_cores"] >= 1 and m["jax"] and m["envpool"]

    n = r["settings"]["reference_num_envs"]
    assert n in r["settings"]["num_envs"]
    modes = {(row["num_envs"], row["mode"]) for row in r["env_only"]}
    assert {(n, "sync"), (n, "async")} <= modes
    assert any(row["num_envs"] == n and row["batch_size"] == 32 and row["seeds"] == 1
               for row in r["learner_only"])
    assert any(row["batch_size"] == 32 for row in r["learner_bare"])
    assert {(row["num_envs"], row["overlap"]) for row in r["end_to_end"]} >= {(n, True), (n, False)}
    for row in r["end_to_end"]:
        assert row["steps_per_s"]["n"] == r["settings"]["reps"]
    eff = {row["num_envs"]: row for row in r["efficiency"]}
    assert set(eff) == set(r["settings"]["num_envs"])
    for row in eff.values():
        assert row["bound"] == pytest.approx(min(row["env_only"], row["learner_only_x4"]))
        assert row["efficiency"] == pytest.approx(row["end_to_end"] / row["bound"])
    target = r["efficiency_target"]
    assert target["threshold"] == 0.9 and isinstance(target["met"], bool)
    assert r["overlap"]["num_envs"] == n and r["overlap"]["speedup"] > 0
    assert set(r["profile"]["phases"]) == {"act", "env", "learn"}
    assert sum(p["share"] for p in r["profile"]["phases"].values()) == pytest.approx(1.0)
    assert isinstance(r["multi_seed"]["supported"], bool) and r["multi_seed"]["note"]
    assert r["diagnosis"] and all(isinstance(line, str) for line in r["diagnosis"])

    figures = ("env_only", "learner_only", "learner_bare", "end_to_end", "efficiency",
               "overlap", "profile")
    values = [(path, v) for key in figures for path, v in numbers(r[key], key)]
    assert len(values) > 50
    bad = [(path, v) for path, v in values if not v > 0 or v != v or v == float("inf")]
    assert not bad, bad


def test_quick_mode_prints_markdown_and_writes_png(quick):
    assert "| num_envs | env-only sync |" in quick["stdout"]
    assert "|---:|" in quick["stdout"]
    png = os.path.splitext(str(quick["path"]))[0] + ".png"
    assert quick["report"]["plot"] == png
    with open(png, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


def test_quick_mode_is_fast(quick):
    assert quick["elapsed"] < QUICK_LIMIT_S


# --- report.py ---------------------------------------------------------------------

PAGE = "# Title\n\nIntro.\n\n## Performance\n\n<!-- perf:start -->\nold text\n<!-- perf:end -->\n\nAfter.\n"


def run_report(results, page):
    return subprocess.run([sys.executable, "-m", "benchmarks.report", "--results", str(results),
                           "--page", str(page)], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)


def test_report_rewrites_only_the_marked_section(tmp_path, quick):
    results = tmp_path / "results"
    results.mkdir()
    shutil.copy(quick["path"], results / "sps_cpu.json")
    replay = os.path.join(ROOT, "benchmarks", "results", "replay_cpu.json")
    if os.path.exists(replay):
        shutil.copy(replay, results / "replay_cpu.json")
    page = tmp_path / "performance.md"
    page.write_text(PAGE)

    proc = run_report(results, page)
    assert proc.returncode == 0, proc.stderr
    text = page.read_text()
    head, rest = text.split("<!-- perf:start -->\n")
    body, tail = rest.split("<!-- perf:end -->")
    assert head == "# Title\n\nIntro.\n\n## Performance\n\n"
    assert tail == "\n\nAfter.\n"
    assert "old text" not in body
    machine = quick["report"]["machine"]
    assert machine["cpu_model"] in body and f"jax {machine['jax']}" in body
    assert "quick mode" in body and "| num_envs |" in body
    assert "no GPU was available to this project's sessions" in body
    if os.path.exists(replay):
        assert "Replay add / sample" in body

    assert run_report(results, page).returncode == 0
    assert page.read_text() == text  # rerunning changes nothing


def test_report_without_markers_prints_section_and_exits_1(tmp_path):
    results = tmp_path / "results"
    results.mkdir()
    page = tmp_path / "performance.md"
    page.write_text("# No markers here\n")
    proc = run_report(results, page)
    assert proc.returncode == 1
    assert "no GPU was available" in proc.stdout and "markers" in proc.stderr
    assert page.read_text() == "# No markers here\n"


def test_report_writes_the_performance_page_by_default(capsys):
    """The generated section lives in docs/performance.md (the README links to it):
    `--page` defaults to it, it holds the markers, and the README no longer does."""
    sys.path.insert(0, ROOT)
    try:
        from benchmarks import report
    finally:
        sys.path.remove(ROOT)
    page = os.path.join(ROOT, "docs", "performance.md")
    with open(page) as f:
        text = f.read()
    assert report.rewrite(text, "body") is not None
    with open(os.path.join(ROOT, "README.md")) as f:
        readme = f.read()
    assert report.START not in readme and report.END not in readme
    assert "docs/performance.md" in readme
    with pytest.raises(SystemExit):
        report.main(["--help"])
    assert "default docs/performance.md" in " ".join(capsys.readouterr().out.split())


def test_report_with_gpu_results_drops_the_no_gpu_sentence(tmp_path):
    sys.path.insert(0, ROOT)
    try:
        from benchmarks import report
    finally:
        sys.path.remove(ROOT)
    results = tmp_path / "results"
    results.mkdir()
    gpu = {"schema": "purejaxdqn-sps/1", "quick": False,
           "machine": {"cpu_model": "Some CPU", "cpu_cores": 16, "accelerator": "1x H100",
                       "jax_platform": "gpu", "jax": "0.10.2", "envpool": "1.2.5",
                       "date_utc": "2026-01-01T00:00:00+00:00"},
           "settings": {"game": "Breakout", "num_envs": [8], "reference_num_envs": 8},
           "env_only": [], "learner_only": [], "end_to_end": [], "efficiency": []}
    (results / "sps_gpu.json").write_text(json.dumps(gpu))
    body = report.section(str(results))
    assert "Throughput, GPU" in body and "1x H100" in body
    assert "no GPU was available" not in body


def test_engines_benchmark_smoke(tmp_path):
    """benchmarks/engines.py end to end on tiny windows: both engines, a ratio row."""
    import json

    from benchmarks import engines

    out = tmp_path / "engines.json"
    assert engines.main(["--workloads", "cartpole", "--seeds", "2", "--reps", "1", "--quick",
                         "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [r.get("engine") for r in rows[:2]] == ["host", "fused"]
    assert rows[2]["fused_over_host"] > 0
    assert engines.main(["--workloads", "pong"]) == 2


def test_seeds_benchmark_rows_and_bad_input(tmp_path, monkeypatch, capsys):
    """benchmarks/seeds.py measures each seed count with all seeds in one call and each
    group that splits them, and divides by one seed's total (train stubbed: its own
    smoke runs in the engines benchmark's test); bad input is one line and exit 2."""
    from benchmarks import seeds

    def fake_end_to_end(config, overlap, reps, window, root):
        n = len(config.seeds)
        per_seed = 100.0 / (1 + (config.seed_group or n) / 10)
        return {"seeds": n, "steps_per_s": {"median": per_seed},
                **({"steps_per_s_all_seeds": {"median": per_seed * n}} if n > 1 else {})}

    monkeypatch.setattr(seeds, "end_to_end", fake_end_to_end)
    out = tmp_path / "seeds.json"
    assert seeds.main(["--workloads", "minatar", "--seeds", "1,4", "--groups", "0,1,2,8",
                       "--blocks", "0,2,4", "--out", str(out)]) == 0
    rows = json.loads(out.read_text())["rows"]
    assert [(r["seeds"], r["seed_group"], r["seed_block"]) for r in rows] == [
        (1, 0, 0), (4, 0, 0), (4, 1, 0), (4, 2, 0), (4, 0, 2)]
    assert [r["speedup"] for r in rows] == pytest.approx(
        [1.0, 4 * 1.1 / 1.4, 4.0, 4 * 1.1 / 1.2, 4 * 1.1 / 1.4])
    capsys.readouterr()  # the progress lines
    assert seeds.main(["--workloads", "pong"]) == 2
    assert seeds.main(["--groups", "a"]) == 2
    assert seeds.main(["--blocks", "-1"]) == 2
    err = capsys.readouterr().err
    assert [line.split(":")[:2] for line in err.splitlines()] == [["seeds", " error"]] * 3


def test_seed_limit_splits_fixed_from_batch_work_and_rejects_bad_input(capsys):
    """benchmarks/seed_limit.py: the line through two batch sizes' per-seed times, by
    hand: t(8) = 0.5 ms, t(32) = 0.8 ms -> 0.0125 ms per sample, fixed 0.4 ms, the batch
    part at 32 is 0.4 ms; bad input is one line and exit 2 before anything is measured."""
    from benchmarks import seed_limit

    fixed, batch_part = seed_limit.split({32: 0.8, 8: 0.5}, 32)
    assert (fixed, batch_part) == pytest.approx((0.4, 0.4))
    for argv in (["--batches", "32"], ["--batches", "8,8"], ["--seeds", "0"], ["--reps", "0"]):
        assert seed_limit.main(argv) == 2
    err = capsys.readouterr().err
    assert [line.split(":")[:2] for line in err.splitlines()] == [["seed_limit", " error"]] * 4


def test_peer_breakdown_update_pair_and_bad_input(tmp_path, capsys):
    # the update-alone comparison runs (both loops compile and give times), and a missing
    # PureJaxRL checkout is one line and exit 2 before anything runs
    from benchmarks import peer_breakdown

    times = peer_breakdown.our_update_pair(20)
    assert set(times) == {"update_us_ours", "update_us_minimal"}
    assert all(t > 0 for t in times.values())
    assert peer_breakdown.main(["--purejaxrl", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("peer_breakdown: error:")


def test_peer_breakdown_times_the_config_their_main_builds(tmp_path):
    """THEIR_PARTS takes dqn.py's config from its main() (not a copy of it): a stand-in
    dqn.py with its own config and a trivial make_train shows which config was compiled."""
    from benchmarks import peer_breakdown

    script = tmp_path / "dqn.py"
    script.write_text(f"""
import json
def make_train(config):
    open({str(tmp_path / "seen.jsonl")!r}, "a").write(json.dumps(config) + "\\n")
    return lambda rng: rng + 1
def main():
    make_train({{"NUM_ENVS": 7, "TOTAL_TIMESTEPS": 1e3, "LR": 0.5}})
""")
    out = peer_breakdown._run_json(["-c", peer_breakdown.THEIR_PARTS, str(script)], "stand-in")
    seen = [json.loads(line) for line in (tmp_path / "seen.jsonl").read_text().splitlines()]
    assert [(c["NUM_ENVS"], c["LR"], c["TOTAL_TIMESTEPS"]) for c in seen] == [
        (7, 0.5, 100_000), (7, 0.5, 500_000)]
    assert {"imports_s", "compile_s_100000", "run_s_500000"} <= set(out)


def test_report_renders_the_peer_breakdown_apart_from_the_peer_table(tmp_path):
    # peer_*.json matches peer_breakdown_*.json too: each section takes only its own JSON
    from benchmarks import report

    value = lambda x: {"median": x, "min": x, "max": x, "n": 1, "values": [x]}  # noqa: E731
    theirs = {"imports_s": 3.0, "compile_s_500000": 2.8, "steady_us_per_iteration": 224.0}
    ours = {"imports_s": 3.1, "compile_s": 3.9, "steady_us_per_iteration_learning_on": 240.0,
            "steady_us_per_iteration_learning_off": 30.0, "update_us_ours": 156.0,
            "update_us_minimal": 155.0}
    (tmp_path / "peer_breakdown_cpu.json").write_text(json.dumps({
        "benchmark": "peer_breakdown", "machine": {"cpu_model": "test"}, "reps": [{}],
        "parts": {"theirs": {k: value(v) for k, v in theirs.items()},
                  "ours": {k: value(v) for k, v in ours.items()}}}))
    text = report.section(str(tmp_path))
    assert "### Where the peer workload's time goes (`peer_breakdown_cpu.json`)" in text
    assert "| steady state, µs per env iteration (10 envs, one update of 128) | 224 | 240 |" \
        in text
    assert "Against PureJaxRL" not in text


def test_report_renders_the_seed_limit_rows():
    from benchmarks import report

    value = lambda x: {"median": x}  # noqa: E731
    text = report.seed_limit_table({
        "workload": {"batch_size": 32}, "state_bytes_per_seed": 2 * 2 ** 20,
        "limits": {"bandwidth": {"gb_per_s": value(20.0)},
                   "bandwidth_end": {"gb_per_s": value(18.0)},
                   "matmul": {"gflops": value(200.0)}},
        "rows": [{"seeds": 16, "batch_size": 32, "ms_per_seed_update": 0.8},
                 {"seeds": 16, "batch_size": 8, "ms_per_seed_update": 0.5},
                 {"seeds": 16, "fit": True, "fixed_ms": 0.4, "batch_ms": 0.4,
                  "fixed_gb_per_s": 5.2}]})
    assert "20.0 / 18.0 GB/s" in text and "state 2.0 MiB" in text
    assert "| 16 | 0.800 | 0.500 | 0.400 | 0.400 | 5.2 |" in text
