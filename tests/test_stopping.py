"""A stop at any moment keeps the work: real SIGINT/SIGTERM sent to a real `purejaxdqn
train` subprocess during start-up, warm-up, a periodic evaluation, a checkpoint save
and the final evaluation; each ends in one line, exit 130/143, no traceback, no stale
temporary, and the newest consistent checkpoint on disk. (Learning-time stops:
tests/test_crash.py.) The moment is caught by freezing the run (SIGSTOP) as soon as it
is seen, checking it is still that moment, then signalling and thawing it (SIGCONT):
the handler runs in that moment, however short it is."""

from __future__ import annotations

import json
import os
import re
import signal
import time

from purejaxdqn.run.runlog import read_jsonl
from train_process import checkpoint_host, start_train

TOTAL, EVAL = 4_000, 1_500  # EVAL does not divide TOTAL: the final evaluation is its own
WARMUP = 500
FLAGS = ["--preset", "cartpole", "--engine", "host", "--total-steps", str(TOTAL),
         "--warmup-steps", str(WARMUP), "--log-every", "250", "--eval-every", str(EVAL),
         "--checkpoint-every", "1000", "--eval-episodes", "100", "--eval-num-envs", "1",
         "--no-progress"]


_start, _host = start_train, checkpoint_host


def _rows(run, name):
    path = os.path.join(run, name)
    return read_jsonl(path) if os.path.exists(path) else []


def _signal_when(proc, condition, sig, timeout=240):
    """Send `sig` while `condition()` holds; return the run's (stdout, stderr)."""
    start = time.monotonic()
    while True:
        assert proc.poll() is None, f"run ended before the moment: {proc.communicate()}"
        assert time.monotonic() - start < timeout, "timed out waiting for the moment"
        if condition():
            proc.send_signal(signal.SIGSTOP)
            if condition():  # frozen inside the moment
                break
            proc.send_signal(signal.SIGCONT)  # it had just passed: wait for the next one
        time.sleep(0.002)
    proc.send_signal(sig)
    proc.send_signal(signal.SIGCONT)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 128 + sig, (proc.returncode, out, err)
    assert "Traceback" not in err, err
    return out, err


def _no_temporaries(run):
    left = [os.path.join(folder, name) for folder, dirs, files in os.walk(run)
            for name in dirs + files if name.endswith((".tmp", ".old"))]
    assert not left, left


def test_a_stop_at_every_moment_keeps_the_newest_checkpoint(tmp_path):
    run, cache = str(tmp_path / "run"), str(tmp_path / "jax-cache")

    # 1. Start-up (envs, compiling): stops at once; nothing written, the same command
    # starts again.
    proc = _start(*FLAGS, "--run-dir", run, cache=cache)
    first_line = proc.stdout.readline()
    assert first_line.startswith("run directory:"), first_line
    out, _ = _signal_when(proc, lambda: True, signal.SIGINT)
    assert out.strip().splitlines()[-1] == ("stopped by SIGINT during start-up, before any "
                                            "training; nothing was written"), out
    assert not os.path.exists(os.path.join(run, "checkpoint"))
    assert not os.path.exists(os.path.join(run, "episodes.csv"))

    # 2. Warm-up (its one row, at 252 steps: 4 envs; learning starts at 500): the state
    # reached is saved.
    proc = _start(*FLAGS, "--run-dir", run, cache=cache)
    out, _ = _signal_when(proc, lambda: [r["step"] < WARMUP
                                         for r in _rows(run, "metrics.jsonl")] == [True],
                          signal.SIGINT)
    reached = _host(run)["steps"]
    assert 250 <= reached < WARMUP and _host(run)["has_replay"], _host(run)
    assert out.strip().splitlines()[-1].startswith(f"stopped by SIGINT at {reached:,} steps; "
                                                   f"checkpoint saved ({reached:,} steps)")
    _no_temporaries(run)

    # 3. A periodic evaluation (its metrics row is written, its eval row not yet):
    # abandoned, and the trained state at its step saved.
    proc = _start("--resume", run, "--no-progress", cache=cache)
    out, _ = _signal_when(proc, lambda: any(r["step"] == EVAL for r in _rows(run, "metrics.jsonl"))
                          and not _rows(run, "eval.jsonl"), signal.SIGTERM)
    assert _host(run)["steps"] == EVAL and not _rows(run, "eval.jsonl")
    assert out.strip().splitlines()[-1].startswith(f"stopped by SIGTERM at {EVAL:,} steps; "
                                                   f"checkpoint saved ({EVAL:,} steps)")
    _no_temporaries(run)

    # 4. A checkpoint save in progress: it finishes (or the previous one stays).
    proc = _start("--resume", run, "--no-progress", cache=cache)
    _signal_when(proc, lambda: os.path.exists(os.path.join(run, "checkpoint.tmp")),
                 signal.SIGINT)
    _no_temporaries(run)
    assert _host(run)["steps"] > EVAL

    # 5. The final evaluation: the trained state is on disk before it starts.
    proc = _start("--resume", run, "--no-progress", cache=cache)
    out, _ = _signal_when(proc, lambda: _host(run).get("steps") == TOTAL, signal.SIGINT)
    assert "checkpoint saved" in out.strip().splitlines()[-1]
    assert all(r["step"] < TOTAL for r in _rows(run, "eval.jsonl"))
    with open(os.path.join(run, "summary.json")) as f:
        assert json.load(f)["stopped_by"] == "SIGINT"
    _no_temporaries(run)

    # 6. A resume evaluates it and finishes; then there is nothing left to resume.
    proc = _start("--resume", run, "--no-progress", cache=cache)
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    assert [r["step"] for r in _rows(run, "eval.jsonl")][-1] == TOTAL
    assert _host(run)["evaluations"][-1]["step"] == TOTAL
    proc = _start("--resume", run, "--no-progress", cache=cache)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "is finished" in err


def test_diverged_learning_stops_in_one_line_exit_3_keeping_the_last_finite_checkpoint(
        tmp_path, monkeypatch, capsys):
    import flax
    import jax
    import numpy as np

    from purejaxdqn.run import checkpoint
    from purejaxdqn.tools.cli import main

    monkeypatch.chdir(tmp_path)
    run = str(tmp_path / "run")
    # a step size no network survives: the first updates make the parameters inf/nan
    code = main(["train", "--preset", "cartpole", "--learning-rate", "1e30", "--total-steps",
                 "3000", "--warmup-steps", "500", "--checkpoint-every", "500",
                 "--log-every", "1000", "--eval-every", "3000", "--run-dir", run,
                 "--no-progress"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 3 and len(err) == 1, err
    # seen where the engine hands back control after the first updates (a chunk's end)
    reached = int(re.search(r"learning diverged by ([\d,]+) steps: seed 0: ", err[0])
                  .group(1).replace(",", ""))
    assert 500 < reached <= 1000, err[0]
    assert "the checkpoint at 500 steps (the last finite state) is kept" in err[0]
    assert "learning_rate 1e+30" in err[0]
    host = checkpoint.read_host(run)
    assert host["steps"] == 500
    with open(os.path.join(run, "summary.json")) as f:
        assert json.load(f)["stopped_by"] == "diverged"
    with open(os.path.join(run, "checkpoint", "learner.msgpack"), "rb") as f:
        saved = flax.serialization.msgpack_restore(f.read())
    leaves = jax.tree_util.tree_leaves(saved["params"])  # the finite ones of step 500
    assert leaves and all(np.isfinite(np.asarray(x)).all() for x in leaves)
