"""Checkpoints: flax msgpack for the learner, one array file per replay field, JSON for the host.

Layout of `RUN_DIR/checkpoint/` (format 2):
  host.json          "format": 2, steps, iteration, replay flag, evaluations so far,
                     env segment, resumes
  config.json        the run's config when it was saved, so a resume can tell that
                     RUN_DIR/config.json was edited since (absent in older checkpoints)
  learner.msgpack    params, target params, optimizer state, RNG key, counters
  replay/frames.npy.gz
                     the frame ring, gzip level 1 (`arrayfile`: gunzip gives the .npy)
  replay/*.npy       the other replay fields, one array each (the replay is there
                     while the run is unfinished, unless checkpoint_replay is off)
  actions.npy        every action sent to the current training envs, for --exact-resume
  engine.msgpack     the engine's own state: JAX envs (RNG included) and their pending
                     step, so a resume continues the same games bit-exactly (absent for
                     envpool)

Format history (`FORMAT`; a host.json without "format" is format 1):
  1  no version key; replay/frames.npy plain; learner.msgpack may lack
     TrainState.episodes (a later field), which loads as the template's initial value.
  2  "format" in host.json; the frame ring compressed.
`load` reads every format up to `FORMAT` and refuses a newer one in one line.

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

from purejaxdqn.run import arrayfile, disk
from purejaxdqn.run.runlog import write_atomic

CHECKPOINT = "checkpoint"
FORMAT = 2

# TrainState fields by the first format whose learner.msgpack always holds them. A
# checkpoint of an older format may lack one: it gets the template's (initial) value.
LEARNER_FIELDS_SINCE = {"episodes": 2}

# Replay fields written compressed: (codec suffix, level). The frame ring is nearly
# all of a replay's bytes; gzip level 1 made a real Atari ring 22x smaller and wrote
# it faster than the plain file (README, "Crash safety and resume").
COMPRESSED = {"frames": (".gz", 1)}


class CheckpointError(RuntimeError):
    """A missing or unreadable checkpoint; one-line message for the user."""


def save(run_dir: str, learner: Any, replay: Any | None, host: dict, actions: np.ndarray,
         extras: Any | None = None, config_json: str | None = None) -> str:
    """Write the checkpoint (see the layout above) through a temporary folder renamed
    into place. A failed write (a full disk) removes the temporary and raises
    disk.WriteFailed naming the space; the previous checkpoint stays as it was."""
    final = os.path.join(run_dir, CHECKPOINT)
    tmp, old = final + ".tmp", final + ".old"
    try:
        _write(tmp, learner, replay, host, actions, extras, config_json)
    except OSError as error:
        disk.remove(tmp)
        kept = f"; the previous checkpoint ({read_host(run_dir).get('steps', 0):,} steps) " \
            "is kept" if exists(run_dir) else ""
        raise disk.WriteFailed(disk.describe(error, "the checkpoint", tmp,
                                             size_on_disk(run_dir) or None) + kept) from None
    if os.path.exists(final):
        shutil.rmtree(old, ignore_errors=True)
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return final


def _write(tmp: str, learner, replay, host, actions, extras, config_json) -> None:
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    with open(os.path.join(tmp, "learner.msgpack"), "wb") as f:
        f.write(flax.serialization.to_bytes(jax.device_get(learner)))
    if replay is not None:
        os.makedirs(os.path.join(tmp, "replay"))
        for name, value in flax.serialization.to_state_dict(replay).items():
            arrayfile.save(os.path.join(tmp, "replay", f"{name}.npy"), np.asarray(value),
                           *COMPRESSED.get(name, ("", None)))
    np.save(os.path.join(tmp, "actions.npy"), actions)
    if extras is not None:
        with open(os.path.join(tmp, "engine.msgpack"), "wb") as f:
            f.write(flax.serialization.to_bytes(jax.device_get(extras)))
    if config_json is not None:
        with open(os.path.join(tmp, "config.json"), "w") as f:
            f.write(config_json)
    with open(os.path.join(tmp, "host.json"), "w") as f:
        # after **host: a host dict loaded from an older checkpoint carries its format
        json.dump({**host, "format": FORMAT, "has_replay": replay is not None}, f, indent=2)


def update_host(run_dir: str, **fields) -> None:
    """Change `fields` of the checkpoint's host.json, atomically: what the loop learns
    after a save without changing the trained state (the final evaluation's result)."""
    host = read_host(run_dir)
    write_atomic(os.path.join(run_dir, CHECKPOINT, "host.json"),
                 json.dumps({**host, **fields}, indent=2))


def read_config(run_dir: str):
    """The Config the checkpoint was written with, or None where it kept none."""
    from purejaxdqn.config import Config

    path = os.path.join(run_dir, CHECKPOINT, "config.json")
    if not os.path.exists(path):
        return None
    try:
        with open(path) as f:
            return Config.from_dict(json.load(f))
    except (OSError, ValueError, TypeError) as error:
        raise CheckpointError(f"checkpoint file {path} is unreadable "
                              f"({type(error).__name__})") from None


def exists(run_dir: str) -> bool:
    return os.path.exists(os.path.join(run_dir, CHECKPOINT, "host.json"))


def size_on_disk(run_dir: str) -> int:
    """Bytes of the files of the checkpoint in `run_dir`."""
    top = os.path.join(run_dir, CHECKPOINT)
    return sum(os.path.getsize(os.path.join(folder, name))
               for folder, _, names in os.walk(top) for name in names)


def read_host(run_dir: str) -> dict:
    """The checkpoint's host.json (steps, env segment, evaluations, resumes); a
    CheckpointError if it is missing, unreadable or of a format newer than `FORMAT`."""
    path = os.path.join(run_dir, CHECKPOINT, "host.json")
    try:
        with open(path) as f:
            host = json.load(f)
    except FileNotFoundError:
        raise CheckpointError(f"no checkpoint in {run_dir} (expected {path})") from None
    except (OSError, ValueError) as error:
        raise CheckpointError(f"checkpoint file {path} is unreadable "
                              f"({type(error).__name__})") from None
    if not isinstance(host, dict):
        raise CheckpointError(f"checkpoint file {path} is unreadable (not a JSON object)")
    version = host.get("format", 1)
    if type(version) is not int or version < 1:
        raise CheckpointError(f"checkpoint file {path} is unreadable (format {version!r} "
                              f"is not a version number)")
    if version > FORMAT:
        raise CheckpointError(
            f"checkpoint in {os.path.dirname(path)} is format {version}, newer than this "
            f"purejaxdqn's format {FORMAT}: resume it with a purejaxdqn that reads format "
            f"{version}")
    return host


def load(run_dir: str, learner_template: Any, replay_template: Any | None):
    """Return (learner, replay or None, host dict, actions); raise CheckpointError.
    A checkpoint of an older format is migrated (see the format history above)."""
    path = os.path.join(run_dir, CHECKPOINT)
    if not exists(run_dir):
        raise CheckpointError(f"no checkpoint in {run_dir} (expected {path}/host.json)")
    host = read_host(run_dir)
    version = host.get("format", 1)
    try:
        with open(os.path.join(path, "learner.msgpack"), "rb") as f:
            learner = _restore_learner(learner_template, f.read(), version)
        _check_shapes(learner_template, learner, "learner")
        actions = np.load(os.path.join(path, "actions.npy"))
        replay = None
        if host.get("has_replay") and replay_template is not None:
            fields = flax.serialization.to_state_dict(replay_template)
            loaded = {k: arrayfile.load(os.path.join(path, "replay", f"{k}.npy"))
                      for k in fields}
            replay = flax.serialization.from_state_dict(replay_template, loaded)
            _check_shapes(replay_template, replay, "replay")
    except CheckpointError as error:
        raise CheckpointError(f"{error}{_older(version)}") from None
    except Exception as error:  # noqa: BLE001 - any decoding failure means a corrupt file
        raise CheckpointError(
            f"checkpoint in {path} is unreadable ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})"
            f"{_older(version)}") from None
    return learner, replay, host, actions


def _restore_learner(template: Any, data: bytes, version: int) -> Any:
    """The learner of msgpack `data`, fields newer than `version` taken from `template`."""
    state = flax.serialization.msgpack_restore(data)
    initial = flax.serialization.to_state_dict(template)
    if isinstance(state, dict):
        for name, since in LEARNER_FIELDS_SINCE.items():
            if version < since and name not in state and name in initial:
                state[name] = jax.tree_util.tree_map(np.asarray, initial[name])
    return flax.serialization.from_state_dict(template, state)


def _older(version: int) -> str:
    """What to add to an error about a checkpoint of `version`: both formats if older."""
    return (f" (checkpoint format {version}, this purejaxdqn's format {FORMAT})"
            if version < FORMAT else "")


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
