"""n-step returns and discounts of sampled transitions, vectorised over m.

For m = 1..n: R += gamma^(m-1) r[j+m]; if terminated[j+m] (or life_lost[j+m]
when ``life_loss_terminal``) then discount = 0 and stop; elif truncated[j+m]
or m == n or reset[j+m+1] then discount = gamma^m, next_obs = stack at j+m,
stop. The ``reset`` stop matters where a stream restarts without its game
ending (fresh envs after a non-exact resume): the window never runs into the
next game; it bootstraps from the last state seen, like a truncation.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp

Array = jax.Array


def returns(ring: Any, slot: Array, env: Array, n_step: int, gamma: float,
            life_loss_terminal: bool) -> tuple[Array, Array, Array]:
    """(R, discount, m*) for the transitions at ``slot``/``env`` ([B] each).

    ``ring`` is any record with [C, N] ``reward``, ``terminated``,
    ``truncated``, ``life_lost`` and ``reset`` (e.g. ``buffer.ReplayState``);
    m* in 1..n is where the window stopped, so next_obs is the stack at j+m*.
    """
    capacity = ring.reward.shape[0]
    m = jnp.arange(1, n_step + 1)
    ahead = (slot[:, None] + m) % capacity
    envs = env[:, None]
    rewards = ring.reward[ahead, envs]
    ended = ring.terminated[ahead, envs]
    if life_loss_terminal:
        ended = ended | ring.life_lost[ahead, envs]
    cut = ring.reset[(ahead + 1) % capacity, envs] & (m < n_step)  # next slot starts another stream
    stop = ended | ring.truncated[ahead, envs] | (m == n_step) | cut
    running = (jnp.cumsum(stop, axis=1) - stop) == 0  # no stop strictly before m
    powers = jnp.float32(gamma) ** jnp.arange(n_step, dtype=jnp.float32)
    reward = jnp.sum(jnp.where(running, powers * rewards, 0.0), axis=1)
    stop_at = jnp.argmax(stop, axis=1)  # first stop; m == n guarantees one
    m_star = stop_at + 1
    terminal = jnp.take_along_axis(ended, stop_at[:, None], axis=1)[:, 0]
    discount = jnp.where(terminal, 0.0, jnp.float32(gamma) ** m_star.astype(jnp.float32))
    return reward, discount, m_star
