"""The agent is assembled from ready parts and plain settings: it reads no component
name, so a part nobody registered works as well as a registered one."""

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.agent import AgentSettings, assemble_agent, step_input
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
    agent = assemble_agent(parts._replace(td_rule=halved_q_learning), settings, SPEC)
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
