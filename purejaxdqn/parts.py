"""The config's components, built once into ready parts.

`build(config, num_actions, obs_shape, obs_dtype)` looks each chosen component up in its
registry, gives it its declared settings from the config, and returns `Parts`: plain
functions and flax/optax objects. The learner and the agent receive these parts and
never read a component name; swapping a component is changing what goes in here.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax.numpy as jnp
import optax

from purejaxdqn.components import (augmentation, exploration, losses, networks, objectives,
                                   optimizers, sampling, target_updates, targets)
from purejaxdqn.config import Config
from purejaxdqn.learner import make_update


class Parts(NamedTuple):
    network: networks.Network
    optimizer: optax.GradientTransformation
    objective: objectives.Objective  # (params, target_params, batch, key) -> (loss [B], aux)
    target_update: target_updates.TargetUpdate
    exploration: exploration.Exploration
    policy: Callable  # (params, obs, key, epsilon) -> (actions, q_values): acting
    sampling: sampling.Sampling
    augmentation: augmentation.Augmentation | None


def build_network(config: Config, num_actions: int, obs_shape: Sequence[int],
                  obs_dtype: Any = jnp.float32) -> networks.Network:
    """The Q-network the config asks for, for observations of `obs_shape` (no batch)."""
    torso = config.component(networks.TORSOS).build(obs_shape, obs_dtype)
    head = config.component(networks.HEADS)
    return networks.make_network(torso, head.build(num_actions), stochastic=head.noisy,
                                 samples=head.samples)


def build_optimizer(config: Config) -> optax.GradientTransformation:
    return config.component(optimizers.OPTIMIZERS).build(config.batch_size)


def build_target_update(config: Config) -> target_updates.TargetUpdate:
    return config.component(target_updates.TARGET_UPDATES).build(config.steps_per_update)


def build_exploration(config: Config) -> exploration.Exploration:
    schedule = config.component(exploration.SCHEDULES)
    return exploration.make_exploration(schedule.build(config.warmup_steps))


def build_sampling(config: Config) -> sampling.Sampling:
    return config.component(sampling.SAMPLING).build(config.total_steps)


def build_augmentation(config: Config) -> augmentation.Augmentation | None:
    """None when config.augmentation is "none": the update then uses the batch as sampled."""
    return config.component(augmentation.AUGMENTATIONS).build()


def build_objective(config: Config, network: networks.Network,
                    target_update: target_updates.TargetUpdate) -> objectives.Objective:
    """The config's objective, bound to the network, the config's TD rule, loss and
    next-action rule (those objectives that use them) and whether the target is the online
    net at every update."""
    return config.component(objectives.OBJECTIVES).build(
        network, config.component(targets.TARGETS), config.component(losses.LOSSES),
        target_update.online_at_update, targets.NEXT_ACTIONS.get(config.target))


def build_update(config: Config, network: networks.Network,
                 augmentation: augmentation.Augmentation | None = None) -> Callable:
    """learner.make_update with the config's optimizer, objective and target update;
    for the learner alone (tests, benchmarks); `build` gives the agent all its parts."""
    target_update = build_target_update(config)
    return make_update(network, build_optimizer(config),
                       build_objective(config, network, target_update), target_update,
                       augmentation)


def build(config: Config, num_actions: int, obs_shape: Sequence[int],
          obs_dtype: Any = jnp.float32) -> Parts:
    network = build_network(config, num_actions, obs_shape, obs_dtype)
    target_update = build_target_update(config)
    explore = build_exploration(config)
    return Parts(
        network=network,
        optimizer=build_optimizer(config),
        objective=build_objective(config, network, target_update),
        target_update=target_update,
        exploration=explore,
        policy=exploration.make_policy(network, explore.select),
        sampling=build_sampling(config),
        augmentation=build_augmentation(config),
    )
