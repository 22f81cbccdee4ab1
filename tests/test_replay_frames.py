"""Tests for purejaxdqn.replay.frames by hand: stack rebuild and validity rules 1-3."""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.replay import frames


class Ring(NamedTuple):
    first: jax.Array
    reset: jax.Array
    write_index: jax.Array
    count: jax.Array


def _col(*bits):
    return jnp.asarray(bits, bool)[:, None]  # [C, 1]: one env


def test_write_sets_one_slot_in_the_slot_dtype():
    slots = frames.write(jnp.zeros((4, 2), jnp.int32), jnp.int32(2), np.array([1.9, 3.0]))
    np.testing.assert_array_equal(np.asarray(slots), [[0, 0], [0, 0], [1, 3], [0, 0]])
    assert slots.dtype == jnp.int32


def test_stack_walks_back_and_repeats_the_first_frame():
    first = _col(True, False, False, True, False, False)
    env = jnp.zeros(4, jnp.int32)
    slots, back = frames.stack_slots(first, jnp.array([2, 4, 0, 3]), env, 4)
    np.testing.assert_array_equal(np.asarray(slots), [[0, 0, 1, 2], [3, 3, 3, 4], [0, 0, 0, 0], [3, 3, 3, 3]])
    np.testing.assert_array_equal(np.asarray(back), [2, 1, 0, 0])
    # no first in sight: the walk wraps around the ring
    slots, back = frames.stack_slots(_col(*[False] * 6), jnp.array([1]), jnp.zeros(1, jnp.int32), 4)
    np.testing.assert_array_equal(np.asarray(slots), [[4, 5, 0, 1]])
    np.testing.assert_array_equal(np.asarray(back), [3])


def test_stacks_gathers_frames_and_drops_the_axis_without_stacking():
    ring_frames = jnp.arange(6 * 2 * 3).reshape(6, 2, 3)  # [C, N, D]
    first = jnp.zeros((6, 2), bool).at[1, 1].set(True)
    slot, env = jnp.array([2, 2]), jnp.array([0, 1])
    obs = frames.stacks(ring_frames, first, slot, env, 3)
    np.testing.assert_array_equal(np.asarray(obs), np.asarray(ring_frames)[[[0, 1, 2], [1, 1, 2]], [[0], [1]]])
    assert frames.stacks(ring_frames, first, slot, env, 1).shape == (2, 3)


def test_validity_rules():
    # slots 0..4 written; the stack restarts at 0 and 3; slot 3 is an auto-reset
    ring = Ring(first=_col(True, False, False, True, False, False),
                reset=_col(False, False, False, True, False, False),
                write_index=jnp.int32(5), count=jnp.int32(5))
    slot, env = jnp.arange(6), jnp.zeros(6, jnp.int32)
    # 4: its next slot is not written (rule 1); 5: never written; 2: 2 -> 3 is a reset (rule 2)
    np.testing.assert_array_equal(np.asarray(frames.is_valid(ring, slot, env, 4, 1)), [1, 1, 0, 1, 0, 0])
    # n = 2: slot 3 needs slots 4 and 5
    np.testing.assert_array_equal(np.asarray(frames.is_valid(ring, slot, env, 4, 2)), [1, 1, 0, 0, 0, 0])
    # full ring, newest slot 0, no first: a stack reaching into the overwritten slot 1 is gone (rule 3)
    full = Ring(first=_col(*[False] * 6), reset=_col(*[False] * 6), write_index=jnp.int32(1), count=jnp.int32(6))
    np.testing.assert_array_equal(np.asarray(frames.is_valid(full, slot, env, 4, 1)), [0, 0, 0, 0, 1, 1])
    np.testing.assert_array_equal(np.asarray(frames.is_valid(full, slot, env, 1, 1)), [0, 1, 1, 1, 1, 1])
