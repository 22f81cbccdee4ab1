"""The frame ring: one frame per slot, frame stacks rebuilt by walking back.

A ring holds ``C`` slots per env; the arrays are [C, N, ...] and a slot is
written once per env iteration. Only the newest frame of each stack is
stored, so an Atari transition costs one 84x84 frame instead of eight. A
stack is rebuilt by walking back from a slot, stopping at ``first``:

    idx_0 = j,   idx_k = idx_{k-1} if first[idx_{k-1}] else idx_{k-1} - 1,

ordered oldest..newest with the newest last, exactly like envpool's stack.

Validity. The transition at slot ``j`` (stack at j, action_j) is valid iff
  1. slots j .. j+n are written (so it becomes valid when j+n is written),
  2. ``reset[j+1]`` is False (envpool's auto-reset pair is no transition),
  3. every frame of the stack at j is still in the ring.

The functions read a *ring*: any record with [C, N] ``first`` and ``reset``
and scalar ``write_index`` (next slot to write) and ``count`` (slots written
per env, saturating at C), such as ``buffer.ReplayState``.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array


def write(slots: Array, index: Array, value: Any) -> Array:
    """``slots`` [C, ...] with slot ``index`` set to ``value`` (cast to its dtype)."""
    return jax.lax.dynamic_update_index_in_dim(slots, jnp.asarray(value, slots.dtype), index, 0)


def stack_slots(first: Array, slot: Array, env: Array, frame_stack: int) -> tuple[Array, Array]:
    """Slots of the frame stack ending at ``slot`` ([..., S], oldest..newest)
    and how many steps back it reaches (to test it is still in the ring)."""
    capacity = first.shape[0]
    slots, back = [slot], jnp.zeros_like(slot)
    for _ in range(frame_stack - 1):
        cur = slots[-1]
        stay = first[cur, env]  # stack restarts here: repeat this frame
        slots.append(jnp.where(stay, cur, (cur - 1) % capacity))
        back = back + (~stay).astype(back.dtype)
    return jnp.stack(slots[::-1], axis=-1), back


def stacks(frames: Array, first: Array, slot: Array, env: Array, frame_stack: int) -> Array:
    """Observations at ``slot``/``env`` ([B]): [B, S, *frame] (oldest..newest),
    or [B, *frame] with no stack axis when ``frame_stack`` is 1."""
    obs = frames[stack_slots(first, slot, env, frame_stack)[0], env[:, None]]  # [B, S, *frame]
    return obs[:, 0] if frame_stack == 1 else obs


def is_valid(ring: Any, slot: Array, env: Array, frame_stack: int, n_step: int) -> Array:
    """Rules 1-3 from scratch for the transition at (slot, env).

    Ages count back from the newest slot (age 0); a slot is in the ring
    iff age < count. Walking the stack only moves to older slots, so the
    stack is intact iff its oldest frame's age < count.
    """
    capacity = ring.first.shape[0]
    age = (ring.write_index - 1 - slot) % capacity
    _, back = stack_slots(ring.first, slot, env, frame_stack)
    return (age >= n_step) & (age + back < ring.count) & ~ring.reset[(slot + 1) % capacity, env]
