"""The config's components, built once into ready parts.

`build(config, num_actions, obs_shape, obs_dtype)` looks each chosen component up in its
registry, gives it its declared settings from the config, and returns `Parts`: plain
functions and flax/optax objects. The learner and the agent receive these parts and
never read a component name; swapping a component is changing what goes in here.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple, Sequence

import jax
import jax.numpy as jnp
import optax

from purejaxdqn.components import (augmentation, exploration, losses, networks, optimizers,
                                   sampling, target_updates, targets)
from purejaxdqn.config import Config
from purejaxdqn.learner import make_update


class Parts(NamedTuple):
    network: networks.Network
    optimizer: optax.GradientTransformation
    td_rule: Callable[..., jax.Array]  # (reward, discount, q_next_target, q_next_online) -> y
    loss: Callable[[jax.Array], jax.Array]  # elementwise, of the TD error
    target_update: target_updates.TargetUpdate
    exploration: exploration.Exploration
    sampling: sampling.Sampling
    augmentation: augmentation.Augmentation | None


def build_network(config: Config, num_actions: int, obs_shape: Sequence[int],
                  obs_dtype: Any = jnp.float32) -> networks.Network:
    """The Q-network the config asks for, for observations of `obs_shape` (no batch)."""
    torso = config.component(networks.TORSOS).build(obs_shape, obs_dtype)
    head = config.component(networks.HEADS, "dueling" if config.dueling else "plain")
    return networks.make_network(torso, head.build(num_actions))


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


def build_update(config: Config, network: networks.Network,
                 augmentation: augmentation.Augmentation | None = None) -> Callable:
    """learner.make_update with the config's optimizer, TD rule, loss and target update;
    for the learner alone (tests, benchmarks); `build` gives the agent all its parts."""
    return make_update(network, build_optimizer(config), config.component(targets.TARGETS),
                       config.component(losses.LOSSES), build_target_update(config),
                       augmentation)


def build(config: Config, num_actions: int, obs_shape: Sequence[int],
          obs_dtype: Any = jnp.float32) -> Parts:
    return Parts(
        network=build_network(config, num_actions, obs_shape, obs_dtype),
        optimizer=build_optimizer(config),
        td_rule=config.component(targets.TARGETS),
        loss=config.component(losses.LOSSES),
        target_update=build_target_update(config),
        exploration=build_exploration(config),
        sampling=build_sampling(config),
        augmentation=build_augmentation(config),
    )
