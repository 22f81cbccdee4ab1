import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.components.objectives import td_errors
from purejaxdqn.components.targets import q_learning_target
from purejaxdqn.learner import Transitions, init_train_state
from purejaxdqn.parts import build_network, build_optimizer, build_update
from purejaxdqn.presets import CARTPOLE, NATURE


def build(config, obs_shape, dtype, num_actions=4):
    net = build_network(config, num_actions, obs_shape, dtype)
    opt = build_optimizer(config)
    update = build_update(config, net)
    return net, opt, update


def random_batch(key, batch, obs_shape, dtype, num_actions=4):
    k1, k2, k3, k4 = jax.random.split(key, 4)
    if dtype == jnp.uint8:
        obs = jax.random.randint(k1, (batch,) + obs_shape, 0, 256).astype(jnp.uint8)
        next_obs = jax.random.randint(k2, (batch,) + obs_shape, 0, 256).astype(jnp.uint8)
    else:
        obs = jax.random.normal(k1, (batch,) + obs_shape)
        next_obs = jax.random.normal(k2, (batch,) + obs_shape)
    return Transitions(
        obs=obs, next_obs=next_obs,
        action=jax.random.randint(k3, (batch,), 0, num_actions),
        reward=jax.random.normal(k4, (batch,)),
        discount=jnp.where(jnp.arange(batch) % 5 == 0, 0.0, 0.99),
        weight=jnp.ones((batch,)))


def test_update_is_jittable_and_deterministic():
    config = NATURE
    net, opt, update = build(config, (4, 84, 84), jnp.uint8)
    batch = random_batch(jax.random.PRNGKey(1), 32, (4, 84, 84), jnp.uint8)
    results = []
    for _ in range(2):
        state = init_train_state(jax.random.PRNGKey(0), net, opt, batch.obs[:1])
        new_state, metrics = jax.jit(update)(state, batch)
        results.append((new_state, metrics))
    (s1, m1), (s2, m2) = results
    for a, b in zip(jax.tree_util.tree_leaves(s1), jax.tree_util.tree_leaves(s2)):
        np.testing.assert_array_equal(a, b)
    assert float(m1["loss"]) == float(m2["loss"])
    assert set(m1) >= {"loss", "q_mean", "td_abs_mean", "td_abs_max", "td_abs"}
    assert int(s1.updates) == 1


def test_target_params_stay_frozen_between_copies():
    config = CARTPOLE  # hard copy every 250 updates (250 agent steps, one update each)
    net, opt, update = build(config, (4,), jnp.float32, 2)
    batch = random_batch(jax.random.PRNGKey(3), 64, (4,), jnp.float32, 2)
    state = init_train_state(jax.random.PRNGKey(0), net, opt, batch.obs[:1])
    before = state.target_params
    state, _ = jax.jit(update)(state, batch)
    for t, b, p in zip(jax.tree_util.tree_leaves(state.target_params),
                       jax.tree_util.tree_leaves(before),
                       jax.tree_util.tree_leaves(state.params)):
        np.testing.assert_array_equal(t, b)
    assert any(not np.array_equal(p, b) for p, b in zip(
        jax.tree_util.tree_leaves(state.params), jax.tree_util.tree_leaves(before)))
    # Jump to just before the period: the next update copies online into target.
    state = state.replace(updates=jnp.asarray(config.target_update_period_updates - 1))
    state, _ = jax.jit(update)(state, batch)
    for t, p in zip(jax.tree_util.tree_leaves(state.target_params),
                    jax.tree_util.tree_leaves(state.params)):
        np.testing.assert_array_equal(t, p)


def test_td_error_matches_hand_computation():
    config = CARTPOLE
    net, opt, _ = build(config, (4,), jnp.float32, 2)
    batch = random_batch(jax.random.PRNGKey(5), 8, (4,), jnp.float32, 2)
    state = init_train_state(jax.random.PRNGKey(0), net, opt, batch.obs[:1])
    target = jax.tree_util.tree_map(lambda x: x * 0.5, state.params)
    delta, _ = td_errors(state.params, target, batch, net.apply, q_learning_target)
    q = np.asarray(net.apply(state.params, batch.obs, None).q_values)
    q_next = np.asarray(net.apply(target, batch.next_obs, None).q_values)
    a = np.asarray(batch.action)
    y = np.asarray(batch.reward) + np.asarray(batch.discount) * q_next.max(1)
    np.testing.assert_allclose(delta, y - q[np.arange(8), a], rtol=1e-5, atol=1e-6)


def test_updates_reduce_loss_on_a_fixed_batch():
    config = CARTPOLE.replace(target_update_period=10**6)
    net, opt, update = build(config, (4,), jnp.float32, 2)
    batch = random_batch(jax.random.PRNGKey(7), 64, (4,), jnp.float32, 2)
    state = init_train_state(jax.random.PRNGKey(0), net, opt, batch.obs[:1])
    step = jax.jit(update)
    state, first = step(state, batch)
    for _ in range(200):
        state, metrics = step(state, batch)
    assert float(metrics["loss"]) < 0.5 * float(first["loss"])
