"""Engines: what drives act -> env -> store -> learn between two host events.

* `host` (engines/host.py): one device call per env iteration, envs stepped by envpool
  on CPU threads while the device learns. Every env: Atari, Atari RAM, vector envs,
  and the JAX envs (stepped by a jitted call).
* `fused` (engines/fused.py): K env iterations per device call inside one jitted
  `lax.scan`, for JAX-native envs (gymnax CartPole, Acrobot, MinAtar).

Both are `engines.base.Engine`s (`start`, `advance`, `evaluate`, `checkpoint_extras`/
`restore`, `close`); the training loop (train.py) sees nothing else. `--engine auto` takes the
fused engine wherever the env has a JAX implementation: on this 2-core CPU it is
the faster one for the small networks these envs use (benchmarks/results/engines_*.json).
"""

from __future__ import annotations

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.envpool import resolve_env_id
from purejaxdqn.envs.jax_envs import has_jax_env
from purejaxdqn.envs.kinds import KINDS

ENGINES = ("auto", "host", "fused")


def has_envpool_env(config: Config) -> bool:
    try:
        return KINDS[resolve_env_id(config.env_id)[0]].envpool
    except ConfigError:
        return False


def has_xla_atari(config: Config) -> bool:
    """Atari (pixels or RAM): envpool's XLA interface runs it inside the fused loop."""
    try:
        return KINDS[resolve_env_id(config.env_id)[0]].atari
    except ConfigError:
        return False


def supported_engines(config: Config) -> tuple[str, ...]:
    return ("host", "fused") if has_jax_env(config) or has_xla_atari(config) else ("host",)


def resolve_engine(config: Config) -> str:
    """The engine `config.engine` means for this env; ConfigError if it cannot run it.
    auto: fused for the JAX envs, host for envpool's (Atari included: on XLA:CPU the
    Nature CNN's gradients run ~8x slower inside a loop; see benchmarks/results/
    engines_cpu.json. No accelerator was available to measure the other way round)."""
    if config.engine == "auto":
        return "fused" if has_jax_env(config) else "host"
    if config.engine not in supported_engines(config):
        raise ConfigError(f"{config.env_id} has no {config.engine} engine; engines for it: "
                          f"{', '.join(supported_engines(config))} (or auto)")
    return config.engine


def slower_engine_warning(config: Config) -> str | None:
    """A line for `--engine fused` on Atari on XLA:CPU, where it was measured slower than
    the host engine (0.18-0.19x, benchmarks/results/engines_cpu.json: the Nature CNN's
    gradients inside a loop); None elsewhere. A warning, not a refusal: the run is
    correct, and the fused engine may be the faster one on an accelerator."""
    if config.engine != "fused" or not has_xla_atari(config):
        return None
    import jax

    if jax.default_backend() != "cpu":
        return None
    return ("--engine fused on Atari runs at about 0.2x the host engine's speed on this "
            "CPU backend (benchmarks/results/engines_cpu.json); --engine auto picks host")


def exact_by_default(config: Config) -> bool:
    """Whether every resume of this config continues the same games without
    --exact-resume: the fused engine on a JAX env saves the env state itself. Whether an
    engine can resume exactly at all is its `resumes_exactly` (engines/base.py)."""
    return resolve_engine(config) == "fused" and has_jax_env(config)


def uses_jax_env(config: Config, engine: str) -> bool:
    """The host engine takes envpool's env where it has one (CartPole, Acrobot) and the
    JAX env otherwise (MinAtar); the fused engine the JAX env where there is one."""
    if engine == "fused":
        return has_jax_env(config)
    return not has_envpool_env(config)


def make_engine(config: Config, seeds, segment: int = 0, sharding=None, overlap: bool = True,
                **options):
    """The engine for `config` (see `resolve_engine`). `overlap` (host: envs step while
    the device learns) means nothing to the fused engine, whose loop has no host side.
    `options` go to the engine: host: timer, jax_env; fused: chunk_seconds, max_chunk."""
    engine = resolve_engine(config)
    if engine == "fused":
        from purejaxdqn.engines.fused import FusedEngine

        return FusedEngine(config, seeds, segment, sharding, **options)
    from purejaxdqn.engines.host import HostEngine

    options.setdefault("jax_env", uses_jax_env(config, "host"))
    return HostEngine(config, seeds, segment, sharding, overlap=overlap, **options)
