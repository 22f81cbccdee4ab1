"""The fused engine against the host engine, and the JAX envs' flags against a naive
reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.config import CARTPOLE, MINATAR, ConfigError
from purejaxdqn.engines import make_engine, resolve_engine

SMALL = CARTPOLE.replace(num_envs=2, warmup_steps=200, replay_capacity=2_000, batch_size=16,
                         steps_per_update=2, target_update_period=100, mlp_hidden=(32,),
                         head_hidden=32, seeds=(0, 1))


def _run(engine_name: str, config, steps: int, splits=(), **options):
    engine = make_engine(config.replace(engine=engine_name), config.all_seeds, **options)
    carry = engine.start(jnp.stack([jax.random.PRNGKey(s) for s in config.all_seeds]))
    episodes = []
    for until in (*splits, steps):
        done = None
        while done is None or done.steps < until:
            carry, done = engine.advance(carry, until, config.warmup_steps, lambda: False)
            episodes += done.episodes
    engine.close()
    return jax.device_get(carry.agent), sorted(episodes)


@pytest.mark.parametrize("config", [SMALL, SMALL.replace(n_step=3, replay="prioritized",
                                                         target="double")],
                         ids=["nature", "n3-per-double"])
def test_fused_equals_host_on_the_same_jax_env(config):
    """Same seeds, same JAX CartPole: the host engine (a device call per iteration) and
    the fused engine (one loop per chunk) store the same replay and reach the same
    parameters after ~700 updates. Tolerance: XLA fuses the two programs differently,
    so float results may differ in the last bits; actions and the replay's integer and
    boolean contents must match exactly (any divergence would flip them)."""
    host, host_episodes = _run("host", config, 1_600, jax_env=True)
    fused, fused_episodes = _run("fused", config, 1_600)
    assert int(host.learner.updates[0]) == int(fused.learner.updates[0]) == (1_600 - 200) // 2
    for name in ("action", "terminated", "truncated", "first", "reset", "write_index"):
        np.testing.assert_array_equal(getattr(host.replay, name), getattr(fused.replay, name))
    np.testing.assert_allclose(host.replay.frames, fused.replay.frames, rtol=1e-6, atol=1e-6)
    assert host_episodes == fused_episodes
    for a, b in zip(jax.tree_util.tree_leaves(host.learner.params),
                    jax.tree_util.tree_leaves(fused.learner.params)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_fused_results_do_not_depend_on_chunking():
    """Cutting the same run into other chunks gives bit-identical state."""
    whole, _ = _run("fused", SMALL, 900)
    cut, _ = _run("fused", SMALL, 900, splits=(202, 204, 650), max_chunk=37)
    for a, b in zip(jax.tree_util.tree_leaves(whole), jax.tree_util.tree_leaves(cut)):
        np.testing.assert_array_equal(a, b)


def test_engine_choice_and_bad_input():
    assert resolve_engine(CARTPOLE) == "fused"
    assert resolve_engine(MINATAR) == "fused"
    assert resolve_engine(CARTPOLE.replace(env_id="Pong")) == "host"
    with pytest.raises(ConfigError, match="Pong has no fused engine; engines for it: host"):
        resolve_engine(CARTPOLE.replace(env_id="Pong", engine="fused"))
