"""Engines: what drives act -> env -> store -> learn between two host events.

* `host` (engines/host.py): one device call per env iteration, envs stepped by envpool
  on CPU threads while the device learns. Every env: Atari, Atari RAM, vector envs,
  and the JAX envs (stepped by a jitted call).
* `fused` (engines/fused.py): K env iterations per device call inside one jitted
  `lax.fori_loop`, for JAX-native envs (gymnax CartPole, Acrobot, MinAtar) and Atari
  through envpool's XLA interface; on a gymnax env the seeds may run in blocks, each
  its own state and call (`seed_block`, `auto_seed_block`).

Which engine a config gets, and building it from the config, is engines/factory.py.
Both are `engines.base.Engine`s (`start`, `advance`, `evaluate`, `checkpoint_extras`/
`restore`, `close`, and `across_seeds`/`iteration` to read the agents out of a carry);
the training loop (train.py) sees nothing else. `--engine auto` takes the
fused engine wherever the env has a JAX implementation: on this 2-core CPU it is
the faster one for the small networks these envs use (benchmarks/results/engines_*.json).
"""

from purejaxdqn.engines.factory import (CPU_ONE_BLOCK_UP_TO, CPU_SEED_BLOCK, ENGINES,
                                        auto_seed_block, exact_by_default, has_envpool_env,
                                        has_xla_atari, make_engine, resolve_engine,
                                        slower_engine_warning, supported_engines, uses_jax_env)

__all__ = ["CPU_ONE_BLOCK_UP_TO", "CPU_SEED_BLOCK", "ENGINES", "auto_seed_block",
           "exact_by_default", "has_envpool_env", "has_xla_atari", "make_engine",
           "resolve_engine", "slower_engine_warning", "supported_engines", "uses_jax_env"]
