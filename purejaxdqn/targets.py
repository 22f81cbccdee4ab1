"""Bootstrap targets, batched over transitions.

Termination and truncation enter only through `discount`: the replay gives
gamma^m for a transition that bootstraps (truncation included) and 0 for one
that reached a terminal (or a lost life, when that is terminal for learning).
For n-step returns pass the precomputed n-step reward sum and gamma^n.
"""

import jax
import jax.numpy as jnp


def q_learning_target(reward: jax.Array, discount: jax.Array,
                      q_next_target: jax.Array) -> jax.Array:
    """y = r + discount * max_a' Q_target(s', a').  Shapes: (B,), (B,), (B, A) -> (B,)."""
    return reward + discount * jnp.max(q_next_target, axis=-1)


def double_q_target(reward: jax.Array, discount: jax.Array, q_next_target: jax.Array,
                    q_next_online: jax.Array) -> jax.Array:
    """van Hasselt et al. (2016): y = r + discount * Q_target(s', argmax_a' Q_online(s', a'))."""
    best = jnp.argmax(q_next_online, axis=-1)
    return reward + discount * jnp.take_along_axis(q_next_target, best[:, None], axis=-1)[:, 0]


# n-step targets are the same functions fed the n-step reward sum and discount;
# the alias keeps call sites self-describing.
n_step_q_learning_target = q_learning_target
