"""The persistent XLA compilation cache that training entry points turn on.

A run compiles its programs (the fused loop alone takes 3-4 s on a 2-core CPU, the
whole set-up of a short run); the next run of the same shapes (another seed, a
resume, an ablation's next variant) loads them from disk instead. JAX keys each
entry by the compiled program, the backend and the JAX version, so a hit runs the
same code as a fresh compile: results do not depend on the cache.

`JAX_COMPILATION_CACHE_DIR` decides where it lives, as in JAX itself; set empty it
turns the cache off. Unset, it is `$XDG_CACHE_HOME/purejaxdqn/xla` (default
`~/.cache/purejaxdqn/xla`). Delete the directory to reclaim its space.
"""

from __future__ import annotations

import os

# Programs that compile faster than this are not worth a disk read.
MIN_COMPILE_SECONDS = 0.1


def default_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "purejaxdqn", "xla")


def enable() -> str | None:
    """Turn the cache on (see the module docstring); return its directory, or None when
    JAX_COMPILATION_CACHE_DIR is set empty (off). Idempotent; call before compiling."""
    import jax

    path = os.environ.get("JAX_COMPILATION_CACHE_DIR")
    if path == "":
        return None
    if path is None:
        path = default_dir()
        jax.config.update("jax_compilation_cache_dir", path)
        if "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS" not in os.environ:
            jax.config.update("jax_persistent_cache_min_compile_time_secs",
                              MIN_COMPILE_SECONDS)
    return path
