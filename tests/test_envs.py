import numpy as np
import pytest

from purejaxdqn.config import CARTPOLE, NATURE, ConfigError
from purejaxdqn.envs import make_env, resolve_env_id


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
