"""Tests for purejaxdqn.replay.nstep by hand (gamma 0.5, so every sum is exact)."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from purejaxdqn.replay import nstep


class Ring(NamedTuple):
    reward: jax.Array
    terminated: jax.Array
    truncated: jax.Array
    life_lost: jax.Array
    reset: jax.Array


def _ring(**at) -> Ring:
    """One env, 8 slots, reward r[j] = j; ``at`` sets flags at the given slots."""
    flag = lambda name: jnp.zeros((8, 1), bool).at[jnp.asarray(at.get(name, []), jnp.int32), 0].set(True)  # noqa: E731
    return Ring(jnp.arange(8, dtype=jnp.float32)[:, None], *(flag(f) for f in Ring._fields[1:]))


def _returns(ring, slots, llt, n_step=3):
    slot = jnp.asarray(slots, jnp.int32)
    out = nstep.returns(ring, slot, jnp.zeros_like(slot), n_step, 0.5, llt)
    return [tuple(x) for x in np.stack([np.asarray(a, np.float64) for a in out], axis=1)]


@pytest.mark.parametrize("llt", [False, True])
def test_windows_stop_at_terminal_truncation_and_n(llt):
    ring = _ring(terminated=[3], truncated=[6], life_lost=[2])
    got = _returns(ring, [0, 3, 4, 6], llt)
    from_0 = (1 + 0.5 * 2, 0.0, 2) if llt else (1 + 0.5 * 2 + 0.25 * 3, 0.0, 3)  # life loss / terminal
    assert got == [from_0,
                   (4 + 0.5 * 5 + 0.25 * 6, 0.125, 3),  # m == n: bootstrap with gamma^3
                   (5 + 0.5 * 6, 0.25, 2),  # truncated at 6: bootstrap through it
                   (7 + 0.5 * 0 + 0.25 * 1, 0.125, 3)]  # wraps around the ring


def test_window_stops_before_a_reset_and_n_1_is_one_step():
    ring = _ring(reset=[2])
    # slot 0 stops before the reset; slot 1 -> 2 is no transition (frames.is_valid drops it)
    assert _returns(ring, [0, 1], True) == [(1.0, 0.5, 1), (2 + 0.5 * 3 + 0.25 * 4, 0.125, 3)]
    assert _returns(_ring(terminated=[1]), [0, 1], True, n_step=1) == [(1.0, 0.0, 1), (2.0, 0.5, 1)]
