import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.components import targets

# The rules are unbatched (one transition, rlax style); the learner vmaps them.
q_learning_target = jax.vmap(targets.q_learning_target)
double_q_target = jax.vmap(targets.double_q_target)

GAMMA = 0.99
# Four transitions: ordinary, terminal (discount 0), truncated (still bootstraps,
# discount gamma), life lost with life-loss-as-terminal (discount 0).
REWARD = jnp.array([1.0, -1.0, 0.5, 0.0])
DISCOUNT = jnp.array([GAMMA, 0.0, GAMMA, 0.0])
Q_NEXT_TARGET = jnp.array([[1.0, 3.0], [5.0, 2.0], [-2.0, -1.0], [7.0, 8.0]])
Q_NEXT_ONLINE = jnp.array([[9.0, 0.0], [0.0, 1.0], [0.0, 1.0], [1.0, 0.0]])


def test_q_learning_target_by_hand():
    expected = [1.0 + 0.99 * 3.0, -1.0, 0.5 + 0.99 * -1.0, 0.0]
    np.testing.assert_allclose(q_learning_target(REWARD, DISCOUNT, Q_NEXT_TARGET), expected,
                               rtol=1e-6)


def test_double_q_target_by_hand():
    # online argmax picks actions [0, 1, 1, 0]; evaluate them with the target net
    expected = [1.0 + 0.99 * 1.0, -1.0, 0.5 + 0.99 * -1.0, 0.0]
    np.testing.assert_allclose(
        double_q_target(REWARD, DISCOUNT, Q_NEXT_TARGET, Q_NEXT_ONLINE), expected, rtol=1e-6)


def test_n_step_target_takes_precomputed_return():
    # 3-step return r1 + g r2 + g^2 r3 = 1 + 0.99*0 + 0.9801*2, bootstrapped with g^3
    reward = jnp.array([1.0 + 0.9801 * 2.0])
    discount = jnp.array([GAMMA**3])
    expected = 1.0 + 0.9801 * 2.0 + GAMMA**3 * 4.0
    np.testing.assert_allclose(q_learning_target(reward, discount, jnp.array([[4.0, -4.0]])),
                               [expected], rtol=1e-6)


def test_rules_check_they_get_one_transition():
    with pytest.raises(AssertionError):  # chex: a batch must go through vmap
        targets.q_learning_target(REWARD, DISCOUNT, Q_NEXT_TARGET)
    with pytest.raises(AssertionError):
        targets.double_q_target(REWARD, DISCOUNT, Q_NEXT_TARGET, Q_NEXT_ONLINE)


def test_next_actions_are_the_actions_each_rule_bootstraps_from():
    # q_learning: the target net's argmax [1, 0, 1, 1]; double: the online net's [0, 1, 1, 0]
    for name, expected in (("q_learning", [1, 0, 1, 1]), ("double", [0, 1, 1, 0])):
        actions = jax.vmap(targets.NEXT_ACTIONS[name])(Q_NEXT_TARGET, Q_NEXT_ONLINE)
        np.testing.assert_array_equal(actions, expected)
        rule = jax.vmap(targets.TARGETS.get(name))
        y = rule(REWARD, DISCOUNT, Q_NEXT_TARGET, Q_NEXT_ONLINE)
        np.testing.assert_allclose(y, REWARD + DISCOUNT * Q_NEXT_TARGET[np.arange(4), actions])
    assert tuple(targets.NEXT_ACTIONS) == targets.TARGETS.names()


def test_munchausen_target_by_hand():
    """Vieillard et al. (2020): y = r + alpha clip(tau log pi(a|s), l0, 0) + discount *
    sum pi (q' - tau log pi'). tau 0.5, Q_target(s) = Q_target(s') = (1, 0): log pi =
    (2, 0) - log(e^2 + 1) = (-0.126928, -2.126928)."""
    q = jnp.array([1.0, 0.0])
    lse = np.log(np.exp(2.0) + 1.0)  # logsumexp of q / tau
    bonus = jax.vmap(targets.munchausen_bonus, in_axes=(None, 0, None, None, None))(
        q, jnp.array([0, 1]), 0.5, 0.9, -1.0)
    # action 0: 0.9 * 0.5 * (2 - lse); action 1: 0.5 * -lse = -1.063 is clipped to l0 = -1
    np.testing.assert_allclose(bonus, [0.9 * 0.5 * (2 - lse), 0.9 * -1.0], rtol=1e-6)
    # the soft value: sum pi (q - tau log pi) = tau logsumexp(q / tau) = 0.5 * lse (Stoix's)
    np.testing.assert_allclose(targets.soft_q_target(1.0, 0.9, q, tau=0.5), 1.0 + 0.9 * 0.5 * lse,
                               rtol=1e-6)
    np.testing.assert_allclose(targets.soft_q_target(1.0, 0.0, q, tau=0.5), 1.0)
    # tau -> 0: the soft target becomes Q-learning's max
    np.testing.assert_allclose(targets.soft_q_target(1.0, 0.9, q, tau=1e-4), 1.0 + 0.9,
                               rtol=1e-4)
