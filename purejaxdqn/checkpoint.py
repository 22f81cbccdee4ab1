"""Checkpoints: flax msgpack for the learner, .npy per replay field, JSON for the host.

Layout of `RUN_DIR/checkpoint/`:
  learner.msgpack  params, target params, optimizer state, RNG key, counters
  replay/*.npy     the replay state, one array per field (while the run is unfinished,
                   unless checkpoint_replay is off)
  host.json        steps, iteration, replay flag, evaluations so far, env segment, resumes
  actions.npy      every action sent to the current training envs, for --exact-resume
  engine.msgpack   the engine's own state: JAX envs (RNG included) and their pending step,
                   so a resume continues the same games bit-exactly (absent for envpool)

A checkpoint is written to a temporary directory and renamed into place, so a
crash mid-write leaves the previous checkpoint intact.
"""

from __future__ import annotations

import json
import os
import shutil
from typing import Any

import flax.serialization
import jax
import numpy as np

CHECKPOINT = "checkpoint"


class CheckpointError(RuntimeError):
    """A missing or unreadable checkpoint; one-line message for the user."""


def save(run_dir: str, learner: Any, replay: Any | None, host: dict, actions: np.ndarray,
         extras: Any | None = None) -> str:
    final = os.path.join(run_dir, CHECKPOINT)
    tmp, old = final + ".tmp", final + ".old"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "learner.msgpack"), "wb") as f:
        f.write(flax.serialization.to_bytes(jax.device_get(learner)))
    if replay is not None:
        os.makedirs(os.path.join(tmp, "replay"))
        for name, value in flax.serialization.to_state_dict(replay).items():
            np.save(os.path.join(tmp, "replay", f"{name}.npy"), np.asarray(value))
    np.save(os.path.join(tmp, "actions.npy"), actions)
    if extras is not None:
        with open(os.path.join(tmp, "engine.msgpack"), "wb") as f:
            f.write(flax.serialization.to_bytes(jax.device_get(extras)))
    with open(os.path.join(tmp, "host.json"), "w") as f:
        json.dump({**host, "has_replay": replay is not None}, f, indent=2)
    if os.path.exists(final):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def exists(run_dir: str) -> bool:
    return os.path.exists(os.path.join(run_dir, CHECKPOINT, "host.json"))


def read_host(run_dir: str) -> dict:
    """The checkpoint's host.json (steps, env segment, evaluations, resumes)."""
    path = os.path.join(run_dir, CHECKPOINT, "host.json")
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint in {run_dir} (expected {path})") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"checkpoint file {path} is unreadable "
                              f"({type(error).__name__})") from None


def load(run_dir: str, learner_template: Any, replay_template: Any | None):
    """Return (learner, replay or None, host dict, actions); raise CheckpointError."""
    path = os.path.join(run_dir, CHECKPOINT)
    if not exists(run_dir):
        raise CheckpointError(f"no checkpoint in {run_dir} (expected {path}/host.json)")
    try:
        with open(os.path.join(path, "host.json")) as f:
            host = json.load(f)
        with open(os.path.join(path, "learner.msgpack"), "rb") as f:
            learner = flax.serialization.from_bytes(learner_template, f.read())
        _check_shapes(learner_template, learner, "learner")
        actions = np.load(os.path.join(path, "actions.npy"))
        replay = None
        if host.get("has_replay") and replay_template is not None:
            fields = flax.serialization.to_state_dict(replay_template)
            loaded = {k: np.load(os.path.join(path, "replay", f"{k}.npy")) for k in fields}
            replay = flax.serialization.from_state_dict(replay_template, loaded)
            _check_shapes(replay_template, replay, "replay")
    except CheckpointError:
        raise
    except Exception as error:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise CheckpointError(
            f"checkpoint in {path} is unreadable ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})") from None
    return learner, replay, host, actions


def load_extras(run_dir: str, template: Any) -> Any | None:
    """The engine state saved by `save(..., extras=)`, shaped like `template`; None if
    the checkpoint has none (an envpool run, or one from before the fused engine)."""
    path = os.path.join(run_dir, CHECKPOINT, "engine.msgpack")
    if template is None or not os.path.exists(path):
        return None
    try:
        with open(path, "rb") as f:
            extras = flax.serialization.from_bytes(template, f.read())
    except Exception as error:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise CheckpointError(f"checkpoint file {path} is unreadable "
                              f"({type(error).__name__})") from None
    _check_shapes(template, extras, "engine state")
    return extras


def _check_shapes(template: Any, loaded: Any, what: str) -> None:
    t_leaves = jax.tree_util.tree_leaves(template)
    l_leaves = jax.tree_util.tree_leaves(loaded)
    if len(t_leaves) != len(l_leaves) or any(
            np.shape(a) != np.shape(b) for a, b in zip(t_leaves, l_leaves)):
        raise CheckpointError(f"checkpoint {what} does not match this configuration's shapes")
