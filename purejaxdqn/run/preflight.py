"""Checks that run before any work: run directories, resume flags, memory.

Each raises ConfigError with one line for the user (the CLI prints it and exits
with code 2); nothing here writes anything except `clear_run_dir`, which the
CLI calls only with `--overwrite` and after every check passed.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from typing import Any

from purejaxdqn.config import Config, ConfigError, fields_by_name

# Flags that may differ from config.json on `--resume`: they change when the run
# is saved or where its scalars are mirrored, not what it learns. Everything else
# would make the resumed run a different experiment from the one its logs and
# checkpoint describe. (`--wandb-project ""` resumes a W&B run on a machine
# without wandb; a project named on resume starts W&B logging there.)
RESUME_MAY_CHANGE = ("checkpoint_every", "checkpoint_minutes", "wandb_project")

# What a run writes into its directory (cleared by --overwrite; nothing else is touched).
RUN_FILES = ("config.json", "episodes.csv", "metrics.jsonl", "eval.jsonl", "summary.json",
             "tb", "wandb", "wandb.json", "checkpoint", "checkpoint.tmp", "checkpoint.old")


def flag(name: str) -> str:
    return "--game" if name == "env_id" else f"--{name.replace('_', '-')}"


def check_resume_flags(saved: Config, overrides: dict[str, Any]) -> dict[str, Any]:
    """Refuse the first override that changes the saved experiment; return the
    allowed ones. Repeating the saved value is accepted."""
    from purejaxdqn.envs.table import env_entry

    for name, value in overrides.items():
        old = getattr(saved, name)
        same = old == value or (name == "env_id" and env_entry(value).name ==
                                env_entry(old).name)
        if not same and name not in RESUME_MAY_CHANGE:
            raise ConfigError(
                f"{flag(name)} cannot change on resume (the run has {old!r}, got {value!r}): "
                "a resume continues the same experiment; start a new run instead")
    return {k: v for k, v in overrides.items() if k in RESUME_MAY_CHANGE}


def preset_for_env(preset: str, env_id: str) -> tuple[Config, str | None]:
    """The config `--preset PRESET --game ENV_ID` means, and a line saying what was
    combined (None when the preset is used as it is).

    A preset made for ENV_ID's kind of env is used as it is (Atari pixels and RAM share
    one protocol, so a preset whose torso is `auto` takes either). An agent preset (a
    VARIANTS entry: components only, such as double or rainbow) named on another kind
    puts its components on the env's base preset (its entry in the env table):
    `--preset double --game CartPole-v1` is CartPole's protocol with Double DQN. Any other
    preset (its network and protocol made for one env: cartpole, minatar, the users'
    notes) on another kind is refused, naming the presets made for that kind."""
    from purejaxdqn.envs.kinds import KINDS
    from purejaxdqn.envs.table import env_entry
    from purejaxdqn.presets import PRESETS, VARIANTS, get_preset

    def kind_of(name: str) -> str:
        return env_entry(name).kind

    chosen, entry = get_preset(preset), env_entry(env_id)
    made_for, given = kind_of(chosen.env_id), entry.kind
    if made_for == given or (chosen.torso == "auto" and KINDS[made_for].atari
                             and KINDS[given].atari):
        return chosen.replace(env_id=env_id), None
    if preset in VARIANTS:
        base = entry.preset
        return (get_preset(base).replace(**VARIANTS[preset], env_id=env_id),
                f"--preset {preset} on a {given} env: the {base} preset's protocol with "
                f"{preset}'s components")
    fitting = [name for name, p in PRESETS.items() if kind_of(p.env_id) == given]
    raise ConfigError(
        f"--preset {preset} is made for {made_for} envs ({chosen.env_id}), not for "
        f"{env_id} ({given}): its network and protocol do not fit; presets for {given} "
        f"envs: {', '.join(fitting)}; or an agent preset "
        f"({', '.join(name for name in PRESETS if name in VARIANTS)})")


def check_unedited(run_dir: str, config: Config) -> None:
    """Refuse a resume whose config.json was changed since its checkpoint was written
    (the checkpoint keeps a copy; checkpoints older than that copy are not checked).
    Fields a resume may change by flag are left out: the copy follows them at the
    next save."""
    from purejaxdqn.run import checkpoint

    saved = checkpoint.read_config(run_dir)
    if saved is None:
        return
    changed = [name for name in fields_by_name() if name not in RESUME_MAY_CHANGE
               and getattr(saved, name) != getattr(config, name)]
    if changed:
        edits = ", ".join(f"{name} {getattr(saved, name)!r} -> {getattr(config, name)!r}"
                          for name in changed)
        raise ConfigError(
            f"{os.path.join(run_dir, 'config.json')} was changed after its checkpoint was "
            f"written ({edits}): a resume continues the same experiment; put the values "
            f"back, or start a new run with the new ones")


def check_writable(run_dir: str) -> None:
    """`run_dir` (or the nearest existing folder above it) is a directory we can write."""
    existing = os.path.abspath(run_dir)
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise ConfigError(f"run directory {run_dir} cannot be created: {existing} is a file")
    try:  # a real write, as permissions alone do not show a read-only file system
        os.rmdir(tempfile.mkdtemp(prefix=".purejaxdqn-probe-", dir=existing))
    except OSError as error:
        raise ConfigError(f"run directory {run_dir} is not writable ({existing}: "
                          f"{error.strerror})") from None


def check_new_run_dir(run_dir: str, overwrite: bool) -> None:
    """A new run may not mix into an earlier one's files unless asked to clear them."""
    check_writable(run_dir)
    from purejaxdqn.run import checkpoint
    if overwrite:
        return
    if checkpoint.exists(run_dir):
        raise ConfigError(f"{run_dir} already holds a run; use --resume {run_dir}, "
                          "--overwrite to replace it, or another --run-dir")
    left = [name for name in RUN_FILES if os.path.exists(os.path.join(run_dir, name))]
    if left:
        raise ConfigError(f"{run_dir} holds the logs of an earlier run ({', '.join(left)}) but "
                          "no checkpoint; use --overwrite to replace them, or another --run-dir")


def clear_run_dir(run_dir: str) -> None:
    for name in RUN_FILES:
        path = os.path.join(run_dir, name)
        if os.path.isdir(path):
            shutil.rmtree(path)
        elif os.path.exists(path):
            os.remove(path)


def replay_bytes(config: Config) -> int:
    """Bytes of every seed's replay, from jax.eval_shape (nothing is allocated)."""
    import jax

    from purejaxdqn.agent import AgentSettings, replay_params
    from purejaxdqn.envs.envpool import frame_layout
    from purejaxdqn.parts import build_sampling
    from purejaxdqn.replay import state_bytes

    frame_shape, dtype, stack = frame_layout(config)
    replay = replay_params(AgentSettings.of(config), stack, build_sampling(config))
    example = jax.ShapeDtypeStruct((config.num_envs, *frame_shape), dtype)
    return state_bytes(replay, example) * len(config.all_seeds)


def available_host_bytes() -> int | None:
    """MemAvailable from /proc/meminfo (None where there is none)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def available_device_bytes() -> int | None:
    """Free memory of the first accelerator where jax reports it (None on CPU)."""
    import jax

    device = jax.devices()[0]
    if device.platform == "cpu":
        return None
    stats = device.memory_stats() or {}
    if "bytes_limit" not in stats:
        return None
    return stats["bytes_limit"] - stats.get("bytes_in_use", 0)


def run_dir_problem(run_dir: str) -> str | None:
    """Why `run_dir` cannot be an existing run's directory (missing, or a file), or None:
    the one wording `train --resume`, `watch` and `plot` give."""
    if not os.path.exists(run_dir):
        return f"run directory {run_dir} does not exist"
    if not os.path.isdir(run_dir):
        return (f"{run_dir} is a file, not a run directory (a run directory holds "
                "config.json and checkpoint/)")
    return None


# Host memory of one envpool Atari env (its emulator, frame buffers and stack), measured
# with envpool 1.2.5: Breakout-v5 at 84x84x4, 8 -> 128 envs raised the peak RSS by 148 MB.
ATARI_ENV_BYTES = 1_300_000


def envs_bytes(config: Config) -> int:
    """Host bytes of the training envs: envpool's Atari emulators (one pool steps every
    seed's envs); a JAX env's state is a few numbers per env, counted as nothing."""
    from purejaxdqn.envs.kinds import KINDS
    from purejaxdqn.envs.table import env_entry

    if not KINDS[env_entry(config.env_id).kind].atari:
        return 0
    return ATARI_ENV_BYTES * config.num_envs * len(config.all_seeds)


def check_memory(config: Config) -> int:
    """Refuse a run whose replay or envs cannot fit; return the replay's size in bytes.
    The replay lives on the device and is copied to the host at each checkpoint, so it
    must fit in both; envpool's emulators live on the host. Checked before any env is
    made: 100,000 Atari envs would take the machine's memory (and whatever else runs on
    it: the kernel's OOM killer picks the largest process) before failing."""
    need, envs = replay_bytes(config), envs_bytes(config)
    what = (f"the replay needs {need / 1e9:.1f} GB ({config.replay_capacity:,} transitions"
            f" x {len(config.all_seeds)} seed(s))")
    if envs:
        what += (f" and {config.num_envs * len(config.all_seeds):,} Atari envs about "
                 f"{envs / 1e9:.1f} GB")
    for where, free, total in (("host memory (MemAvailable)", available_host_bytes(),
                                need + envs),
                               ("device memory", available_device_bytes(), need)):
        if free is not None and total > free:
            raise ConfigError(f"{what} but only {free / 1e9:.1f} GB of {where} is free; "
                              "lower --replay-capacity or --num-envs, or train fewer seeds "
                              "at once")
    return need
