import numpy as np
import pytest

from purejaxdqn.config import ConfigError
from purejaxdqn.envs.envpool import make_env
from purejaxdqn.envs.table import resolve_env_id
from purejaxdqn.presets import CARTPOLE, NATURE


def test_resolve_names():
    assert resolve_env_id("Breakout") == ("atari", "Breakout-v5", "Breakout")
    assert resolve_env_id("pong-v5") == ("atari", "Pong-v5", "Pong")
    assert resolve_env_id("Breakout-ram") == ("atari_ram", "Breakout-v5", "Breakout")
    assert resolve_env_id("CartPole-v1") == ("vector", "CartPole-v1", "CartPole-v1")


def test_unknown_env_names_close_matches():
    with pytest.raises(ConfigError) as info:
        resolve_env_id("Breakot")
    assert "unknown environment 'Breakot'" in str(info.value)
    assert "Breakout" in str(info.value)
    assert "\n" not in str(info.value)


def test_atari_step_flags_and_raw_score():
    config = NATURE.replace(env_id="Pong", num_envs=2, max_episode_steps=30)
    env = make_env(config)
    try:
        step = env.reset()
        assert env.spec.obs_shape == (4, 84, 84) and env.spec.frame_shape == (84, 84)
        assert step.obs.shape == (2, 4, 84, 84) and step.obs.dtype == np.uint8
        np.testing.assert_array_equal(step.frame, step.obs[:, -1])
        assert step.reset.all() and step.first.all()
        truncations = 0
        for t in range(1, 62):
            step = env.step(np.zeros(2, np.int32))
            if step.truncated.any():
                truncations += 1
                assert step.episode_length[step.truncated].tolist() == [30, 30]
                assert not np.isnan(step.episode_return[step.truncated]).any()
            if t in (31, 62):  # the step after a truncation is envpool's auto-reset
                assert step.reset.all()
        assert truncations == 2
    finally:
        env.close()


def test_life_loss_detected_in_breakout():
    config = NATURE.replace(env_id="Breakout", num_envs=1, fire_reset=True)
    env = make_env(config)
    try:
        env.reset()
        rng = np.random.default_rng(0)
        lost = 0
        for _ in range(400):
            step = env.step(rng.integers(0, 4, 1).astype(np.int32))
            lost += int(step.life_lost[0])
            if step.terminated[0]:
                break
        # Breakout has 5 lives; random play loses at least one in 400 steps
        assert lost >= 1
        assert not step.reset.any() or not step.life_lost.any()
    finally:
        env.close()


def test_cartpole_vector_env():
    env = make_env(CARTPOLE.replace(num_envs=1))
    try:
        step = env.reset()
        assert step.obs.shape == (1, 4) and step.frame.shape == (1, 4)
        assert env.spec.frame_stack == 1 and env.spec.num_actions == 2
        total = 0
        for _ in range(100):
            step = env.step(np.zeros(1, np.int32))
            if step.terminated[0]:
                total += 1
                assert step.episode_return[0] == step.episode_length[0]  # +1 per step
        assert total >= 1
    finally:
        env.close()


def test_atari_ram_and_lunar_lander_observations():
    ram = make_env(NATURE.replace(env_id="Breakout-ram", num_envs=2))
    lander = make_env(CARTPOLE.replace(env_id="LunarLander-v3", num_envs=2))
    try:
        step = ram.reset()
        assert ram.spec.kind == "atari_ram" and ram.spec.frame_stack == 1
        assert step.obs.shape == (2, 128) and step.obs.dtype == np.uint8
        np.testing.assert_array_equal(step.frame, step.obs)
        step = lander.step(np.zeros(2, np.int32))
        assert step.obs.shape == (2, 8) and lander.spec.num_actions == 4
    finally:
        ram.close()
        lander.close()


def _first_game_length(config, seed):
    env = make_env(config, seed=seed)
    try:
        env.reset()
        for t in range(1, 1_000):
            step = env.step(np.zeros(config.num_envs, np.int32))
            if step.terminated[0] or step.truncated[0]:
                return t, step
    finally:
        env.close()


def test_game_over_on_the_time_limit_step_is_terminal():
    # CartPole pushed left always falls after L steps; with a time limit of exactly L,
    # envpool reports that step as truncated only. It is a game over: terminal.
    base = CARTPOLE.replace(num_envs=1, max_episode_steps=500)
    length, step = _first_game_length(base, seed=3)
    assert step.terminated[0] and not step.truncated[0]
    _, step = _first_game_length(base.replace(max_episode_steps=length), seed=3)
    assert step.terminated[0] and not step.truncated[0]
    _, step = _first_game_length(base.replace(max_episode_steps=length - 1), seed=3)
    assert step.truncated[0] and not step.terminated[0]  # a real time limit still bootstraps


def test_atari_terminated_info_wins_over_truncated():
    env = make_env(NATURE.replace(env_id="Pong", num_envs=3))
    try:
        obs = np.zeros((3, 4, 84, 84), np.uint8)
        info = {"elapsed_step": np.array([9, 9, 9]), "lives": np.zeros(3),
                "terminated": np.array([1, 0, 0])}
        step = env._to_step(obs, np.zeros(3), np.array([False, False, True]),
                            np.array([True, True, False]), info)
        np.testing.assert_array_equal(step.terminated, [True, False, True])
        np.testing.assert_array_equal(step.truncated, [False, True, False])
    finally:
        env.close()


def test_env_seeds_of_seeds_resumes_and_evaluations_are_disjoint(tmp_path, monkeypatch):
    """Every envpool batch a two-seed run creates (training, evaluations, the fresh
    envs of a resume), recorded where envpool is called: envpool seeds env i of a
    batch with seed + i, so the ranges [seed, seed + num_envs) must not overlap."""
    from purejaxdqn.envs import envpool as envs
    from purejaxdqn.run.train import train

    made = []
    original = envs.make_envpool

    def record(config, envpool_id, kind, num_envs, seed, max_episode_steps):
        made.append((seed, num_envs, max_episode_steps))
        return original(config, envpool_id, kind, num_envs, seed, max_episode_steps)

    monkeypatch.setattr(envs, "make_envpool", record)
    config = CARTPOLE.replace(seeds=(0, 1), total_steps=1_200, warmup_steps=500,
                              eval_every=400, eval_episodes=3, checkpoint_every=0,
                              engine="host")  # envpool's batches are what is recorded
    train(config, str(tmp_path), progress=False, stop_after_steps=600)
    train(config, str(tmp_path), resume=True, progress=False)
    train_batches = [m for m in made if m[1] == config.num_envs]  # 4 envs
    eval_batches = [m for m in made if m[1] == 3]  # one env per evaluation game
    assert len(made) == len(train_batches) + len(eval_batches)
    assert len(train_batches) == 4 and len(eval_batches) == 2 * 3  # 3 evaluations, 2 seeds
    env_seeds = [s for seed, n, _ in train_batches + eval_batches for s in range(seed, seed + n)]
    assert len(env_seeds) == len(set(env_seeds)), sorted(env_seeds)


def test_two_seeds_play_different_games():
    from purejaxdqn.envs.envpool import EnvGroup

    group = EnvGroup(CARTPOLE.replace(num_envs=8), (0, 1))
    try:
        first, second = (s.obs for s in group.reset())
        # the old `seed + i` scheme gave seed 1's env 0 the start of seed 0's env 1
        assert not any(np.array_equal(a, b) for a in first for b in second)
    finally:
        group.close()
