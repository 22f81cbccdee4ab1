"""The swappable parts of a DQN, each kind with its name -> entry table (registry.Registry):
networks (torsos, heads), TD rules, losses, optimizers, target updates, exploration,
replay sampling, augmentation. Pure functions and small settings dataclasses; they import
only `settings` and `registry`, never the config, the envs or the run."""
