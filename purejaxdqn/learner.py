"""The train state pytree and the jitted DQN update.

`update(state, batch) -> (state, metrics)` samples nothing itself: it takes a
batch of transitions (obs, action, reward, discount, next_obs, weight),
takes one optimizer step on the TD loss against the frozen target params, then
applies the configured target update.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax

from purejaxdqn.components import losses
from purejaxdqn.components.augmentation import Augmentation
from purejaxdqn.components.networks import Network
from purejaxdqn.components.target_updates import TargetUpdate


@flax.struct.dataclass
class TrainState:
    params: Any
    target_params: Any
    opt_state: Any
    key: jax.Array
    steps: jax.Array  # agent steps taken, all envs
    updates: jax.Array  # gradient updates taken
    episodes: jax.Array  # training episodes finished, all envs (for episode-driven schedules)


class Transitions(NamedTuple):
    """What `update` consumes; the replay's batch has these fields (and more)."""

    obs: jax.Array
    action: jax.Array
    reward: jax.Array
    discount: jax.Array
    next_obs: jax.Array
    weight: jax.Array


def init_train_state(key: jax.Array, network: Network, optimizer: optax.GradientTransformation,
                     example_obs: jax.Array) -> TrainState:
    init_key, key = jax.random.split(key)
    params = network.init(init_key, example_obs)
    return TrainState(
        params=params,
        # A copy, not an alias: the target must stay frozen while params change.
        target_params=jax.tree_util.tree_map(jnp.array, params),
        opt_state=optimizer.init(params),
        key=key,
        steps=jnp.zeros((), jnp.int32),
        updates=jnp.zeros((), jnp.int32),
        episodes=jnp.zeros((), jnp.int32),
    )


def td_errors(params, target_params, batch, apply: Callable, td_rule: Callable,
              target_is_online: bool = False) -> tuple:
    """delta = y - Q(s, a) with y from the frozen target params (no gradient through y).

    y is `td_rule` (a targets.TARGETS entry) vmapped over the batch. A rule that does not
    use Q_online(s', .) leaves it dead code, which XLA removes from the compiled update.
    `target_is_online`: the caller guarantees target_params == params (a hard copy
    after every update, as DrQ's target_update_period = 1), so Q(s', .) is computed
    once instead of twice; the result is the same.
    """
    q = apply(params, batch.obs)
    q_taken = jnp.take_along_axis(q, batch.action[:, None].astype(jnp.int32), axis=-1)[:, 0]
    q_next_target = apply(params if target_is_online else target_params, batch.next_obs)
    q_next_online = q_next_target if target_is_online else apply(params, batch.next_obs)
    y = jax.vmap(td_rule)(batch.reward, batch.discount, q_next_target, q_next_online)
    return jax.lax.stop_gradient(y) - q_taken, q


def make_update(network: Network, optimizer: optax.GradientTransformation, td_rule: Callable,
                loss: Callable, target_update: TargetUpdate,
                augmentation: Augmentation | None = None) -> Callable:
    """Return a pure `update(state, batch) -> (state, metrics)`; wrap it in jit or scan.

    The loss is the mean over the batch of weight * loss(delta) (losses.td_loss). With
    an `augmentation`, obs and next_obs are augmented with independent keys
    split from state.key before the loss (DrQ); without one the key is untouched.
    """

    def loss_fn(params, target_params, batch):
        delta, q = td_errors(params, target_params, batch, network.apply, td_rule,
                             target_update.online_at_update)
        return losses.td_loss(delta, batch.weight, loss), (delta, q)

    def update(state: TrainState, batch) -> tuple[TrainState, dict]:
        if augmentation is not None:
            key, obs_key, next_key = jax.random.split(state.key, 3)
            batch = batch._replace(obs=augmentation.apply(obs_key, batch.obs),
                                   next_obs=augmentation.apply(next_key, batch.next_obs))
            state = state.replace(key=key)
        (loss, (delta, q)), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.target_params, batch)
        step_updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, step_updates)
        updates = state.updates + 1
        target_params = target_update.apply(params, state.target_params, updates)
        metrics = {
            "loss": loss,
            "q_mean": q.mean(),
            "td_abs_mean": jnp.abs(delta).mean(),
            "td_abs_max": jnp.abs(delta).max(),
            "td_abs": jnp.abs(delta),  # per sample, for prioritized replay
        }
        new_state = state.replace(params=params, target_params=target_params,
                                  opt_state=opt_state, updates=updates)
        return new_state, metrics

    return update
