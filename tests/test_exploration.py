import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.exploration import epsilon_greedy
from purejaxdqn.parts import build_exploration
from purejaxdqn.presets import NATURE


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


def test_the_policy_is_epsilon_greedy_over_the_networks_q_values():
    from purejaxdqn.components.exploration import make_policy
    from purejaxdqn.parts import build_network
    from purejaxdqn.presets import CARTPOLE

    net = build_network(CARTPOLE, 3, (4,), jnp.float32)
    obs = jax.random.normal(jax.random.PRNGKey(0), (64, 4))
    params = net.init(jax.random.PRNGKey(1), obs[:1])
    key = jax.random.PRNGKey(2)
    actions, q = make_policy(net)(params, obs, key, 0.3)
    expected_q = net.apply(params, obs, None).q_values
    np.testing.assert_array_equal(q, expected_q)  # the key goes to epsilon-greedy untouched
    np.testing.assert_array_equal(actions, epsilon_greedy(key, expected_q, 0.3))


def test_a_noisy_policy_draws_noise_per_env_and_evaluation_plays_the_mean():
    from purejaxdqn.components.exploration import make_policy
    from purejaxdqn.components.networks import Network, NetworkOutput

    def apply(params, obs, key):  # Q = (noise, 0): the first action where the noise is > 0
        noise = jnp.zeros(len(obs)) if key is None else jax.random.normal(key, (len(obs),))
        return NetworkOutput(jnp.stack([noise, jnp.zeros(len(obs))], -1))

    net = Network(lambda key, obs: {}, apply, stochastic=True)
    obs = jnp.zeros((256, 1))
    actions, q = make_policy(net)({}, obs, jax.random.PRNGKey(0), 0.0)
    assert len(np.unique(np.asarray(q[:, 0]))) == 256  # each env its own draw
    np.testing.assert_array_equal(actions, np.where(q[:, 0] > 0, 0, 1))  # greedy on it
    _, q_eval = make_policy(net, noise=False)({}, obs, jax.random.PRNGKey(0), 0.0)
    assert not np.asarray(q_eval).any()  # key None: the mean weights


def test_an_iqn_policy_samples_fractions_per_env_in_training_and_evaluation():
    from purejaxdqn.components.exploration import make_policy
    from purejaxdqn.parts import build_network
    from purejaxdqn.presets import CARTPOLE

    config = CARTPOLE.replace(head="implicit_quantile", objective="implicit_quantile",
                              num_tau_samples=4, num_quantile_samples=2).validate()
    net = build_network(config, 2, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    obs = jnp.ones((16, 4))  # the same state in every env: only the fractions differ
    for noise in (True, False):
        _, q = make_policy(net, noise=noise)(params, obs, jax.random.PRNGKey(1), 0.0)
        assert len(np.unique(np.asarray(q[:, 0]))) == 16, noise
