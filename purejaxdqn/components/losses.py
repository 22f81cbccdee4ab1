"""TD losses over a batch of TD errors delta = y - Q(s, a).

Reduction: the **mean** over the batch, weighted by importance weights
(all ones for uniform replay). A mean gives gradients 1/B of DeepMind's summed
gradient; `optimizers.nature_rmsprop` compensates by using eps = 0.01 / B**2 so
the update equals DeepMind's exactly (see its docstring).

`LOSSES` maps a name (Config.loss) to an elementwise loss, delta -> loss(delta).
"""

from typing import Callable

import jax
import jax.numpy as jnp

from purejaxdqn.registry import Registry

LOSSES: Registry[Callable[[jax.Array], jax.Array]] = Registry("loss")


@LOSSES.register("huber")
def huber(delta: jax.Array, threshold: float = 1.0) -> jax.Array:
    """Elementwise: 0.5 d^2 if |d| <= k else k (|d| - 0.5 k).

    Its gradient w.r.t. d is clip(d, -k, k): Nature's "error clipping".
    """
    abs_delta = jnp.abs(delta)
    quadratic = jnp.minimum(abs_delta, threshold)
    return 0.5 * quadratic**2 + threshold * (abs_delta - quadratic)


@LOSSES.register("mse")
def squared(delta: jax.Array) -> jax.Array:
    """Elementwise 0.5 d^2 (gradient d, unclipped)."""
    return 0.5 * delta**2


def td_loss(delta: jax.Array, weight: jax.Array,
            loss: Callable[[jax.Array], jax.Array] = huber) -> jax.Array:
    """mean_i weight_i * loss(delta_i) (loss: an elementwise LOSSES entry)."""
    return jnp.mean(weight * loss(delta))
