"""`purejaxdqn train` as a real subprocess, for the tests that signal or kill it, and a
reader of its checkpoint's host.json that tolerates the moments it is being written."""

from __future__ import annotations

import json
import os
import subprocess
import sys


def start_train(*args, cache: str) -> subprocess.Popen:
    # a persistent compilation cache: the later processes skip most of the jit time
    env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": cache,
           "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0"}
    return subprocess.Popen([sys.executable, "-m", "purejaxdqn", "train", *args], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def checkpoint_host(run: str) -> dict:
    """The checkpoint's host.json, or {} while there is none (not written yet, or being
    renamed into place)."""
    try:
        with open(os.path.join(run, "checkpoint", "host.json")) as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}
