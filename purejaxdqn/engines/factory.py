"""Which engine a config gets, and building it: the factory behind `engines`.

`resolve_engine` reads `--engine` against what the env supports; `make_engine` builds
the chosen engine with every part it runs (envs, agent, evaluation) from the Config
once, so the engines themselves never read a Config. The package's face
(`purejaxdqn.engines`) re-exports these names.
"""

from __future__ import annotations

from purejaxdqn.config import Config, ConfigError
from purejaxdqn.envs.kinds import KINDS
from purejaxdqn.envs.table import EnvEntry, env_entry, make_jax_env

ENGINES = ("auto", "host", "fused")


def _entry(config: Config) -> EnvEntry | None:
    """The env's entry in the env table; None for an unknown env (validation says so)."""
    try:
        return env_entry(config.env_id)
    except ConfigError:
        return None


def has_jax_env(config: Config) -> bool:
    """The env has a JAX implementation (the fused engine can run it)."""
    entry = _entry(config)
    return entry is not None and entry.jax is not None


def has_envpool_env(config: Config) -> bool:
    """envpool has this env (the host engine steps it on CPU threads)."""
    entry = _entry(config)
    return entry is not None and entry.envpool is not None


def has_xla_atari(config: Config) -> bool:
    """Atari (pixels or RAM): envpool's XLA interface runs it inside the fused loop."""
    entry = _entry(config)
    return entry is not None and entry.envpool is not None and KINDS[entry.kind].atari


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


# On XLA:CPU, when the config leaves it to us: blocks of CPU_SEED_BLOCK seeds once there
# are more than CPU_ONE_BLOCK_UP_TO (see auto_seed_block).
CPU_SEED_BLOCK = 4
CPU_ONE_BLOCK_UP_TO = 16


def auto_seed_block(num_seeds: int) -> int:
    """Seeds per block of the fused engine (0: one block), as measured on XLA:CPU
    (benchmarks/results/seeds_blocks_cpu.json, MinAtar, total agent steps/s): 64 seeds
    run at 873 in one block, 992 in blocks of 16 and 1,273 in blocks of 4 (1.91x one
    seed, above 16 seeds in one block: 1,087); at 16 seeds one block (1,087) and blocks
    of 4 (1,030) are close. A seed's update costs more once every seed's state outgrows
    the cache (seed_limit_cpu.json); a small block's state stays in it. Elsewhere one
    block: an accelerator is fed best by one large program."""
    import jax

    if jax.default_backend() != "cpu" or num_seeds <= CPU_ONE_BLOCK_UP_TO:
        return 0
    return CPU_SEED_BLOCK


def make_engine(config: Config, seeds, segment: int = 0, sharding=None, overlap: bool = True,
                **options):
    """The engine for `config` (see `resolve_engine`), with everything it runs built here
    from the config, once: every seed's envs (env seeds of `segment`, see
    envs.envpool.env_seed), the agent for their spec (parts built once; `sharding` from
    seed_axis.seed_sharding places the seed axis) and the evaluation. The engines receive
    these and never read the Config. `overlap` (host: envs step while the device learns)
    means nothing to the fused engine, whose loop has no host side. `options` go to the
    engine: host: timer, jax_env, budget_s; fused: chunk_seconds, max_chunk."""
    import functools

    from purejaxdqn.agent import make_agent
    from purejaxdqn.envs.envpool import env_seed
    from purejaxdqn.evaluation import make_evaluator

    seeds = tuple(seeds)
    env_seeds = [env_seed(s, config.num_envs, "train", segment) for s in seeds]
    engine = resolve_engine(config)
    if engine == "fused":
        from purejaxdqn.engines.fused import FusedEngine

        env = _fused_env(config, env_seeds, sharding)
        agent = make_agent(config, env.spec, sharding)
        evaluate = functools.partial(make_evaluator, config, agent.network, env.host is None)
        # sharded seeds run as one program: the agent's jitted functions are placed for
        # all of them
        block = 0 if sharding is not None else config.seed_block or auto_seed_block(len(seeds))
        return FusedEngine(env, agent, seeds, evaluate, config.chunk_iterations,
                           seed_block=block, **options)
    from purejaxdqn.engines.host import HostEngine
    from purejaxdqn.envs.envpool import EnvGroup
    from purejaxdqn.envs.jax_envs import JaxEnvGroup

    jax_env = options.pop("jax_env", uses_jax_env(config, "host"))
    envs = JaxEnvGroup(make_jax_env(config, config.num_envs, config.max_episode_steps),
                       env_seeds) if jax_env else EnvGroup(config, seeds, segment=segment)
    agent = make_agent(config, envs.spec, sharding)
    evaluate = functools.partial(make_evaluator, config, agent.network, jax_env)
    return HostEngine(envs, agent, seeds, evaluate, jax_env=jax_env, overlap=overlap, **options)


def _fused_env(config: Config, env_seeds: list[int], sharding):
    """The fused loop's env over the seed axis: a gymnax env (vmapped; its reset jitted
    with the seed axis placed by `sharding`), or Atari through envpool's XLA interface
    (one envpool per seed)."""
    import jax
    import jax.numpy as jnp

    from purejaxdqn.engines.fused import FusedEnv
    from purejaxdqn.envs.jax_envs import env_key

    if has_jax_env(config):
        env = make_jax_env(config, config.num_envs, config.max_episode_steps)
        placed = {} if sharding is None else {"in_shardings": sharding,
                                              "out_shardings": sharding}
        reset = jax.jit(jax.vmap(env.reset), **placed)
        keys = jnp.stack([env_key(s) for s in env_seeds])
        return FusedEnv(env.spec, lambda: reset(keys), jax.vmap(env.step))
    from purejaxdqn.envs.envpool_xla import XlaAtari

    atari = XlaAtari(config, env_seeds, config.max_episode_steps)
    return FusedEnv(atari.spec, atari.reset, atari.step, host=atari)
