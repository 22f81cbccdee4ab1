import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.exploration import epsilon_greedy
from purejaxdqn.config import NATURE
from purejaxdqn.parts import build_exploration


def test_linear_schedule_values():
    eps = build_exploration(NATURE).epsilon  # 1 -> 0.1 over 1M after a 50k warm-up
    points = {0: 1.0, 50_000: 1.0, 550_000: 0.55, 1_050_000: 0.1, 5_000_000: 0.1}
    for step, expected in points.items():
        np.testing.assert_allclose(float(eps(step)), expected, rtol=1e-6)


def test_warmup_is_uniform_random_whatever_epsilon_start():
    eps = build_exploration(NATURE.replace(epsilon_start=0.5)).epsilon
    assert float(eps(0)) == 1.0 and float(eps(49_999)) == 1.0
    np.testing.assert_allclose(float(eps(50_000)), 0.5)


def test_exponential_schedule_values():
    config = NATURE.replace(epsilon_schedule="exponential", epsilon_decay_steps=1000,
                            warmup_steps=100)
    eps = build_exploration(config).epsilon
    np.testing.assert_allclose(float(eps(0)), 1.0)
    np.testing.assert_allclose(float(eps(100)), 1.0)
    np.testing.assert_allclose(float(eps(1100)), 0.1 + 0.9 * 0.01, rtol=1e-5)
    np.testing.assert_allclose(float(eps(600)), 0.1 + 0.9 * 0.1, rtol=1e-5)


def test_greedy_at_zero_epsilon():
    q = jax.random.normal(jax.random.PRNGKey(0), (64, 6))
    actions = epsilon_greedy(jax.random.PRNGKey(1), q, 0.0)
    np.testing.assert_array_equal(actions, np.argmax(np.asarray(q), axis=-1))


def test_uniform_at_full_epsilon():
    n, num_actions = 60_000, 6
    q = jnp.tile(jnp.arange(num_actions, dtype=jnp.float32), (n, 1))  # greedy would be 5
    actions = np.asarray(epsilon_greedy(jax.random.PRNGKey(2), q, 1.0))
    counts = np.bincount(actions, minlength=num_actions)
    expected = n / num_actions
    chi2 = ((counts - expected) ** 2 / expected).sum()
    assert chi2 < 20.5  # chi-square 5 dof, p = 0.001


def test_partial_epsilon_mixes_in_expected_proportion():
    n = 40_000
    q = jnp.tile(jnp.array([0.0, 1.0]), (n, 1))
    actions = np.asarray(epsilon_greedy(jax.random.PRNGKey(3), q, 0.3))
    # P(action 0) = eps / 2 = 0.15; binomial sd = sqrt(.15*.85/40000) ~ 0.0018
    assert abs((actions == 0).mean() - 0.15) < 0.01
