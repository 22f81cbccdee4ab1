"""A format-1 checkpoint of a tiny CartPole-sized agent, and how it was made.

    python tests/checkpoint_fixture.py    # rewrites tests/fixtures/checkpoint_v1/

Format 1 is the layout before checkpoints carried a version: host.json without
"format", a plain replay/frames.npy, and a learner.msgpack written when TrainState
had no `episodes` counter. It is written here by hand (msgpack of the state dict
less `episodes`, np.save per field), not by `checkpoint.save`, which writes the
current format. Every saved leaf holds `pattern(i, leaf)`, numbers that no
initialisation produces, so a test can tell saved values from the template's.
"""

from __future__ import annotations

import json
import os

import flax.serialization
import jax
import jax.numpy as jnp
import numpy as np

FIXTURE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fixtures", "checkpoint_v1")
STEPS, UPDATES, ITERATION = 1_234, 56, 308
HOST = {"iteration": ITERATION, "evaluations": [{"step": 1_000, "score_mean": [21.5]}],
        "env_segment": 0, "resumes": [], "steps": STEPS, "has_replay": True}


def templates(key: jax.Array):
    """(learner, replay) as `train` holds them for one seed (leading seed axis of 1):
    an MLP of 8 hidden units on CartPole's 4 floats, a ring of 8 slots, 1 env."""
    from purejaxdqn import replay as replay_lib
    from purejaxdqn.learner import init_train_state
    from purejaxdqn.parts import build_network, build_optimizer
    from purejaxdqn.presets import CARTPOLE

    config = CARTPOLE.replace(mlp_hidden=(8,), head_hidden=8)
    network = build_network(config, 2, (4,), jnp.float32)
    learner = init_train_state(key, network, build_optimizer(config), jnp.zeros((1, 4)))
    params = replay_lib.ReplayParams(capacity_per_env=8, num_envs=1, batch_size=2, frame_stack=1)
    replay = replay_lib.init(params, jnp.zeros((1, 4), jnp.float32))
    return jax.tree_util.tree_map(lambda x: x[None], (learner, replay))


def pattern(i: int, leaf) -> np.ndarray:
    """The values saved in leaf number `i`: a ramp offset by i, in the leaf's dtype."""
    ramp = np.arange(np.size(leaf)).reshape(np.shape(leaf))
    dtype = np.dtype(leaf.dtype)
    if dtype == np.bool_:
        return (ramp + i) % 3 == 0
    if np.issubdtype(dtype, np.integer):
        return (ramp * 7 + 1_000 * (i + 1)).astype(dtype)
    return (ramp * 0.125 - 1.5 + i).astype(dtype)


def saved(tree):
    """`tree` with every leaf replaced by its `pattern`, in tree_leaves order."""
    leaves, treedef = jax.tree_util.tree_flatten(tree)
    return jax.tree_util.tree_unflatten(treedef, [pattern(i, x) for i, x in enumerate(leaves)])


def saved_learner(template):
    """The learner the fixture holds: patterns, with the counters set to known values."""
    learner = saved(template)
    return learner.replace(steps=np.full((1,), STEPS, np.int32),
                           updates=np.full((1,), UPDATES, np.int32))


def actions() -> np.ndarray:
    """The recorded actions, [iterations, seeds, envs] as the host engine logs them."""
    return (np.arange(ITERATION, dtype=np.int32) % 2).reshape(ITERATION, 1, 1)


def write(folder: str = FIXTURE) -> None:
    learner_template, replay_template = templates(jax.random.PRNGKey(0))
    top = os.path.join(folder, "checkpoint")
    os.makedirs(os.path.join(top, "replay"), exist_ok=True)
    state = flax.serialization.to_state_dict(saved_learner(learner_template))
    del state["episodes"]  # TrainState had no episode counter in format 1
    with open(os.path.join(top, "learner.msgpack"), "wb") as f:
        f.write(flax.serialization.msgpack_serialize(state))
    for name, value in flax.serialization.to_state_dict(saved(replay_template)).items():
        np.save(os.path.join(top, "replay", f"{name}.npy"), np.asarray(value))
    np.save(os.path.join(top, "actions.npy"), actions())
    with open(os.path.join(top, "host.json"), "w") as f:
        json.dump(HOST, f, indent=2)


if __name__ == "__main__":
    write()
    print(f"wrote {FIXTURE}")
