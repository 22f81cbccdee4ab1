"""Distributional rules against values computed by hand and, where rlax has the rule,
against rlax (a test-only dependency)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.components.distributional import (categorical_projection, categorical_td_loss,
                                                  quantile_midpoints, quantile_td_loss)

ATOMS = jnp.array([-1.0, 0.0, 1.0])
P_NEXT = jnp.array([0.2, 0.3, 0.5])


def test_categorical_projection_by_hand():
    # r 0.5, discount 1: supports -0.5, 0.5, 1.5. -0.5 splits 0.2 evenly onto -1 and 0;
    # 0.5 splits 0.3 onto 0 and 1; 1.5 is clipped to 1 and keeps its 0.5 there.
    m = categorical_projection(0.5 + ATOMS, P_NEXT, ATOMS)
    np.testing.assert_allclose(m, [0.1, 0.25, 0.65], rtol=1e-6)
    # a terminal (discount 0), r 0.25: all mass at 0.25, three quarters onto 0
    np.testing.assert_allclose(categorical_projection(0.25 + 0 * ATOMS, P_NEXT, ATOMS),
                               [0.0, 0.75, 0.25], rtol=1e-6)


def test_categorical_td_loss_by_hand():
    logits = jnp.log(P_NEXT)  # predicted p = (0.2, 0.3, 0.5); target m from the test above
    expected = -(0.1 * np.log(0.2) + 0.25 * np.log(0.3) + 0.65 * np.log(0.5))
    np.testing.assert_allclose(categorical_td_loss(logits, 0.5, 1.0, P_NEXT, ATOMS), expected,
                               rtol=1e-6)
    grad = jax.grad(categorical_td_loss, argnums=3)(logits, 0.5, 1.0, P_NEXT, ATOMS)
    assert not np.asarray(grad).any()  # no gradient into the target


def _random_case(seed, num_atoms=11, num_actions=4):
    k = jax.random.split(jax.random.PRNGKey(seed), 5)
    return dict(atoms=jnp.linspace(-3.0, 3.0, num_atoms),
                logits=jax.random.normal(k[0], (num_actions, num_atoms)),
                next_logits=jax.random.normal(k[1], (num_actions, num_atoms)),
                selector=jax.random.normal(k[2], (num_actions,)),
                reward=jax.random.normal(k[3], ()) * 2, action=jax.random.randint(
                    k[4], (), 0, num_actions))


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # rlax's, about itself
@pytest.mark.parametrize("seed", range(5))
def test_categorical_rules_match_rlax(seed):
    rlax = pytest.importorskip("rlax")
    c = _random_case(seed)
    next_p = jax.nn.softmax(c["next_logits"])
    for discount in (0.0, 0.9):
        supports = c["reward"] + discount * c["atoms"]
        np.testing.assert_allclose(categorical_projection(supports, next_p[1], c["atoms"]),
                                   rlax.categorical_l2_project(supports, next_p[1], c["atoms"]),
                                   rtol=1e-5, atol=1e-6)
        # double: the bootstrap action is the selector's argmax; ours takes it as given
        a_next = jnp.argmax(c["selector"])
        ours = categorical_td_loss(c["logits"][c["action"]], c["reward"], discount,
                                   next_p[a_next], c["atoms"])
        theirs = rlax.categorical_double_q_learning(
            c["atoms"], c["logits"], c["action"], c["reward"], discount, c["atoms"],
            c["next_logits"], c["selector"])
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_quantile_td_loss_by_hand():
    # tau (0.25, 0.75); theta (0, 1); target 0.5 + (0, 1) = (0.5, 1.5). For theta_1 = 0 both
    # u >= 0: 0.25 * (huber(0.5) + huber(1.5)) / 2 = 0.25 * (0.125 + 1.0) / 2; for
    # theta_2 = 1, u = (-0.5, 0.5): (|0.75 - 1| * 0.125 + 0.75 * 0.125) / 2.
    np.testing.assert_allclose(quantile_midpoints(2), [0.25, 0.75])
    expected = 0.25 * 1.125 / 2 + (0.25 * 0.125 + 0.75 * 0.125) / 2
    theta = jnp.array([0.0, 1.0])
    np.testing.assert_allclose(quantile_td_loss(theta, 0.5, 1.0, theta), expected, rtol=1e-6)
    grad = jax.grad(quantile_td_loss, argnums=3)(theta, 0.5, 1.0, theta)
    assert not np.asarray(grad).any()  # no gradient into the target


@pytest.mark.parametrize("seed", range(5))
def test_quantile_rule_matches_rlax(seed):
    rlax = pytest.importorskip("rlax")
    c = _random_case(seed)  # logits read as quantiles (N = 11 per action)
    dist, next_dist = c["logits"].T, c["next_logits"].T  # rlax: (N, |A|)
    for discount in (0.0, 0.9):
        theirs = rlax.quantile_q_learning(dist, quantile_midpoints(11), c["action"],
                                          c["reward"], discount, next_dist, next_dist,
                                          huber_param=1.0)
        a_next = jnp.argmax(next_dist.mean(0))
        ours = quantile_td_loss(c["logits"][c["action"]], c["reward"], discount,
                                c["next_logits"][a_next])
        np.testing.assert_allclose(ours, theirs, rtol=1e-5)


def test_quantile_td_loss_at_sampled_fractions_by_hand():
    # IQN's loss: fractions (0.1, 0.9) instead of the midpoints. theta (0, 1), target
    # (0.5, 1.5) as above: theta_1 = 0, u = (0.5, 1.5) >= 0: 0.1 * (0.125 + 1.0) / 2;
    # theta_2 = 1, u = (-0.5, 0.5): (|0.9 - 1| * 0.125 + 0.9 * 0.125) / 2
    expected = 0.1 * 1.125 / 2 + (0.1 * 0.125 + 0.9 * 0.125) / 2
    theta = jnp.array([0.0, 1.0])
    ours = quantile_td_loss(theta, 0.5, 1.0, theta, taus=jnp.array([0.1, 0.9]))
    np.testing.assert_allclose(ours, expected, rtol=1e-6)
    midpoints = quantile_td_loss(theta, 0.5, 1.0, theta, taus=quantile_midpoints(2))
    np.testing.assert_array_equal(midpoints, quantile_td_loss(theta, 0.5, 1.0, theta))


@pytest.mark.parametrize("seed", range(3))
def test_sampled_fraction_rule_matches_rlax(seed):
    rlax = pytest.importorskip("rlax")
    c = _random_case(seed)
    taus = jax.random.uniform(jax.random.PRNGKey(seed), (11,))
    dist, next_dist = c["logits"].T, c["next_logits"].T
    theirs = rlax.quantile_q_learning(dist, taus, c["action"], c["reward"], 0.9, next_dist,
                                      next_dist, huber_param=1.0)
    a_next = jnp.argmax(next_dist.mean(0))
    ours = quantile_td_loss(c["logits"][c["action"]], c["reward"], 0.9,
                            c["next_logits"][a_next], taus=taus)
    np.testing.assert_allclose(ours, theirs, rtol=1e-5)
