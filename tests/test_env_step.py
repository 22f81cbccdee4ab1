"""env_step: the flags and game tallies every env adapter shares, numpy and jax alike."""

import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.envs.step import Tally, count, lives_lost, make_step


def _example(xp):
    # four envs: 0 plays on, 1 ends its game (game over on the time-limit step: envpool
    # says truncated AND terminated), 2 is truncated by the time limit, 3 starts a new game
    reward = xp.asarray([1.0, 2.0, 0.0, 5.0], dtype=xp.float32)
    reset = xp.asarray([False, False, False, True])
    terminated = xp.asarray([False, True, False, False])
    truncated = xp.asarray([False, True, True, False])
    tally = count(xp, Tally(xp.asarray([10.0, 20.0, 30.0, 40.0]), xp.asarray([3, 4, 5, 6])),
                  reward, reset)
    lost = lives_lost(xp.asarray([3, 2, 1, 5]), xp.asarray([3, 3, 2, 0]), reset)
    obs = xp.zeros((4, 2))
    return tally, make_step(xp, obs, obs, reward, terminated, truncated, lost, reset, tally)


@pytest.mark.parametrize("xp", [np, jnp])
def test_flags_and_tallies_by_hand(xp):
    tally, step = _example(xp)
    assert np.asarray(tally.score).tolist() == [11.0, 22.0, 30.0, 0.0]  # reset: a new game
    assert np.asarray(tally.length).tolist() == [4, 5, 6, 0]
    assert np.asarray(step.terminated).tolist() == [False, True, False, False]
    assert np.asarray(step.truncated).tolist() == [False, False, True, False]  # game over wins
    assert np.asarray(step.life_lost).tolist() == [False, True, True, False]  # not on reset
    assert np.asarray(step.reset).tolist() == np.asarray(step.first).tolist() == \
        [False, False, False, True]
    returns = np.asarray(step.episode_return)
    assert np.isnan(returns[[0, 3]]).all() and returns[1:3].tolist() == [22.0, 30.0]
    assert np.asarray(step.episode_length).tolist() == [0, 5, 6, 0]


def test_numpy_and_jax_give_the_same_step():
    (_, a), (_, b) = _example(np), _example(jnp)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(np.asarray(x), np.asarray(y))
