"""Optimizers built on optax.

Constructors take plain values, as optax's do; `OPTIMIZERS` maps a name
(Config.optimizer) to the optimizer's settings, whose `build(batch_size)` calls the
constructor with them.
"""

import dataclasses

import optax

from purejaxdqn.registry import Registry
from purejaxdqn.settings import Settings, below_one, positive, setting

OPTIMIZERS: Registry = Registry("optimizer")


def nature_rmsprop(learning_rate: float = 2.5e-4, decay: float = 0.95,
                   min_sq_grad: float = 0.01, batch_size: int = 32) -> optax.GradientTransformation:
    """DeepMind's RMSProp, for a loss that is the *mean* over `batch_size` samples.

    DeepMind (dw = gradient summed over the batch):
        g  = decay g  + (1 - decay) dw
        g2 = decay g2 + (1 - decay) dw^2
        w -= lr dw / sqrt(g2 - g^2 + min_sq_grad)
    This is optax's centered RMSProp with eps inside the sqrt and no momentum.
    With a mean loss every gradient is dw / B, so g and g2 shrink by B and B^2;
    using eps = min_sq_grad / B^2 makes the step identical to the summed form.
    """
    return optax.rmsprop(learning_rate, decay=decay, eps=min_sq_grad / batch_size**2,
                         centered=True, eps_in_sqrt=True, initial_scale=0.0)


def torch_rmsprop(learning_rate: float = 2.5e-4, decay: float = 0.95,
                  eps: float = 0.01) -> optax.GradientTransformation:
    """PyTorch's `RMSprop(centered=True, alpha=decay, eps=eps)`, as Young & Tian's MinAtar
    DQN uses it (kenjyoung/MinAtar examples/dqn.py:282) on a loss averaged over the batch:

        g  = decay g  + (1 - decay) dw
        g2 = decay g2 + (1 - decay) dw^2
        w -= lr dw / (sqrt(g2 - g^2) + eps)

    eps is added OUTSIDE the square root (DeepMind's RMSProp, `nature_rmsprop`, adds it
    inside), and no batch-size rescaling: PyTorch also averages the loss.
    """
    return optax.rmsprop(learning_rate, decay=decay, eps=eps, centered=True,
                         eps_in_sqrt=False, initial_scale=0.0)


def adam(learning_rate: float = 1e-4, eps: float = 1e-8) -> optax.GradientTransformation:
    return optax.adam(learning_rate, eps=eps)


@dataclasses.dataclass(frozen=True)
class LearningRate(Settings):
    learning_rate: float = setting(2.5e-4, "optimizer step size", positive)


@dataclasses.dataclass(frozen=True)
class RMSPropSettings(LearningRate):
    rmsprop_decay: float = setting(0.95, "RMSProp moving-average decay", below_one)
    rmsprop_min_sq_grad: float = setting(
        0.01, "RMSProp epsilon, DeepMind's constant for a summed loss (torch_rmsprop: "
              "PyTorch's eps, for a mean loss)", positive)


@OPTIMIZERS.register("nature_rmsprop")
@dataclasses.dataclass(frozen=True)
class NatureRMSProp(RMSPropSettings):
    def build(self, batch_size: int) -> optax.GradientTransformation:
        return nature_rmsprop(self.learning_rate, self.rmsprop_decay, self.rmsprop_min_sq_grad,
                              batch_size)


@OPTIMIZERS.register("adam")
@dataclasses.dataclass(frozen=True)
class Adam(LearningRate):
    adam_eps: float = setting(1e-8, "Adam epsilon", positive)

    def build(self, batch_size: int) -> optax.GradientTransformation:
        return adam(self.learning_rate, self.adam_eps)


@OPTIMIZERS.register("torch_rmsprop")
@dataclasses.dataclass(frozen=True)
class TorchRMSProp(RMSPropSettings):
    def build(self, batch_size: int) -> optax.GradientTransformation:
        return torch_rmsprop(self.learning_rate, self.rmsprop_decay, self.rmsprop_min_sq_grad)
