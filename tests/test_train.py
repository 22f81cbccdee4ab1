import json
import os
import shutil

import jax
import numpy as np

from purejaxdqn.presets import CARTPOLE, NATURE
from purejaxdqn.run import checkpoint
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.run.train import train

ATARI_SMOKE = NATURE.replace(
    env_id="Pong", num_envs=4, total_steps=3_000, warmup_steps=500, replay_capacity=2_000,
    target_update_period=400, epsilon_decay_steps=1_000, eval_every=1_500, eval_episodes=2,
    eval_max_episode_steps=100, log_every=500, checkpoint_every=1_000, checkpoint_replay=True)


def learner_leaves(run_dir, config):
    from purejaxdqn.agent import make_agent
    from purejaxdqn.envs.envpool import make_env

    env = make_env(config)
    agent = make_agent(config, env.spec)
    env.close()
    template = agent.init(jax.numpy.stack([jax.random.PRNGKey(0)] * len(config.all_seeds)))
    learner, _, host, _ = checkpoint.load(run_dir, template.learner, None)
    return learner, host


def test_atari_smoke_warmup_learn_target_eval_checkpoint_resume(tmp_path):
    run = str(tmp_path / "pong")
    first = train(ATARI_SMOKE, run, progress=False, stop_after_steps=2_000)
    assert first["stopped_by"] == "stop_after_steps" and first["steps"] == 2_000
    learner, host = learner_leaves(run, ATARI_SMOKE)
    assert int(learner.steps[0]) == 2_000
    # 1,500 agent steps of learning at one update per 4: 375 updates; target copies every
    # 100 updates (400 agent steps), at updates 100, 200 and 300
    assert int(learner.updates[0]) == (2_000 - 500) // 4
    metrics = read_jsonl(os.path.join(run, "metrics.jsonl"))
    assert metrics[-1]["loss"] > 0 and np.isfinite(metrics[-1]["q_mean"])
    assert [(e["seed"], e["step"]) for e in read_jsonl(os.path.join(run, "eval.jsonl"))] == [(0, 1_500)]

    second = train(ATARI_SMOKE, run, resume=True, progress=False)
    assert second["stopped_by"] is None and second["steps"] == 3_000
    learner, _ = learner_leaves(run, ATARI_SMOKE)
    assert int(learner.steps[0]) == 3_000 and int(learner.updates[0]) == (3_000 - 500) // 4
    evals = read_jsonl(os.path.join(run, "eval.jsonl"))
    assert [e["step"] for e in evals] == [1_500, 3_000]
    assert evals[-1]["episodes"] == 2 and "human_normalized" in evals[-1]
    with open(os.path.join(run, "config.json")) as f:
        assert json.load(f)["env_id"] == "Pong"
    assert os.path.getsize(os.path.join(run, "episodes.csv")) > 0


def test_resume_is_bitwise_deterministic_with_replay_checkpointed(tmp_path):
    config = CARTPOLE.replace(total_steps=3_000, warmup_steps=500, eval_every=0,
                              checkpoint_every=0, checkpoint_replay=True, eval_episodes=2)
    whole, halves = str(tmp_path / "whole"), str(tmp_path / "halves")
    train(config, whole, progress=False)
    train(config, halves, progress=False, stop_after_steps=1_500)
    # a stopped run can also be ended where it stopped: resumed with that total, it runs
    # no step, evaluates and writes its summary (experiments' --total-steps does this)
    ended = str(tmp_path / "ended")
    shutil.copytree(halves, ended)
    summary = train(config.replace(total_steps=1_500), ended, resume=True, progress=False)
    assert summary["stopped_by"] is None and summary["final_eval"]["step"] == 1_500
    assert [e["step"] for e in read_jsonl(os.path.join(ended, "eval.jsonl"))] == [1_500]
    train(config, halves, resume=True, exact_resume=True, progress=False)
    a, _ = learner_leaves(whole, config)
    b, _ = learner_leaves(halves, config)
    assert int(a.steps[0]) == int(b.steps[0]) == 3_000
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    import pytest

    config = CARTPOLE.replace(total_steps=1_200, warmup_steps=500, eval_every=0,
                              eval_episodes=1)
    run = str(tmp_path / "run")
    train(config, run, progress=False)
    with open(os.path.join(run, "checkpoint", "learner.msgpack"), "wb") as f:
        f.write(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointError, match="unreadable"):
        train(config.replace(total_steps=2_000), run, resume=True, progress=False)


def test_seeds_side_by_side_match_separate_runs(tmp_path):
    base = CARTPOLE.replace(total_steps=2_000, warmup_steps=500, eval_every=0,
                            eval_episodes=2, checkpoint_every=0)
    together = str(tmp_path / "together")
    train(base.replace(seeds=(0, 1)), together, progress=False)
    both, _ = learner_leaves(together, base.replace(seeds=(0, 1)))
    for k, seed in enumerate((0, 1)):
        alone_dir = str(tmp_path / f"alone{seed}")
        train(base.replace(seed=seed), alone_dir, progress=False)
        alone, _ = learner_leaves(alone_dir, base.replace(seed=seed))
        for x, y in zip(jax.tree_util.tree_leaves(both.params),
                        jax.tree_util.tree_leaves(alone.params)):
            np.testing.assert_allclose(np.asarray(x)[k], np.asarray(y)[0], rtol=1e-5, atol=1e-5)
    # the two seeds really are different agents
    first = jax.tree_util.tree_leaves(both.params)[0]
    assert not np.allclose(np.asarray(first)[0], np.asarray(first)[1])


def test_rainbow_lite_components_train_on_the_nature_cnn(tmp_path):
    # double + dueling + 3-step + prioritized replay on pixels, a few dozen updates
    from purejaxdqn.presets import apply_variant

    config = apply_variant(ATARI_SMOKE, "rainbow-lite").replace(
        total_steps=800, warmup_steps=400, eval_every=0, eval_episodes=1,
        eval_max_episode_steps=20, checkpoint_every=0, checkpoint_replay=False,
        log_every=200)
    summary = train(config, str(tmp_path), progress=False)
    assert summary["steps"] == 800
    metrics = read_jsonl(os.path.join(str(tmp_path), "metrics.jsonl"))
    assert metrics[-1]["loss"] > 0 and np.isfinite(metrics[-1]["q_mean"])
    learner, _ = learner_leaves(str(tmp_path), config)
    assert int(learner.updates[0]) == (800 - 400) // 4


def test_checkpoint_save_and_load_are_announced_only_with_progress(tmp_path, capsys):
    # train's own save and resume steps, with stand-ins for the engine, carry and log:
    # a real run would spend a minute compiling on this CPU
    import io
    import re
    from types import SimpleNamespace
    from typing import Any, NamedTuple

    from checkpoint_fixture import actions, templates

    from purejaxdqn import replay as replay_lib
    from purejaxdqn.agent import AgentState
    from purejaxdqn.run.progress import Progress
    from purejaxdqn.run.train import _resume, _save

    class Carry(NamedTuple):  # a pytree, as every engine's carry is
        agent: Any
        iteration: Any

    learner = templates(jax.random.PRNGKey(0))[0]
    params = replay_lib.ReplayParams(capacity_per_env=2_000, num_envs=1, batch_size=2)
    replay = jax.tree_util.tree_map(lambda x: x[None], replay_lib.init(
        params, jax.numpy.zeros((1, 84, 84), jax.numpy.uint8)))  # 14 MB, mostly zeros
    carry = Carry(agent=AgentState(learner=learner, replay=replay), iteration=np.int32(3))
    engine = SimpleNamespace(
        name="stand-in", resumes_exactly=True,
        across_seeds=lambda carry, select: select(carry),
        iteration=lambda carry: int(carry.iteration),
        checkpoint_extras=lambda carry: (None, actions()),
        restore=lambda carry, agent, extras, acts, iteration, exact: SimpleNamespace(
            agent=agent, iteration=iteration))
    log = SimpleNamespace(flush=lambda: None)
    config = CARTPOLE.replace(total_steps=1_000, warmup_steps=500, checkpoint_replay=True)
    host = {"iteration": 0, "evaluations": [], "env_segment": 0, "resumes": []}
    run = str(tmp_path / "run")

    _save(config, run, engine, carry, host, log)  # no progress bar: silent
    _resume(config, run, engine, carry, dict(host), False, progress=False)
    assert capsys.readouterr().out == ""

    stream = io.StringIO()
    _save(config, run, engine, carry, host, log, Progress(1_000, 0, 500, stream, tty=False))
    in_memory = sum(np.asarray(x).nbytes for x in jax.tree_util.tree_leaves(
        (learner, replay))) + actions().nbytes
    on_disk = sum(os.path.getsize(os.path.join(folder, name))
                  for folder, _, names in os.walk(run) for name in names)
    assert in_memory > 14e6 > 10 * on_disk  # the frame ring is compressed
    saving, saved = stream.getvalue().splitlines()[1:]  # after the progress start line
    assert saving == f"saving checkpoint ({in_memory / 1e6:.1f} MB in memory)..."
    assert re.fullmatch(rf"saved in \d+\.\d s \({on_disk / 1e6:.1f} MB on disk\)", saved)

    _resume(config, run, engine, carry, dict(host), False, progress=True)
    loading, loaded = capsys.readouterr().out.splitlines()
    assert loading == "loading checkpoint..."
    assert re.fullmatch(r"loaded in \d+\.\d s", loaded)
