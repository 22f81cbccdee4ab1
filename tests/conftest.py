"""Suite-wide set-up: one persistent XLA compilation cache for the whole test run.

Many tests build the same programs (a CartPole agent, its evaluation, the CLI's
subprocess runs), each in a fresh closure that `jit` cannot recognise; the persistent
cache keys programs by their compiled content, so each is compiled once per run and
loaded afterwards, in this process, the xdist workers and the subprocesses (they
inherit the environment). The same compiled code runs either way: results do not
depend on the cache. A directory given in JAX_COMPILATION_CACHE_DIR is used as it is.
"""

import atexit
import os
import shutil
import sys
import tempfile

if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    _cache = tempfile.mkdtemp(prefix="purejaxdqn-tests-xla-")
    os.environ["JAX_COMPILATION_CACHE_DIR"] = _cache
    # the process that made it removes it (xdist's workers inherit the variable)
    atexit.register(shutil.rmtree, _cache, ignore_errors=True)
# cache every program, however quick to compile or small
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")

if "jax" in sys.modules:  # imported before this file (a plugin): set the options directly
    import jax

    jax.config.update("jax_compilation_cache_dir", os.environ["JAX_COMPILATION_CACHE_DIR"])
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0)
    jax.config.update("jax_persistent_cache_min_entry_size_bytes", -1)
