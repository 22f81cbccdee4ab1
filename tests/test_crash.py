"""A run survives kill -9, SIGTERM and SIGINT: real signals to a real `purejaxdqn
train` subprocess, then `--resume` until it finishes. Afterwards every log has
each step exactly once and in order, and the run made exactly the gradient
updates of an uninterrupted run."""

from __future__ import annotations

import csv
import json
import os
import signal
import time

import jax

from purejaxdqn.run import checkpoint
from purejaxdqn.run.runlog import read_event_records, read_jsonl
from train_process import checkpoint_host, start_train

# multiples of the CartPole preset's 4 envs, so rows fall exactly on these steps
TOTAL, WARMUP, LOG, EVAL, CKPT = 6_000, 500, 500, 2_000, 1_000
FLAGS = ["--preset", "cartpole", "--total-steps", str(TOTAL), "--warmup-steps", str(WARMUP),
         "--log-every", str(LOG), "--eval-every", str(EVAL), "--eval-episodes", "2",
         "--checkpoint-every", str(CKPT), "--no-progress",
         # the host engine: envpool's fresh-games resume is what this test pins down (the
         # fused engine's exact resume is tests/test_engines.py::test_fused_resume_is_bit_exact)
         "--engine", "host"]


_start = start_train


def _checkpoint_step(run):
    return checkpoint_host(run).get("steps", -1)


def _last_metrics_step(run):
    try:
        with open(os.path.join(run, "metrics.jsonl")) as f:
            lines = [line for line in f if line.endswith("\n")]
        return json.loads(lines[-1])["step"] if lines else -1
    except (OSError, ValueError):
        return -1


def _wait(proc, condition, timeout=240):
    start = time.monotonic()
    while not condition():
        assert proc.poll() is None, f"run ended early: {proc.communicate()}"
        assert time.monotonic() - start < timeout, "timed out waiting for the run"
        time.sleep(0.02)


def _tb_steps(run):
    """{tag: [steps]} over every event file, in the order they were written."""
    tags: dict[str, list[int]] = {}
    tb = os.path.join(run, "tb")
    for name in sorted(os.listdir(tb)):
        for _, event in read_event_records(os.path.join(tb, name)):
            for value in event.summary.value:
                tags.setdefault(value.tag, []).append(event.step)
    return tags


def test_kill_9_sigterm_sigint_then_resume_gives_clean_logs_and_all_updates(tmp_path):
    run, cache = str(tmp_path / "run"), str(tmp_path / "jax-cache")

    # 1. SIGKILL (uncatchable) once a checkpoint exists and rows past it were logged.
    proc = _start(*FLAGS, "--run-dir", run, cache=cache)
    _wait(proc, lambda: _checkpoint_step(run) >= 2 * CKPT and
          _last_metrics_step(run) > _checkpoint_step(run))
    proc.kill()
    proc.wait()
    killed_at = _checkpoint_step(run)

    # 2./3. Resume, then stop it with SIGTERM (exit 143) and SIGINT (exit 130).
    for sig, code in ((signal.SIGTERM, 143), (signal.SIGINT, 130)):
        # rows past the checkpoint may remain until the resume truncates them: wait for
        # a row past all of them, so the training loop (and its signal handler) runs
        before = max(_checkpoint_step(run), _last_metrics_step(run))
        proc = _start("--resume", run, "--no-progress", cache=cache)
        _wait(proc, lambda: _last_metrics_step(run) > before)
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=240)
        assert proc.returncode == code, (sig, proc.returncode, err)
        assert "checkpoint saved" in out and "Traceback" not in err
        with open(os.path.join(run, "summary.json")) as f:
            assert json.load(f)["stopped_by"] == signal.Signals(sig).name

    # 4. Resume to the end.
    proc = _start("--resume", run, "--no-progress", cache=cache)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 0, err

    # Every log: each step once, in order (episodes: several games may end on one step).
    rows = {"train": read_jsonl(os.path.join(run, "metrics.jsonl")),
            "eval": read_jsonl(os.path.join(run, "eval.jsonl"))}
    assert [r["step"] for r in rows["train"]] == list(range(LOG, TOTAL + 1, LOG))
    assert [r["step"] for r in rows["eval"]] == list(range(EVAL, TOTAL + 1, EVAL))
    with open(os.path.join(run, "episodes.csv")) as f:
        episodes = list(csv.reader(f))
    assert episodes[0] == ["seed", "step", "score", "length"]
    steps = [int(r[1]) for r in episodes[1:]]
    assert steps == sorted(steps) and steps[-1] <= TOTAL and len(steps) > 20
    for tag, tag_steps in _tb_steps(run).items():
        _, kind, name = tag.split("/")
        if name.startswith("episode_"):
            assert tag_steps == steps, tag
        else:  # TensorBoard holds exactly the numeric values of the JSONL rows
            assert tag_steps == [r["step"] for r in rows[kind]
                                 if isinstance(r.get(name), (int, float))], tag
    assert set(_tb_steps(run)) >= {"seed0/train/loss", "seed0/eval/score_mean",
                                   "seed0/train/episode_score"}

    # The same updates as an uninterrupted run: one per agent step after warm-up
    # (CartPole preset: 4 envs, steps_per_update 1), so no resume re-did warm-up.
    from purejaxdqn.agent import make_agent
    from purejaxdqn.config import Config
    from purejaxdqn.envs.envpool import make_env

    with open(os.path.join(run, "config.json")) as f:
        config = Config.from_dict(json.load(f))
    env = make_env(config)
    template = make_agent(config, env.spec).init(jax.random.PRNGKey(0)[None])
    env.close()
    learner, replay, host, _ = checkpoint.load(run, template.learner, None)
    assert int(learner.steps[0]) == TOTAL
    assert int(learner.updates[0]) == TOTAL - WARMUP
    resumes = host["resumes"]
    assert [r["step"] for r in resumes][0] == killed_at and len(resumes) == 3
    assert all(r["replay_restored"] and not r["exact"] for r in resumes)
    assert [r["env_segment"] for r in resumes] == [1, 2, 3]
    assert not host["has_replay"]  # a finished run's checkpoint drops the replay
