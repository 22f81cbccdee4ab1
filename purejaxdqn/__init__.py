"""purejaxdqn: Nature DQN as pure JAX functions over pytrees."""

__version__ = "0.1.0"
