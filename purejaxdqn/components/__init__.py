"""The swappable parts of a DQN, each kind with its name -> entry table (registry.Registry):
networks (torsos, heads), TD rules, losses, optimizers, target updates, exploration,
replay sampling, augmentation. Pure functions and small settings dataclasses; they import
only `settings` and `registry`, never the config, the envs or the run."""

from purejaxdqn.components import (augmentation, exploration, losses, networks, objectives,
                                   optimizers, sampling, target_updates, targets)
from purejaxdqn.registry import Registry

# Every kind's table, one per Config field that chooses an entry (`Registry.field`): the
# Config holds the chosen names and the settings these entries declare.
REGISTRIES: tuple[Registry, ...] = (
    objectives.OBJECTIVES, targets.TARGETS, losses.LOSSES, optimizers.OPTIMIZERS,
    target_updates.TARGET_UPDATES, exploration.SCHEDULES, sampling.SAMPLING,
    augmentation.AUGMENTATIONS, networks.TORSOS, networks.HEADS)
