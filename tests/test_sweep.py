"""experiments.sweep: ablate's plan as Ray tasks. Ray tests are few and tiny (CartPole,
1,000 agent steps); the kill-and-relaunch test starts Ray twice (once in a subprocess)."""

import csv
import json
import os
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

from experiments import ablate, sweep
from experiments.runner import decide
from purejaxdqn.presets import CARTPOLE

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TINY = ["--env", "CartPole-v1", "--seeds", "0,1", "--budget", "1000",
        "--set", "warmup_steps=500", "eval_every=500", "eval_episodes=2", "checkpoint_every=500"]


# --- without Ray, bad input -----------------------------------------------------
def test_without_ray_says_how_to_install_in_one_line(tmp_path, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # `import ray` raises ImportError
    out = tmp_path / "out"
    assert sweep.main(TINY + ["--variants", "nature", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and 'pip install -e ".[sweep]"' in err
    assert not out.exists()


@pytest.mark.parametrize("args, fragment", [
    (["--cpus-per-run", "0"], "needs some resources"),
    (["--max-retries", "-1"], "--max-retries must be >= 0"),
    (["--seeds-per-run", "0"], "seeds-per-run must be >= 1"),
    (["--variants", "natur"], "did you mean nature"),
    (["--set", "seeds=3"], "set by --seeds"),
])
def test_bad_input_is_one_line_exit_2_before_ray_starts(tmp_path, capsys, args, fragment):
    pytest.importorskip("ray")
    import ray

    out = tmp_path / "out"
    assert sweep.main(TINY + ["--variants", "nature", "--out", str(out)] + args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("sweep: error: ") and fragment in err
    assert not out.exists() and not ray.is_initialized()


# --- plan and summary of seed groups (no training) ------------------------------
def test_seeds_per_run_splits_seeds_into_run_dirs(tmp_path):
    plan = ablate.plan_ablation("CartPole-v1", "nature,double", "0,1,2", 2000, str(tmp_path),
                                seeds_per_run=2)
    assert [(r.key, r.config.seeds, r.config.seed) for r in plan] == [
        ("CartPole-v1/nature/seeds-0-1", (0, 1), 0), ("CartPole-v1/nature/seed-2", (2,), 2),
        ("CartPole-v1/double/seeds-0-1", (0, 1), 0), ("CartPole-v1/double/seed-2", (2,), 2)]
    assert all(r.action == "train" for r in plan)
    # one group holding every seed is ablate's layout
    (whole,) = ablate.plan_ablation("CartPole-v1", "nature", "0,1", 2000, str(tmp_path),
                                    seeds_per_run=5)
    assert whole.key == "CartPole-v1/nature" and whole.config.seeds == (0, 1)


def test_summary_merges_seed_group_dirs(tmp_path):
    finals = {0: 100.0, 1: 200.0, 2: 600.0}
    for group in ((0, 1), (2,)):
        run_dir = ablate.run_dir_for(str(tmp_path), "CartPole-v1", "nature", group)
        os.makedirs(run_dir)
        config = CARTPOLE.replace(total_steps=2_000, seeds=group, seed=group[0])
        with open(os.path.join(run_dir, "config.json"), "w") as f:
            f.write(config.to_json())
        with open(os.path.join(run_dir, "eval.jsonl"), "w") as f:
            for seed in group:
                for step in (1_000, 2_000):
                    f.write(json.dumps({"seed": seed, "step": step, "episodes": 2,
                                        "score_mean": finals[seed] * step / 2_000}) + "\n")
    table = ablate.summarize(str(tmp_path))
    (line,) = [l for l in table.splitlines() if l.startswith("| CartPole-v1 | nature |")]
    cells = [c.strip() for c in line.strip("|").split("|")]
    assert cells[2:5] == ["3", "2,000", "300.0"]  # mean of 100, 200, 600
    # AUC of a line from s/2 to s over the step range: 3/4 of the final score, mean 225
    assert cells[6] == "225.0"
    assert "in separate runs per seed group" in table


# --- the task without Ray: results returned when the driver's dir is not visible --
def test_task_without_shared_filesystem_returns_the_run_files(tmp_path):
    out, worker = tmp_path / "driver", tmp_path / "worker"
    out.mkdir()
    (out / sweep.SWEEP_ID).write_text("driver-id\n")
    (run,) = ablate.plan_ablation("CartPole-v1", "nature", "0", 1000, str(out),
                                  {"warmup_steps": 500}, eval_every=1000, eval_episodes=1)
    result = sweep.run_one(run.config.to_json(), run.key, str(out), "worker-sees-other-id",
                           str(worker))
    assert result["shared"] is False and result["summary"]["steps"] == 1000
    files = result["files"]
    assert {"runs/CartPole-v1/nature/config.json", "runs/CartPole-v1/nature/eval.jsonl",
            "runs/CartPole-v1/nature/summary.json",
            "logs/CartPole-v1/nature.log"} <= set(files)
    assert not any("checkpoint" in name or "/tb/" in name for name in files)
    assert not (out / "runs").exists()  # the task trained on the worker only
    sweep._write_files(str(out), files)
    run_dir = out / "runs" / "CartPole-v1" / "nature"
    assert (run_dir / "eval.jsonl").read_bytes() == (
        worker / "worker-sees-other-id" / "runs" / "CartPole-v1" / "nature" /
        "eval.jsonl").read_bytes()
    assert decide(str(run_dir), run.config) == "reuse"


# --- on local Ray: killed midway, re-launched, one run failing ------------------
def _wait_for(predicate, timeout, proc):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return True
        if proc.poll() is not None:
            return False
        time.sleep(0.5)
    return False


def test_sweep_killed_midway_finishes_on_relaunch_without_rerunning(tmp_path, capsys):
    pytest.importorskip("ray")
    out = tmp_path / "sweep"
    args = TINY + ["--variants", "nature,double", "--out", str(out), "--progress-every", "600"]
    nature = out / "runs" / "CartPole-v1" / "nature"
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([ROOT, os.environ.get("PYTHONPATH", "")]))
    # one run at a time (1 CPU): nature finishes, then double starts and is interrupted
    # (or, on a fast machine, finishes first); n-step-3 is still queued then, so the
    # launch is always left unfinished
    first_args = args[:-4] + ["--variants", "nature,double,n-step-3"] + args[-2:]
    proc = subprocess.Popen([sys.executable, "-m", "experiments.sweep", *first_args,
                             "--out", str(out), "--local-cpus", "1"], cwd=ROOT, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    # Interrupt only once the driver has recorded nature as done: the worker's summary.json
    # appears a moment before the driver collects the result, and a SIGINT in between
    # (seen in CI) leaves nature for the relaunch, which is not what this test is about.
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        finished = _wait_for(lambda: any("sweep: CartPole-v1/nature: done" in line
                                         for line in list(lines)), 400, proc)
        assert finished, "".join(lines)[-3000:] if proc.poll() is not None else "timed out"
        proc.send_signal(signal.SIGINT)
        proc.wait(timeout=300)
        reader.join(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    first_out = "".join(lines)
    assert proc.returncode == 130, first_out[-3000:]
    assert json.loads((nature / "summary.json").read_text())["stopped_by"] is None
    assert "run the same command again to resume" in first_out
    nature_eval = (nature / "eval.jsonl").read_bytes()
    nature_mtime = (nature / "eval.jsonl").stat().st_mtime_ns

    # A third variant whose checkpoint is corrupt: every attempt fails, it is reported.
    (dueling,) = ablate.plan_ablation("CartPole-v1", "dueling", "0,1", 1000, str(out),
                                      ablate.parse_overrides(TINY[-4:]))
    os.makedirs(os.path.join(dueling.run_dir, "checkpoint"))
    with open(os.path.join(dueling.run_dir, "config.json"), "w") as f:
        f.write(dueling.config.to_json())
    with open(os.path.join(dueling.run_dir, "checkpoint", "host.json"), "w") as f:
        f.write("{}")
    capsys.readouterr()
    code = sweep.main(args[:-4] + ["--variants", "nature,double,dueling", "--out", str(out),
                                   "--local-cpus", "2", "--max-retries", "1"])
    printed = capsys.readouterr()
    assert code == 1, printed.err
    assert "sweep: CartPole-v1/nature: finished run in" in printed.out  # reused, not re-run
    assert (nature / "eval.jsonl").read_bytes() == nature_eval
    assert (nature / "eval.jsonl").stat().st_mtime_ns == nature_mtime
    assert "CartPole-v1/dueling: attempt 2 failed: CheckpointError" in printed.out
    assert "sweep: FAILED CartPole-v1/dueling: CheckpointError" in printed.err

    manifest = json.loads((out / "ablation.json").read_text())
    assert manifest["runs"]["CartPole-v1/double"]["status"] == "done"
    assert manifest["runs"]["CartPole-v1/dueling"]["status"] == "failed"
    assert manifest["runs"]["CartPole-v1/dueling"]["attempts"] == 2
    double = json.loads((out / "runs" / "CartPole-v1" / "double" / "summary.json").read_text())
    assert double["steps"] == 1000 and double["stopped_by"] is None

    with open(out / "results.csv") as f:
        rows = list(csv.DictReader(f))
    assert sorted({(r["variant"], int(r["seed"]), int(r["step"])) for r in rows}) == sorted(
        (v, s, step) for v in ("nature", "double") for s in (0, 1) for step in (500, 1000))
    table = (out / "results.md").read_text()
    assert "| CartPole-v1 | nature | 2 | 1,000 |" in table
    assert "| CartPole-v1 | double | 2 | 1,000 |" in table and "dueling |" not in table
    finals = [float(r["score_mean"]) for r in rows if r["variant"] == "double"
              and r["step"] == "1000"]
    (line,) = [l for l in table.splitlines() if l.startswith("| CartPole-v1 | double |")]
    assert float(line.split("|")[5]) == pytest.approx(np.mean(finals), abs=0.051)
    assert (out / "learning_curves.png").stat().st_size > 1_000
