"""The train state pytree and the jitted DQN update.

`update(state, batch) -> (state, metrics)` samples nothing itself: it takes a
batch of transitions (obs, action, reward, discount, next_obs, weight),
takes one optimizer step on the objective (components/objectives.py) against the frozen
target params, then applies the configured target update.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import flax
import jax
import jax.numpy as jnp
import optax

from purejaxdqn.components.augmentation import Augmentation
from purejaxdqn.components.networks import Network
from purejaxdqn.components.objectives import Objective
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


def make_update(network: Network, optimizer: optax.GradientTransformation,
                objective: Objective, target_update: TargetUpdate,
                augmentation: Augmentation | None = None) -> Callable:
    """Return a pure `update(state, batch) -> (state, metrics)`; wrap it in jit or scan.

    The loss is the mean over the batch of weight * the objective's per-sample loss
    (importance weights; all ones for uniform replay). With an `augmentation`, obs and
    next_obs are augmented with independent keys split from state.key before the loss
    (DrQ); a `network.stochastic` network gets a key split from state.key for the
    objective's forward passes. Otherwise the key is untouched, so a deterministic agent
    draws the same random numbers as before the objective had a key.
    metrics["priority"] (per sample) is the objective's, for prioritized replay.
    """

    def loss_fn(params, target_params, batch, key):
        per_sample, aux = objective(params, target_params, batch, key)
        return jnp.mean(batch.weight * per_sample), aux

    def update(state: TrainState, batch) -> tuple[TrainState, dict]:
        if augmentation is not None:
            key, obs_key, next_key = jax.random.split(state.key, 3)
            batch = batch._replace(obs=augmentation.apply(obs_key, batch.obs),
                                   next_obs=augmentation.apply(next_key, batch.next_obs))
            state = state.replace(key=key)
        objective_key = None
        if network.stochastic:
            key, objective_key = jax.random.split(state.key)
            state = state.replace(key=key)
        (loss, aux), grads = jax.value_and_grad(loss_fn, has_aux=True)(
            state.params, state.target_params, batch, objective_key)
        step_updates, opt_state = optimizer.update(grads, state.opt_state, state.params)
        params = optax.apply_updates(state.params, step_updates)
        updates = state.updates + 1
        target_params = target_update.apply(params, state.target_params, updates)
        metrics = {"loss": loss, "q_mean": aux.q_values.mean(), **aux.metrics,
                   "priority": aux.priority}  # per sample, for prioritized replay
        new_state = state.replace(params=params, target_params=target_params,
                                  opt_state=opt_state, updates=updates)
        return new_state, metrics

    return update
