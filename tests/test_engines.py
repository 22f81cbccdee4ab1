"""The fused engine against the host engine, and the JAX envs' flags against a naive
reference."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.config import ConfigError
from purejaxdqn.engines import make_engine, resolve_engine
from purejaxdqn.presets import CARTPOLE, MINATAR

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
    return jax.device_get(engine.across_seeds(carry, lambda c: c.agent)), sorted(episodes)


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


def test_seed_blocks_give_each_seed_the_result_of_one_block(tmp_path):
    """Three seeds run for 400 steps in blocks of 2 and 1 (each its own carry and device
    call), then resumed from the checkpoint in blocks of 1, end bit-identical to the same
    run in one block uninterrupted, with the same episodes: a fused resume continues the
    very games (env state restored, no actions replayed), the blocks change no seed's
    result, and a checkpoint (every seed, whatever the blocks) resumes into another
    layout."""
    from purejaxdqn.run import checkpoint
    from purejaxdqn.run.train import train

    config = SMALL.replace(seeds=(0, 1, 2), total_steps=700, eval_every=0, checkpoint_every=0,
                           engine="fused", chunk_iterations=37)
    whole, halves = str(tmp_path / "whole"), str(tmp_path / "halves")
    train(config, whole, progress=False)
    train(config.replace(seed_block=2), halves, progress=False, stop_after_steps=400)
    second_half = train(config.replace(seed_block=1), halves, resume=True, progress=False)
    assert second_half["resumes"][0]["exact"] and second_half["steps"] == 700
    engine = make_engine(config, config.all_seeds)
    template = engine.across_seeds(engine.start(
        jnp.stack([jax.random.PRNGKey(s) for s in config.all_seeds])), lambda c: c.agent.learner)
    a, b = (checkpoint.load(d, template, None)[0] for d in (whole, halves))
    assert int(a.updates[0]) > 0
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        np.testing.assert_array_equal(x, y)
    episodes = [(tmp_path / d / "episodes.csv").read_text() for d in ("whole", "halves")]
    assert episodes[0] == episodes[1]


def test_auto_seed_block_on_this_backend():
    from purejaxdqn.engines import CPU_ONE_BLOCK_UP_TO, CPU_SEED_BLOCK, auto_seed_block

    assert auto_seed_block(CPU_ONE_BLOCK_UP_TO) == 0  # one block is as fast up to here
    assert auto_seed_block(64) == CPU_SEED_BLOCK  # the test suite runs on XLA:CPU


def test_engine_choice_and_bad_input():
    assert resolve_engine(CARTPOLE) == "fused"
    assert resolve_engine(MINATAR) == "fused"
    assert resolve_engine(CARTPOLE.replace(env_id="Pong")) == "host"  # measured faster on CPU
    assert resolve_engine(CARTPOLE.replace(env_id="Pong", engine="fused")) == "fused"
    with pytest.raises(ConfigError, match="LunarLander-v2 has no fused engine; engines for "
                                          "it: host"):
        resolve_engine(CARTPOLE.replace(env_id="LunarLander-v2", engine="fused"))


def test_jax_env_flags_against_a_naive_reference():
    """A random CartPole rollout with a short time limit, its flags recomputed in plain
    Python from the stream: envpool's auto-reset protocol (a done step, then a reset
    step with reward 0 whose action is ignored), truncation only at the limit and never
    with a game over, CartPole's own game-over rule, and per-game returns/lengths."""
    from purejaxdqn.envs.table import cartpole_failed as _cartpole_failed
    from purejaxdqn.envs.table import make_jax_env

    limit, n = 25, 3
    env = make_jax_env(CARTPOLE, n, limit)
    state, step = jax.jit(env.reset)(jax.random.PRNGKey(3))
    step_fn = jax.jit(env.step)
    rng = np.random.default_rng(0)
    length, score, done_before = np.zeros(n, int), np.zeros(n), np.zeros(n, bool)
    counts = {"terminated": 0, "truncated": 0}
    for _ in range(400):
        state, step = step_fn(state, jnp.asarray(rng.integers(0, 2, n)))
        s = jax.device_get(step)
        np.testing.assert_array_equal(s.reset, done_before)  # a reset follows each done
        np.testing.assert_array_equal(s.first, s.reset)
        assert not s.reward[s.reset].any()
        length = np.where(s.reset, 0, length + 1)
        score = np.where(s.reset, 0.0, score + s.reward)
        np.testing.assert_array_equal(s.terminated, ~s.reset & _cartpole_failed(s.obs))
        np.testing.assert_array_equal(s.truncated, ~s.reset & ~s.terminated & (length >= limit))
        done = s.terminated | s.truncated
        np.testing.assert_allclose(s.episode_return, np.where(done, score, np.nan))
        np.testing.assert_array_equal(s.episode_length, np.where(done, length, 0))
        done_before = done
        counts["terminated"] += s.terminated.sum()
        counts["truncated"] += s.truncated.sum()
    assert counts["terminated"] > 10 and counts["truncated"] > 3  # both paths exercised


def test_bad_engine_input_is_one_line_and_exit_2(capsys):
    from purejaxdqn.tools.cli import main

    assert main(["train", "--game", "LunarLander-v2", "--engine", "fused"]) == 2
    assert capsys.readouterr().err.strip() == ("purejaxdqn: error: LunarLander-v2 has no fused "
                                               "engine; engines for it: host (or auto)")
    assert main(["train", "--game", "Breakout-MinAtr"]) == 2
    assert "did you mean Breakout-MinAtar" in capsys.readouterr().err


def test_fused_atari_through_envpool_xla_equals_host():
    """Atari in the fused loop (envpool's XLA interface) against the host engine: the
    same env seeds give the same games, so the replay's actions, flags and frames and
    the episode log match exactly; parameters to a float tolerance (as above)."""
    from purejaxdqn.presets import NATURE

    config = NATURE.replace(env_id="Pong", num_envs=2, warmup_steps=60, replay_capacity=400,
                            batch_size=4, steps_per_update=2, target_update_period=20,
                            seeds=(0, 1))
    host, host_episodes = _run("host", config, 120)
    fused, fused_episodes = _run("fused", config, 120)
    assert int(fused.learner.updates[0]) == (120 - 60) // 2
    for name in ("frames", "action", "reward", "terminated", "life_lost", "reset"):
        np.testing.assert_array_equal(getattr(host.replay, name), getattr(fused.replay, name))
    assert host_episodes == fused_episodes
    for a, b in zip(jax.tree_util.tree_leaves(host.learner.params),
                    jax.tree_util.tree_leaves(fused.learner.params)):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)


def test_both_engines_are_the_protocol_the_loop_sees():
    import inspect

    from purejaxdqn.engines.base import Engine

    wanted = {name for name, member in vars(Engine).items()
              if inspect.isfunction(member) and not name.startswith("_")}
    assert wanted == {"start", "advance", "across_seeds", "iteration", "evaluate",
                      "checkpoint_extras", "restore", "close"}
    for name in ("host", "fused"):
        engine = make_engine(SMALL.replace(engine=name), SMALL.all_seeds)
        try:
            assert engine.name == name and isinstance(engine.resumes_exactly, bool)
            for method in wanted:
                ours = inspect.signature(getattr(engine, method)).parameters
                assert list(ours) == list(inspect.signature(getattr(Engine, method))
                                          .parameters)[1:], (name, method)
        finally:
            engine.close()
