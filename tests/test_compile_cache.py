"""The persistent compilation cache the training entry points turn on."""

import jax

from purejaxdqn.run import compile_cache


def test_unset_variable_gives_the_user_cache_dir(monkeypatch, tmp_path):
    updates = {}
    monkeypatch.setattr(jax.config, "update", lambda name, value: updates.update({name: value}))
    monkeypatch.delenv("JAX_COMPILATION_CACHE_DIR", raising=False)
    monkeypatch.delenv("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    path = compile_cache.enable()
    assert path == str(tmp_path / "purejaxdqn" / "xla")
    assert updates == {"jax_compilation_cache_dir": path,
                       "jax_persistent_cache_min_compile_time_secs":
                           compile_cache.MIN_COMPILE_SECONDS}

def test_home_cache_without_xdg(monkeypatch, tmp_path):
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert compile_cache.default_dir() == str(tmp_path / ".cache" / "purejaxdqn" / "xla")

def test_a_set_variable_is_jax_s_own_and_empty_turns_it_off(monkeypatch, tmp_path):
    updates = {}
    monkeypatch.setattr(jax.config, "update", lambda name, value: updates.update({name: value}))
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", str(tmp_path))
    assert compile_cache.enable() == str(tmp_path)
    monkeypatch.setenv("JAX_COMPILATION_CACHE_DIR", "")
    assert compile_cache.enable() is None
    assert updates == {}  # JAX reads the variable itself; nothing overridden
