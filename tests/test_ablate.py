import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # `experiments` is not an installed package

from experiments import ablate  # noqa: E402
from purejaxdqn.presets import NATURE  # noqa: E402


# --- parsing --------------------------------------------------------------------
def test_overrides_are_parsed_with_the_field_type():
    parsed = ablate.parse_overrides(["warmup_steps=500", "learning-rate=1e-3", "dueling=true",
                                     "mlp_hidden=64,64", "target=double", "eval_every=1e3"])
    assert parsed == {"warmup_steps": 500, "learning_rate": 1e-3, "dueling": True,
                      "mlp_hidden": (64, 64), "target": "double", "eval_every": 1000}
    assert isinstance(parsed["warmup_steps"], int)
    assert ablate.parse_overrides({"batch_size": "32", "gamma": 0.9}) == \
        {"batch_size": 32, "gamma": 0.9}
    for bad, message in [(["budget"], "FIELD=VALUE"), (["total_steps=5"], "--budget"),
                         (["warmup=5"], "did you mean warmup_steps"),
                         (["batch_size=3.5"], "integer"), (["dueling=maybe"], "true or false")]:
        with pytest.raises(ablate.AblationError, match=message):
            ablate.parse_overrides(bad)


def test_variant_config_applies_variant_on_overridden_base():
    (run,) = ablate.plan_ablation("CartPole-v1", "double", "3,4", 5_000, "/nonexistent/out",
                                  ["target_update_period=100", "learning_rate=1e-3"],
                                  eval_every=1_000, eval_episodes=3)
    config = run.config
    assert (config.env_id, config.total_steps, config.seeds) == ("CartPole-v1", 5_000, (3, 4))
    assert config.target == "double" and config.torso == "mlp"  # CARTPOLE base
    assert (config.target_update_period, config.learning_rate) == (100, 1e-3)
    assert (config.eval_every, config.eval_episodes) == (1_000, 3)
    assert run.run_dir == os.path.join("/nonexistent/out", "runs", "CartPole-v1", "double")
    assert run.action == "train" and not os.path.exists("/nonexistent")


# --- end to end -----------------------------------------------------------------
TINY = ["--env", "CartPole-v1", "--variants", "nature,double", "--seeds", "0,1",
        "--budget", "1500", "--set", "warmup_steps=500", "eval_every=500", "eval_episodes=2"]


@pytest.fixture(scope="module")
def tiny_ablation(tmp_path_factory):
    out = tmp_path_factory.mktemp("ablation") / "cartpole"
    assert ablate.main(TINY + ["--out", str(out), "--quiet"]) == 0
    return out


def test_tiny_ablation_writes_csv_table_and_plot(tiny_ablation, capsys):
    out = tiny_ablation
    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == list(ablate.CSV_COLUMNS)
    keys = [(r["env"], r["variant"], int(r["seed"]), int(r["step"])) for r in rows]
    assert keys == [("CartPole-v1", v, s, step) for v in ("nature", "double") for s in (0, 1)
                    for step in (500, 1000, 1500)]
    assert all(float(r["score_mean"]) > 0 and r["episodes"] == "2" for r in rows)
    assert all(r["human_normalized"] == "" for r in rows)  # no human score for CartPole

    table = (out / "results.md").read_text()
    assert "| final score | final 95% CI | AUC score | AUC 95% CI |" in table
    assert "trapezoid" in table and "bootstrap" in table
    for variant in ("nature", "double"):
        (line,) = [l for l in table.splitlines() if l.startswith(f"| CartPole-v1 | {variant} |")]
        cells = [c.strip() for c in line.strip("|").split("|")]
        assert cells[2:4] == ["2", "1,500"]
        final, (lo, hi) = float(cells[4]), map(float, cells[5].strip("[]").split(","))
        assert lo <= final <= hi
        scores = [float(r["score_mean"]) for r in rows
                  if r["variant"] == variant and r["step"] == "1500"]
        assert final == pytest.approx(np.mean(scores), abs=0.051)

    png = out / "learning_curves.png"
    assert png.stat().st_size > 1_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    # one run dir per variant, both seeds in one train() call
    for variant in ("nature", "double"):
        run_dir = out / "runs" / "CartPole-v1" / variant
        assert json.loads((run_dir / "config.json").read_text())["seeds"] == [0, 1]
        assert json.loads((run_dir / "summary.json").read_text())["seeds"] == [0, 1]
    manifest = json.loads((out / "ablation.json").read_text())
    assert manifest["variants"] == ["nature", "double"]
    assert set(manifest["runs"]) == {"CartPole-v1/nature", "CartPole-v1/double"}


def test_summarize_only_rebuilds_the_same_outputs(tiny_ablation, capsys):
    out = tiny_ablation
    table, csv_text = (out / "results.md").read_text(), (out / "results.csv").read_text()
    for name in ("results.md", "results.csv", "learning_curves.png"):
        (out / name).unlink()
    capsys.readouterr()
    assert ablate.main(["--summarize-only", "--out", str(out)]) == 0
    assert capsys.readouterr().out == table  # the table is printed too
    assert (out / "results.md").read_text() == table
    assert (out / "results.csv").read_text() == csv_text
    assert (out / "learning_curves.png").stat().st_size > 1_000


def test_rerun_reuses_finished_runs_and_refuses_a_changed_config(tiny_ablation, capsys):
    out = tiny_ablation
    before = (out / "runs" / "CartPole-v1" / "nature" / "eval.jsonl").read_text()
    capsys.readouterr()
    assert ablate.main(TINY + ["--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert printed.count("reused") == 2 and "| CartPole-v1 | double |" in printed
    assert (out / "runs" / "CartPole-v1" / "nature" / "eval.jsonl").read_text() == before
    assert ablate.main(TINY[:-1] + ["eval_episodes=3", "--out", str(out)]) == 2
    assert "another config (eval_episodes 2, now 3)" in capsys.readouterr().err


def _fake_run(out, env, variant, finals, seeds=(0, 1, 2)):
    """A finished Atari run dir with two evaluations per seed (no training)."""
    run_dir = out / "runs" / env / variant
    run_dir.mkdir(parents=True)
    config = NATURE.replace(env_id=env, total_steps=2_000, seeds=tuple(seeds), eval_every=1_000)
    (run_dir / "config.json").write_text(config.to_json())
    with open(run_dir / "eval.jsonl", "w") as f:
        for seed, final in zip(seeds, finals):
            for step, score in ((1_000, final / 2), (2_000, final)):
                f.write(json.dumps({"seed": seed, "step": step, "score_mean": score,
                                    "episodes": 30}) + "\n")


def _atari_out(tmp_path):
    out = tmp_path / "atari"
    for variant, scale in (("nature", 1.0), ("double", 1.5)):
        _fake_run(out, "Breakout", variant, [100 * scale, 200 * scale, 300 * scale])
        _fake_run(out, "Pong", variant, [-10 * scale, 0.0, 10 * scale])
    return out


def test_multi_game_summary_has_iqm_of_human_normalised_score(tmp_path):
    pytest.importorskip("rliable")
    out = _atari_out(tmp_path)
    table = ablate.summarize(str(out))
    assert "IQM HNS final" in table and "IQM HNS AUC" in table
    lines = [l for l in table.splitlines() if l.startswith(("| nature |", "| double |"))]
    assert len(lines) == 2 and all("| 2 | 3 |" in l for l in lines)  # 2 games, 3 seeds
    rows = list(csv.DictReader(open(out / "results.csv")))
    breakout = [r for r in rows if r["env"] == "Breakout"]
    assert breakout and all(r["human_normalized"] != "" for r in breakout)


def test_multi_game_summary_without_rliable_is_one_error_and_writes_nothing(tmp_path,
                                                                            monkeypatch):
    monkeypatch.setitem(sys.modules, "rliable", None)
    out = _atari_out(tmp_path)
    with pytest.raises(ablate.AblationError, match="pip install rliable"):
        ablate.summarize(str(out))
    assert not (out / "results.md").exists() and not (out / "results.csv").exists()
    # a single game needs no rliable
    single = tmp_path / "single"
    _fake_run(single, "Breakout", "nature", [100.0, 200.0, 300.0])
    assert "IQM" not in ablate.summarize(str(single))


# --- bad input --------------------------------------------------------------------
BAD_INPUTS = [
    (["--variants", "nature,bogus"], "unknown variant 'bogus'"),
    (["--env", "CartPol"], "unknown environment 'CartPol'"),
    (["--budget", "lots"], "budget must be an integer"),
    (["--budget", "0"], "budget must be a positive"),
    (["--budget", "800"], "must be below total_steps (800)"),
    (["--seeds", "0,0"], "seed 0 is listed twice"),
    (["--set", "warmup=5"], "unknown config field 'warmup'"),
    (["--summarize-only"], "no runs under"),
]


@pytest.mark.parametrize("args, fragment", BAD_INPUTS)
def test_bad_input_is_one_line_exit_2_nothing_written(tmp_path, args, fragment):
    out = tmp_path / "out"
    result = subprocess.run([sys.executable, "-m", "experiments.ablate", *args,
                             "--out", str(out)], cwd=ROOT, capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.stderr
    assert lines[0].startswith("ablate: error: ") and result.stdout == ""
    assert os.listdir(tmp_path) == []


def test_script_path_works_too(tmp_path):
    result = subprocess.run([sys.executable, "experiments/ablate", "--variants", "nope",
                             "--out", str(tmp_path / "out")], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 2 and "unknown variant 'nope'" in result.stderr
    assert os.listdir(tmp_path) == []


def test_sigterm_stops_ablate_with_exit_143_and_a_checkpoint(tmp_path):
    import signal
    import time

    out = tmp_path / "out"
    proc = subprocess.Popen(
        [sys.executable, "-m", "experiments.ablate", "--env", "CartPole-v1", "--variants",
         "nature", "--seeds", "0", "--budget", "50000", "--out", str(out), "--quiet",
         "--set", "warmup_steps=500", "log_every=500", "eval_every=0"],
        cwd=Path(__file__).resolve().parents[1], stdout=subprocess.PIPE,
        stderr=subprocess.PIPE, text=True)
    metrics = out / "runs" / "CartPole-v1" / "nature" / "metrics.jsonl"
    start = time.monotonic()
    while not (metrics.exists() and metrics.read_text().count("\n") >= 1):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() - start < 240
        time.sleep(0.05)
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=240)
    assert proc.returncode == 143, err
    assert "stopped by SIGTERM" in err and "Traceback" not in err
    assert (metrics.parent / "checkpoint" / "host.json").exists()


def test_every_variant_applies_to_minatar(tmp_path):
    """The `minatar` preset is the base for MinAtar envs, every variant valid."""
    from experiments.ablate.plan import plan_ablation
    from purejaxdqn.presets import MINATAR, VARIANTS

    plan = plan_ablation("Breakout-MinAtar", list(VARIANTS), [0, 1], budget=10_000,
                         out_dir=str(tmp_path))
    assert len(plan) == len(VARIANTS)
    for run in plan:
        run.config.validate()
        assert run.config.env_id == "Breakout-MinAtar"
        assert run.config.torso == MINATAR.torso and run.config.optimizer in (
            MINATAR.optimizer, "adam")


def test_ad_hoc_variants_are_defined_on_the_command_line(tmp_path):
    from experiments.ablate.plan import parse_variants, plan_ablation
    from purejaxdqn.presets import CARTPOLE, VARIANTS

    parsed = parse_variants("nature,fast:learning_rate=1e-3,n-step=3,double")
    assert parsed == {"nature": {}, "fast": {"learning_rate": 1e-3, "n_step": 3},
                      "double": VARIANTS["double"]}
    plan = plan_ablation("CartPole-v1", "nature,fast:learning_rate=1e-3,n_step=3", seeds="0",
                         budget=30_000, out_dir=str(tmp_path))
    fast = [run for run in plan if run.variant == "fast"][0]
    assert fast.config == CARTPOLE.replace(learning_rate=1e-3, n_step=3, total_steps=30_000,
                                           seeds=(0,), seed=0)
    assert fast.run_dir.endswith(os.path.join("CartPole-v1", "fast"))
    for bad, fragment in [("n_step=3", "must follow NAME:FIELD=VALUE"),
                          ("double:n_step=3", "not a VARIANTS name"),
                          ("x:n_stepp=3", "did you mean n_step"),
                          ("a:n_step=3,a:n_step=2", "variant")]:
        with pytest.raises(ablate.AblationError, match=fragment):
            parse_variants(bad)
