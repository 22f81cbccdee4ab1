"""The agent is assembled from ready parts and plain settings: it reads no component
name, so a part nobody registered works as well as a registered one."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.agent import AgentSettings, assemble_agent, step_input
from purejaxdqn.components.losses import huber
from purejaxdqn.components.objectives import make_td_objective
from purejaxdqn.components.targets import q_learning_target
from purejaxdqn.config import Config
from purejaxdqn.envs.step import EnvSpec, EnvStep
from purejaxdqn.parts import build

SPEC = EnvSpec("vector", "X", "X", 3, (4,), np.float32, 1)
CONFIG = Config(env_id="CartPole-v1", num_envs=2, replay_capacity=64, batch_size=4,
                warmup_steps=8, total_steps=1_000, steps_per_update=2, torso="mlp",
                mlp_hidden=(8,), head_hidden=8, reward_clip=False).validate()


def _step(rng):
    n = CONFIG.num_envs
    no = np.zeros(n, bool)
    obs = rng.normal(size=(n, 4)).astype(np.float32)
    return EnvStep(obs=obs, frame=obs, reward=np.ones(n, np.float32), terminated=no,
                   truncated=no, life_lost=no, first=no, reset=no,
                   episode_return=np.full(n, np.nan), episode_length=np.zeros(n, int))


def test_an_unregistered_td_rule_part_is_what_the_agent_learns_with():
    traced = []

    def halved_q_learning(reward, discount, q_next_target, q_next_online):
        traced.append(reward.shape)  # runs when the update is traced
        return 0.5 * q_learning_target(reward, discount, q_next_target)

    parts = build(CONFIG, SPEC.num_actions, SPEC.obs_shape, SPEC.obs_dtype)
    settings = AgentSettings.of(CONFIG)
    assert (settings.updates_per_learn, settings.iterations_per_learn) == (1, 1)
    objective = make_td_objective(parts.network.apply, halved_q_learning, huber)
    agent = assemble_agent(parts._replace(objective=objective), settings, SPEC)
    plain = assemble_agent(parts, settings, SPEC)
    rng = np.random.default_rng(0)
    states = {"halved": agent.init(jax.random.PRNGKey(0)[None]),
              "plain": plain.init(jax.random.PRNGKey(0)[None])}
    for _ in range(8):  # fill the replay past one batch, the same steps for both
        inp = step_input([_step(rng)])
        states["halved"], _ = agent.act(states["halved"], inp)
        states["plain"], _ = plain.act(states["plain"], inp)
    (new, metrics), (new_plain, metrics_plain) = agent.learn(states["halved"]), \
        plain.learn(states["plain"])
    assert traced == [()]  # the agent called our rule, per transition (vmapped)
    assert float(metrics["loss"][0]) != float(metrics_plain["loss"][0])
    assert int(new.learner.updates[0]) == 1
    assert all(bool(jnp.all(jnp.isfinite(x))) for x in jax.tree_util.tree_leaves(new.learner.params))


def test_prioritized_replay_stores_the_objectives_priority():
    from purejaxdqn.components.objectives import ObjectiveAux

    config = CONFIG.replace(replay="prioritized").validate()
    parts = build(config, SPEC.num_actions, SPEC.obs_shape, SPEC.obs_dtype)

    def objective(params, target_params, batch, key):  # priority 3 for every transition
        loss, aux = parts.objective(params, target_params, batch, key)
        return loss, ObjectiveAux(aux.q_values, jnp.full_like(aux.priority, 3.0), aux.metrics)

    agent = assemble_agent(parts._replace(objective=objective), AgentSettings.of(config), SPEC)
    state, rng = agent.init(jax.random.PRNGKey(0)[None]), np.random.default_rng(0)
    for _ in range(8):
        state, _ = agent.act(state, step_input([_step(rng)]))
    def priorities(state):  # seed 0's
        return np.asarray(jax.tree_util.tree_map(lambda x: x[0], state.replay).priority)

    before = priorities(state)
    state, metrics = agent.learn(state)
    after = priorities(state)
    changed = after != before
    assert changed.any() and "priority" not in metrics and "td_abs" not in metrics
    np.testing.assert_allclose(after[changed], (3.0 + config.per_eps) ** config.per_alpha,
                               rtol=1e-6)

def test_a_noisy_agent_acts_and_learns_with_its_own_keys():
    config = CONFIG.replace(noisy=True, epsilon_start=0.0, epsilon_end=0.0).validate()
    parts = build(config, SPEC.num_actions, SPEC.obs_shape, SPEC.obs_dtype)
    agent = assemble_agent(parts, AgentSettings.of(config), SPEC)
    state, rng = agent.init(jax.random.PRNGKey(0)[None]), np.random.default_rng(0)
    for _ in range(8):
        state, actions = agent.act(state, step_input([_step(rng)]))
    state, metrics = agent.learn(state)
    assert int(state.learner.updates[0]) == 1 and np.isfinite(float(metrics["loss"][0]))

def test_seed_groups_give_each_seed_the_result_of_one_vmapped_call(monkeypatch):
    """Grouping the seeds' updates (vmap within a group, groups one after another) changes
    where each seed is computed, not what: 5 seeds in groups of 2 (two groups and a tail
    of one), unrolled and in a fori_loop, equal one call over all 5, prioritized replay and
    two updates per learn included."""
    import purejaxdqn.seed_axis as seed_axis

    config = CONFIG.replace(replay="prioritized", steps_per_update=1).validate()
    parts = build(config, SPEC.num_actions, SPEC.obs_shape, SPEC.obs_dtype)
    settings = AgentSettings.of(config)
    assert settings.updates_per_learn == 2
    keys = jax.random.split(jax.random.PRNGKey(3), 5)
    rng = np.random.default_rng(1)
    inputs = [step_input([_step(rng) for _ in keys]) for _ in range(8)]

    def learned(group, max_unrolled):
        monkeypatch.setattr(seed_axis, "MAX_UNROLLED_GROUPS", max_unrolled)
        agent = assemble_agent(parts, dataclasses.replace(settings, seed_group=group), SPEC)
        state = agent.init(keys)
        for inp in inputs:
            state, _ = agent.act(state, inp)
        state, metrics = agent.learn(state)
        state, metrics = agent.learn_masked(state, jnp.array([True, False, True, True, False]))
        return jax.device_get((state, metrics))

    one_call = learned(0, 8)
    for group, max_unrolled in [(2, 8), (2, 1)]:
        grouped = learned(group, max_unrolled)
        for a, b in zip(jax.tree_util.tree_leaves(one_call), jax.tree_util.tree_leaves(grouped)):
            np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    # the masked learn left seeds 1 and 4 as the first learn made them
    assert list(one_call[0].learner.updates) == [4, 2, 4, 4, 2]


def test_auto_seed_group_follows_the_network_and_backend():
    """On XLA:CPU (this suite's backend) a network with XLA convolutions updates one seed at
    a time, anything else all seeds together; read from the network's own computation, so
    an im2col CNN counts as convolution-free."""
    from purejaxdqn.seed_axis import auto_seed_group
    from purejaxdqn.parts import build_network
    from purejaxdqn.presets import MINATAR, NATURE

    assert jax.default_backend() == "cpu"
    atari = EnvSpec("atari", "B", "B", 4, (4, 84, 84), np.uint8, 4)
    minatar = EnvSpec("minatar", "M", "M", 6, (4, 10, 10), np.float32, 1)
    cases = [(NATURE, atari, 1), (NATURE.replace(conv_impl="im2col"), atari, 0),
             (MINATAR, minatar, 0), (MINATAR.replace(conv_impl="xla"), minatar, 1),
             (CONFIG, SPEC, 0)]
    for config, spec, group in cases:
        network = build_network(config, spec.num_actions, spec.obs_shape, spec.obs_dtype)
        assert auto_seed_group(network, spec) == group, (config.torso, config.conv_impl)
    network = build_network(NATURE, 4, atari.obs_shape, atari.obs_dtype)
    assert auto_seed_group(network, atari, sharding=object()) == 0
