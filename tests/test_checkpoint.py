"""Checkpoint format: versions, migration of format 1, compressed frame ring."""

import gzip
import json
import os
import shutil

import flax.serialization
import jax
import numpy as np
import pytest
from checkpoint_fixture import (FIXTURE, HOST, STEPS, UPDATES, actions, saved, saved_learner,
                                templates)

from purejaxdqn.run import arrayfile, checkpoint


def _leaves_equal(a, b):
    leaves_a, leaves_b = jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)
    assert len(leaves_a) == len(leaves_b)
    for x, y in zip(leaves_a, leaves_b):
        assert np.asarray(x).dtype == np.asarray(y).dtype
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))


def _copy_fixture(tmp_path):
    run = tmp_path / "run"
    shutil.copytree(FIXTURE, run)
    return str(run)


def _set_host(run, **fields):
    path = os.path.join(run, "checkpoint", "host.json")
    with open(path) as f:
        host = json.load(f)
    with open(path, "w") as f:
        json.dump({**host, **fields}, f)


def test_fixture_is_the_format_1_layout():
    top = os.path.join(FIXTURE, "checkpoint")
    with open(os.path.join(top, "host.json")) as f:
        assert "format" not in json.load(f)
    with open(os.path.join(top, "learner.msgpack"), "rb") as f:
        state = flax.serialization.msgpack_restore(f.read())
    assert "episodes" not in state and "params" in state
    assert os.path.exists(os.path.join(top, "replay", "frames.npy"))
    assert arrayfile.find(os.path.join(top, "replay", "frames.npy")).endswith("frames.npy")


def test_format_1_loads_with_saved_values_and_new_fields_initial():
    learner_t, replay_t = templates(jax.random.PRNGKey(42))
    learner, replay, host, acts = checkpoint.load(FIXTURE, learner_t, replay_t)
    expected = saved_learner(learner_t)
    for field in ("params", "target_params", "opt_state", "key", "steps", "updates"):
        _leaves_equal(getattr(learner, field), getattr(expected, field))
    assert int(learner.steps[0]) == STEPS and int(learner.updates[0]) == UPDATES
    # the template's values are not the saved ones: loading really read the file
    assert not np.array_equal(np.asarray(jax.tree_util.tree_leaves(learner_t.params)[0]),
                              np.asarray(jax.tree_util.tree_leaves(learner.params)[0]))
    # the counter format 1 lacks: the template's initial value, as a fresh run has
    assert np.asarray(learner.episodes).dtype == np.int32
    np.testing.assert_array_equal(np.asarray(learner.episodes), np.zeros(1, np.int32))
    _leaves_equal(replay, saved(replay_t))
    np.testing.assert_array_equal(acts, actions())
    assert host == HOST


def test_format_1_is_resaved_in_the_current_format(tmp_path):
    learner_t, replay_t = templates(jax.random.PRNGKey(0))
    learner, replay, host, acts = checkpoint.load(FIXTURE, learner_t, replay_t)
    run = str(tmp_path / "run")
    # a host dict read from an older checkpoint may name its format: the new one wins
    checkpoint.save(run, learner, replay, {**host, "format": 1}, acts)
    top = os.path.join(run, "checkpoint")
    with open(os.path.join(top, "host.json")) as f:
        assert json.load(f)["format"] == checkpoint.FORMAT == 2
    assert sorted(os.listdir(os.path.join(top, "replay")))[:3] == [
        "action.npy", "count.npy", "first.npy"]
    assert os.path.exists(os.path.join(top, "replay", "frames.npy.gz"))
    assert not os.path.exists(os.path.join(top, "replay", "frames.npy"))
    again = checkpoint.load(run, learner_t, replay_t)
    _leaves_equal(again[:2], (learner, replay))
    assert again[2] == {**HOST, "format": 2}


def test_round_trip_of_the_current_format(tmp_path):
    learner_t, replay_t = templates(jax.random.PRNGKey(0))
    learner = saved_learner(learner_t).replace(episodes=np.array([77], np.int32))
    replay = saved(replay_t)
    acts = actions()
    host = {"iteration": 5, "evaluations": [], "env_segment": 2, "resumes": [{"step": 3}],
            "steps": STEPS}
    run = str(tmp_path / "run")
    checkpoint.save(run, learner, replay, host, acts)
    loaded_learner, loaded_replay, loaded_host, loaded_actions = checkpoint.load(
        run, templates(jax.random.PRNGKey(1))[0], replay_t)
    _leaves_equal(loaded_learner, learner)
    assert int(loaded_learner.episodes[0]) == 77
    _leaves_equal(loaded_replay, replay)
    np.testing.assert_array_equal(loaded_actions, acts)
    assert loaded_host == {**host, "format": checkpoint.FORMAT, "has_replay": True}


@pytest.mark.parametrize("version", [3, 17])
def test_a_newer_format_is_one_line_naming_both_versions(tmp_path, version):
    run = _copy_fixture(tmp_path)
    _set_host(run, format=version)
    learner_t, replay_t = templates(jax.random.PRNGKey(0))
    for read in (lambda: checkpoint.read_host(run),
                 lambda: checkpoint.load(run, learner_t, replay_t)):
        with pytest.raises(checkpoint.CheckpointError) as error:
            read()
        message = str(error.value)
        assert "\n" not in message
        assert f"format {version}" in message and "format 2" in message


def test_an_older_format_that_cannot_migrate_names_both_versions(tmp_path):
    run = _copy_fixture(tmp_path)
    path = os.path.join(run, "checkpoint", "learner.msgpack")
    with open(path, "rb") as f:
        state = flax.serialization.msgpack_restore(f.read())
    del state["updates"]  # a field every format has: no migration supplies it
    with open(path, "wb") as f:
        f.write(flax.serialization.msgpack_serialize(state))
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(run, *templates(jax.random.PRNGKey(0)))
    message = str(error.value)
    assert "\n" not in message and "updates" in message
    assert "checkpoint format 1" in message and "format 2" in message


@pytest.mark.parametrize("value", ["2", 0, 2.0, None])
def test_a_format_that_is_not_a_version_is_unreadable(tmp_path, value):
    run = _copy_fixture(tmp_path)
    _set_host(run, format=value)
    with pytest.raises(checkpoint.CheckpointError, match="unreadable"):
        checkpoint.read_host(run)


def test_cli_resume_of_a_newer_format_is_one_line_exit_2(tmp_path, capsys):
    from purejaxdqn.presets import CARTPOLE
    from purejaxdqn.tools.cli import main

    run = _copy_fixture(tmp_path)
    _set_host(run, format=3)
    with open(os.path.join(run, "config.json"), "w") as f:
        f.write(CARTPOLE.to_json())
    assert main(["train", "--resume", run]) == 2
    printed = capsys.readouterr()
    lines = printed.err.strip().splitlines()
    assert len(lines) == 1 and "format 3" in lines[0] and "format 2" in lines[0]
    assert "checkpoint" in lines[0]


def test_compressed_frame_ring_round_trips_bit_exactly(tmp_path):
    from purejaxdqn import replay as replay_lib

    # Atari-shaped: 2 seeds, 64 slots, 3 envs of 84x84 uint8 frames, every byte value
    params = replay_lib.ReplayParams(capacity_per_env=64, num_envs=3, batch_size=2)
    one = replay_lib.init(params, np.zeros((3, 84, 84), np.uint8))
    template = jax.tree_util.tree_map(lambda x: np.stack([x, x]), one)
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, template.frames.shape, dtype=np.uint8)
    frames[:, 32:] = frames[:, :32] // 64  # half the ring compressible, as real frames are
    replay = saved(template).replace(frames=frames)
    learner_t = templates(jax.random.PRNGKey(0))[0]
    run = str(tmp_path / "run")
    checkpoint.save(run, learner_t, replay, {"steps": 0}, actions())
    stored = os.path.join(run, "checkpoint", "replay", "frames.npy.gz")
    assert os.path.getsize(stored) < 0.75 * frames.nbytes
    # the file is the plain .npy, gzipped
    with gzip.open(stored) as f:
        np.testing.assert_array_equal(np.load(f), frames)
    _, loaded, _, _ = checkpoint.load(run, learner_t, template)
    assert loaded.frames.dtype == np.uint8 and loaded.frames.shape == frames.shape
    assert loaded.frames.tobytes() == frames.tobytes()
    _leaves_equal(loaded, replay)
