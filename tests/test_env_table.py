"""The env table (envs/table.py): one entry per env, and everything else derived from it.
docs/extending.md's worked example, a JAX env family written here (a toy chain with a
Jumanji-style `reset(key)` / `step(state, action)` pair), registered from outside the
package with one entry and trained by the fused engine."""

import csv
import os
from typing import NamedTuple

import jax
import jax.numpy as jnp
import pytest

from purejaxdqn.config import ConfigError
from purejaxdqn.envs.jax_envs import JaxGame
from purejaxdqn.envs.table import ENVS, EnvEntry, env_entry, register_env
from purejaxdqn.presets import CARTPOLE


def test_each_env_is_one_entry_and_the_rest_is_derived_from_it():
    from purejaxdqn.engines import has_envpool_env, supported_engines, uses_jax_env

    cartpole, lander, freeway = (env_entry(n) for n in ("CartPole-v1", "lunarlander-v2",
                                                       "MinAtar-Freeway"))
    assert (cartpole.kind, cartpole.preset, cartpole.envpool) == ("vector", "cartpole",
                                                                  "CartPole-v1")
    assert cartpole.jax is not None and cartpole.game_over is not None
    assert (lander.name, lander.jax, lander.player.env_id) == ("LunarLander-v2", None,
                                                               "LunarLander-v3")
    assert (freeway.name, freeway.kind, freeway.preset, freeway.envpool) == (
        "Freeway-MinAtar", "minatar", "minatar", None)
    breakout_ram = env_entry("Breakout-ram-v5")  # the Atari family: envpool's games
    assert (breakout_ram.name, breakout_ram.kind, breakout_ram.preset, breakout_ram.envpool,
            breakout_ram.game) == ("Breakout-ram", "atari_ram", "nature", "Breakout-v5",
                                   "Breakout")
    # envpool availability is the env's: the host engine steps MinAtar's JAX env
    minatar = CARTPOLE.replace(env_id="Breakout-MinAtar")
    assert not has_envpool_env(minatar) and uses_jax_env(minatar, "host")
    assert supported_engines(CARTPOLE.replace(env_id="MountainCar-v0")) == ("host",)


# --- docs/extending.md's worked example: a JAX env family in one entry ---------------
class Chain(NamedTuple):  # the family's state (Jumanji keeps its RNG key here too)
    position: jax.Array


class TimeStep(NamedTuple):
    observation: jax.Array
    reward: jax.Array
    last: jax.Array


LENGTH = 6  # cells; the game is won (reward 1, game over) on reaching the last one


def chain_reset(key):
    return Chain(jnp.int32(0)), TimeStep(jax.nn.one_hot(0, LENGTH), jnp.float32(0.0),
                                         jnp.bool_(False))


def chain_step(state, action):  # action 0: left, 1: right
    position = jnp.clip(state.position + 2 * action - 1, 0, LENGTH - 1)
    won = position == LENGTH - 1
    return Chain(position), TimeStep(jax.nn.one_hot(position, LENGTH),
                                     won.astype(jnp.float32), won)


def chain_adapter(config):
    """Config -> JaxGame: the family's pair as (obs, state) functions."""

    def reset(key):
        state, timestep = chain_reset(key)
        return timestep.observation, state

    def step(key, state, action):  # the family's RNG, if any, is in its state
        state, timestep = chain_step(state, action)
        return timestep.observation, state, timestep.reward, timestep.last

    return JaxGame(reset, step, num_actions=2)


def test_a_jax_env_family_registered_outside_the_package_trains(tmp_path):
    from purejaxdqn.engines import resolve_engine, uses_jax_env
    from purejaxdqn.envs.players import no_player
    from purejaxdqn.run.preflight import preset_for_env
    from purejaxdqn.run.train import train

    register_env(EnvEntry("Chain-v0", kind="vector", preset="cartpole", jax=chain_adapter))
    try:
        config = CARTPOLE.replace(env_id="Chain-v0", total_steps=600, warmup_steps=200,
                                  replay_capacity=1_000, max_episode_steps=30,
                                  eval_every=0, eval_episodes=2, eval_max_episode_steps=30,
                                  log_every=200, checkpoint_every=0, checkpoint_replay=False)
        assert resolve_engine(config) == "fused" and uses_jax_env(config, "host")
        double, line = preset_for_env("double", "chain-v0")  # the entry's base preset
        assert (double.torso, double.target) == ("mlp", "double") and "cartpole" in line
        assert no_player("Chain-v0") == \
            "Chain-v0 has no player yet: it cannot be watched or recorded"
        with pytest.raises(ConfigError, match="unknown environment 'Chian-v0'; did you mean"
                           ) as info:
            env_entry("Chian-v0")
        assert "Chain-v0" in str(info.value)

        summary = train(config, str(tmp_path), progress=False)
        assert (summary["steps"], summary["engine"]) == (600, "fused")
        assert summary["final_eval"]["step"] == 600  # the evaluation played the JAX env too
        assert 0.0 <= summary["final_eval"]["score_mean"][0] <= 1.0
        with open(os.path.join(tmp_path, "episodes.csv")) as f:
            games = list(csv.DictReader(f))
        # random play wins some games in 30 steps; every finished game scored 0 or 1
        assert games and {float(g["score"]) for g in games} <= {0.0, 1.0}
        # the host engine steps the same JAX env: the entry has no envpool id
        host = train(config.replace(engine="host", total_steps=300), str(tmp_path / "host"),
                     progress=False)
        assert (host["steps"], host["engine"]) == (300, "host")
    finally:
        ENVS.unregister("Chain-v0")
    with pytest.raises(ConfigError, match="unknown environment 'Chain-v0'"):
        env_entry("Chain-v0")
