"""The objective seam: today's Q-learning family through it is bit-identical to the learner
as it was before objectives existed (a copy of that code, below), and an objective's
per-sample loss and priority are what the learner and the replay read."""

import itertools

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest

from purejaxdqn.components.losses import LOSSES
from purejaxdqn.components.networks import TORSOS, Network, NetworkOutput
from purejaxdqn.components.objectives import ObjectiveAux, forward_passes, make_td_objective
from purejaxdqn.components.targets import TARGETS
from purejaxdqn.learner import Transitions, init_train_state, make_update
from purejaxdqn.parts import (build_network, build_objective, build_optimizer, build_target_update,
                             build_update)
from purejaxdqn.presets import CARTPOLE
from purejaxdqn.settings import ConfigError


# --- the code before the seams (commit 2a08f4c), kept as the reference ---------------------
class OldQHead(nn.Module):
    num_actions: int
    hidden: int

    @nn.compact
    def __call__(self, features):
        return nn.Dense(self.num_actions)(nn.relu(nn.Dense(self.hidden)(features)))


class OldDuelingHead(nn.Module):
    num_actions: int
    hidden: int

    @nn.compact
    def __call__(self, features):
        value = nn.Dense(1)(nn.relu(nn.Dense(self.hidden)(features)))
        advantage = nn.Dense(self.num_actions)(nn.relu(nn.Dense(self.hidden)(features)))
        return value + advantage - advantage.mean(axis=-1, keepdims=True)


class OldQNetwork(nn.Module):
    torso: nn.Module
    head: nn.Module

    def __call__(self, obs):
        return self.head(self.torso(obs))


def old_loss(apply, td_rule, loss, target_is_online):
    """learner.td_errors and losses.td_loss as they were: (params, target, batch) -> loss."""

    def loss_fn(params, target_params, batch):
        q = apply(params, batch.obs)
        q_taken = jnp.take_along_axis(q, batch.action[:, None].astype(jnp.int32), axis=-1)[:, 0]
        q_next_target = apply(params if target_is_online else target_params, batch.next_obs)
        q_next_online = q_next_target if target_is_online else apply(params, batch.next_obs)
        y = jax.vmap(td_rule)(batch.reward, batch.discount, q_next_target, q_next_online)
        delta = jax.lax.stop_gradient(y) - q_taken
        return jnp.mean(batch.weight * loss(delta)), delta

    return loss_fn


def _batch(i, size=16):
    k = jax.random.split(jax.random.PRNGKey(10 + i), 5)
    return Transitions(obs=jax.random.normal(k[0], (size, 4)),
                       action=jax.random.randint(k[1], (size,), 0, 3),
                       reward=jax.random.normal(k[2], (size,)),
                       discount=jnp.where(jnp.arange(size) % 5 == 0, 0.0, 0.99),
                       next_obs=jax.random.normal(k[3], (size, 4)),
                       weight=jax.random.uniform(k[4], (size,)))  # as prioritized replay's


@pytest.mark.parametrize("dueling,target,loss,period", list(itertools.product(
    (False, True), ("q_learning", "double"), ("huber", "mse"), (1, 3))))
def test_td_objective_is_bit_identical_to_the_learner_before_it(dueling, target, loss, period):
    # period 1: target_update_period 1 update, the target is the online net (one pass at s')
    config = CARTPOLE.replace(dueling=dueling, target=target, loss=loss, mlp_hidden=(16,),
                              head_hidden=8, target_update_period=period)
    net = build_network(config, 3, (4,), jnp.float32)
    head = (OldDuelingHead if dueling else OldQHead)(3, 8)
    old_net = OldQNetwork(torso=config.component(TORSOS).build((4,), jnp.float32), head=head)
    opt, target_update = build_optimizer(config), build_target_update(config)
    assert target_update.online_at_update == (period == 1)
    old_grad = jax.value_and_grad(old_loss(old_net.apply, TARGETS.get(target), LOSSES.get(loss),
                                           target_update.online_at_update), has_aux=True)

    @jax.jit
    def old_update(state, batch):
        (value, delta), grads = old_grad(state.params, state.target_params, batch)
        step, opt_state = opt.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, step)
        target = target_update.apply(params, state.target_params, state.updates + 1)
        return state.replace(params=params, target_params=target, opt_state=opt_state,
                             updates=state.updates + 1), value, jnp.abs(delta)

    new_update = jax.jit(build_update(config, net))
    old = new = init_train_state(jax.random.PRNGKey(0), net, opt, jnp.zeros((1, 4)))
    key = jax.random.PRNGKey(1)  # the same parameter tree and initial values
    _assert_equal(old_net.init(key, jnp.zeros((1, 4))), net.init(key, jnp.zeros((1, 4))))
    for i in range(4):
        old, old_value, old_td = old_update(old, _batch(i))
        new, metrics = new_update(new, _batch(i))
        assert float(metrics["loss"]) == float(old_value)
        np.testing.assert_array_equal(metrics["priority"], old_td)
    _assert_equal((old.params, old.target_params, old.opt_state, old.key),
                  (new.params, new.target_params, new.opt_state, new.key))


def _assert_equal(a, b):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(x, y)


def _spy_network(stochastic):
    """Q(s, .) = w * (sum of s, 0), recording the key of every forward pass."""
    keys = []

    def apply(params, obs, key):
        keys.append(key)
        return NetworkOutput(jnp.stack([obs.sum(-1) * params["w"], jnp.zeros(len(obs))], -1))

    return Network(lambda key, obs: {"w": jnp.ones(())}, apply, stochastic), keys


@pytest.mark.parametrize("target_is_online", [False, True])
def test_a_stochastic_network_gets_independent_keys_for_the_three_passes(target_is_online):
    net, keys = _spy_network(stochastic=True)
    forward_passes(net.apply, {"w": 1.0}, {"w": 1.0}, _batch(0), jax.random.PRNGKey(0),
                   target_is_online)
    assert len(keys) == 3 and len({tuple(np.asarray(k)) for k in keys}) == 3
    keys.clear()
    forward_passes(net.apply, {"w": 1.0}, {"w": 1.0}, _batch(0), None, target_is_online)
    assert keys == [None] * (2 if target_is_online else 3)  # s' once when target == online


def test_the_update_splits_a_key_for_a_stochastic_network_only():
    batch = _batch(0)._replace(obs=jnp.ones((16, 4)), next_obs=jnp.ones((16, 4)))
    config = CARTPOLE
    for stochastic in (False, True):
        net, keys = _spy_network(stochastic)
        objective = make_td_objective(net.apply, TARGETS.get("double"), LOSSES.get("huber"))
        update = make_update(net, optax.sgd(0.0), objective, build_target_update(config))
        state = init_train_state(jax.random.PRNGKey(0), net, optax.sgd(0.0), batch.obs[:1])
        new_state, _ = update(state, batch)
        # deterministic: the key stream is what it was before objectives had a key
        assert np.array_equal(new_state.key, state.key) != stochastic
        assert (keys[0] is None) != stochastic


def test_the_learner_weights_the_per_sample_loss_and_passes_the_priority_on():
    net, _ = _spy_network(stochastic=False)

    def objective(params, target_params, batch, key):  # loss_i = i * w, priority_i = 7
        per_sample = jnp.arange(4.0) * params["w"]
        return per_sample, ObjectiveAux(jnp.zeros((4, 2)), jnp.full(4, 7.0), {"extra": 1.0})

    update = make_update(net, optax.sgd(1.0), objective, build_target_update(CARTPOLE))
    state = init_train_state(jax.random.PRNGKey(0), net, optax.sgd(1.0), jnp.zeros((1, 4)))
    batch = _batch(0, 4)._replace(weight=jnp.array([1.0, 0.0, 2.0, 1.0]))
    new_state, metrics = update(state, batch)
    assert float(metrics["loss"]) == (0 + 0 + 2 * 2 + 3) / 4  # mean of weight * loss
    np.testing.assert_allclose(new_state.params["w"], 1.0 - 7 / 4)  # its gradient, sgd 1
    np.testing.assert_array_equal(metrics["priority"], [7.0] * 4)
    assert metrics["extra"] == 1.0


def test_a_noisy_network_draws_independent_noise_for_each_pass_of_the_update():
    config = CARTPOLE.replace(noisy=True, target_update_period=1)  # target == online
    net = build_network(config, 3, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    batch = _batch(0)._replace(next_obs=_batch(0).obs)  # s' = s: only the noise differs
    outputs = forward_passes(net.apply, params, params, batch, jax.random.PRNGKey(1), True)
    q = [np.asarray(out.q_values) for out in outputs]
    assert not np.allclose(q[0], q[1]) and not np.allclose(q[1], q[2])
    assert not np.allclose(q[0], q[2])


C51 = CARTPOLE.replace(head="categorical", objective="categorical", num_atoms=11, v_min=-2.0,
                       v_max=2.0, mlp_hidden=(16,), head_hidden=8)
QR = C51.replace(head="quantile", objective="quantile", num_quantiles=5)


def _rlax_loss(rlax, online, next_target, selector, batch):
    """rlax's rule for the head's outputs, per transition (its own action selection)."""
    if hasattr(online, "logits"):
        return jax.vmap(rlax.categorical_double_q_learning, (None, 0, 0, 0, 0, None, 0, 0))(
            online.atoms, online.logits, batch.action, batch.reward, batch.discount,
            next_target.atoms, next_target.logits, selector)
    tau = (jnp.arange(5) + 0.5) / 5  # rlax takes (N, |A|) quantiles; selects by their mean
    return jax.vmap(rlax.quantile_q_learning, (0, None, 0, 0, 0, 0, 0, None))(
        online.quantiles.swapaxes(1, 2), tau, batch.action, batch.reward, batch.discount,
        jnp.repeat(selector[:, None, :], 5, axis=1), next_target.quantiles.swapaxes(1, 2), 1.0)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # rlax's, about itself
@pytest.mark.parametrize("base,target", list(itertools.product((C51, QR),
                                                               ("q_learning", "double"))))
def test_the_distributional_objectives_are_rlaxs_rules_on_the_network(base, target):
    rlax = pytest.importorskip("rlax")
    config = base.replace(target=target, dueling=True).validate()
    net = build_network(config, 3, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    target_params = jax.tree_util.tree_map(lambda x: 0.5 * x, params)
    batch = _batch(0)
    objective = build_objective(config, net, build_target_update(config))
    loss, aux = objective(params, target_params, batch, None)
    online, next_target, next_online = (net.apply(p, o, None) for p, o in (
        (params, batch.obs), (target_params, batch.next_obs), (params, batch.next_obs)))
    selector = next_online.q_values if target == "double" else next_target.q_values
    np.testing.assert_allclose(loss, _rlax_loss(rlax, online, next_target, selector, batch),
                               rtol=1e-5)
    np.testing.assert_array_equal(aux.priority, loss)  # Dopamine's: the loss itself
    np.testing.assert_array_equal(aux.q_values, online.q_values)


IQN = C51.replace(head="implicit_quantile", objective="implicit_quantile", num_tau_samples=6,
                 num_quantile_samples=4, iqn_embedding_dim=8)


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")
@pytest.mark.parametrize("target", ["q_learning", "double"])
def test_the_iqn_objective_is_rlaxs_rule_on_the_networks_sampled_fractions(target):
    rlax = pytest.importorskip("rlax")
    config = IQN.replace(target=target, dueling=True).validate()
    net = build_network(config, 3, (4,), jnp.float32)
    assert net.stochastic and net.samples
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    target_params = jax.tree_util.tree_map(lambda x: 0.5 * x, params)
    batch, key = _batch(0), jax.random.PRNGKey(3)
    loss, aux = build_objective(config, net, build_target_update(config))(
        params, target_params, batch, key)
    # the same three passes with the same keys: online s (N fractions), target s' (its own
    # N'), online s' (double's selector); the bootstrap action from K-sample Q-values
    online, next_target, next_online = forward_passes(net.apply, params, target_params,
                                                      batch, key)
    assert not np.allclose(online.taus, next_target.taus)  # independent fractions
    selector = next_online.q_values if target == "double" else next_target.q_values
    theirs = jax.vmap(rlax.quantile_q_learning, (0, 0, 0, 0, 0, 0, 0, None))(
        online.quantiles.swapaxes(1, 2), online.taus, batch.action, batch.reward,
        batch.discount, jnp.repeat(selector[:, None, :], 6, axis=1),
        next_target.quantiles.swapaxes(1, 2), 1.0)
    np.testing.assert_allclose(loss, theirs, rtol=1e-5)
    np.testing.assert_array_equal(aux.priority, loss)
    with pytest.raises(ConfigError, match="objective 'implicit_quantile' needs head "
                                          "implicit_quantile"):
        IQN.replace(head="quantile").validate()


@pytest.mark.parametrize("base", [C51, QR, IQN])
def test_distributional_objectives_learn_a_fixed_batch(base):
    config = base.replace(target_update_period=10**6, replay="prioritized").validate()
    net = build_network(config, 3, (4,), jnp.float32)
    update = jax.jit(build_update(config, net))
    state = init_train_state(jax.random.PRNGKey(0), net, build_optimizer(config),
                             jnp.zeros((1, 4)))
    state, first = update(state, _batch(0))
    for _ in range(100):
        state, metrics = update(state, _batch(0))
    # C51's cross-entropy has a floor, the target's entropy
    assert float(metrics["loss"]) < 0.95 * float(first["loss"])
    assert set(metrics) == {"loss", "priority", "q_mean"}


def test_objective_and_head_must_fit():
    with pytest.raises(ConfigError, match="objective 'categorical' needs head categorical"):
        C51.replace(head="plain").validate()
    with pytest.raises(ConfigError, match="objective 'td' needs head plain"):
        C51.replace(objective="td").validate()
    with pytest.raises(ConfigError, match=r"v_min \(1.0\) must be below v_max \(1.0\)"):
        C51.replace(v_min=1.0, v_max=1.0).validate()
    with pytest.raises(ConfigError, match="num_atoms must be at least 2"):
        C51.replace(num_atoms=1).validate()
    with pytest.raises(ConfigError, match=r"objective 'quantile' needs head quantile \(it "
                                          r"learns quantiles\), got 'categorical'"):
        QR.replace(head="categorical").validate()


def test_munchausen_is_the_td_objective_on_its_target_with_the_bonus():
    config = CARTPOLE.replace(objective="munchausen", munchausen_tau=0.5, mlp_hidden=(16,),
                              head_hidden=8).validate()
    net = build_network(config, 3, (4,), jnp.float32)
    params = net.init(jax.random.PRNGKey(0), jnp.zeros((1, 4)))
    target_params = jax.tree_util.tree_map(lambda x: 0.5 * x, params)
    batch = _batch(0)
    loss, aux = build_objective(config, net, build_target_update(config))(
        params, target_params, batch, None)
    q, q_here, q_next = (np.asarray(net.apply(p, o, None).q_values, np.float64) for p, o in (
        (params, batch.obs), (target_params, batch.obs), (target_params, batch.next_obs)))
    a, tau = np.asarray(batch.action), 0.5

    def tau_log_pi(x):  # tau log softmax(x / tau), in float64
        z = x / tau
        return tau * (z - z.max(-1, keepdims=True) - np.log(np.exp(
            z - z.max(-1, keepdims=True)).sum(-1, keepdims=True)))

    rows = np.arange(len(a))
    bonus = 0.9 * np.clip(tau_log_pi(q_here)[rows, a], -1.0, 0.0)
    soft_v = (np.exp(tau_log_pi(q_next) / tau) * (q_next - tau_log_pi(q_next))).sum(-1)
    y = np.asarray(batch.reward) + bonus + np.asarray(batch.discount) * soft_v
    delta = y - q[rows, a]
    np.testing.assert_allclose(aux.priority, np.abs(delta), rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(loss, LOSSES.get("huber")(delta), rtol=1e-4, atol=1e-5)
    with pytest.raises(ConfigError, match="objective 'munchausen' has its own"):
        config.replace(target="double").validate()
    with pytest.raises(ConfigError, match="munchausen_l0 must be <= 0"):
        config.replace(munchausen_l0=0.5).validate()
