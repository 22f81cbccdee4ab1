"""Q-networks: a torso (Nature CNN or MLP) and a head (plain or dueling).

A network is a `Network(init, apply)` pair of pure functions:
`params = init(key, example_obs)`, `q = apply(params, obs)` with q of shape (B, |A|).
`TORSOS` maps a name (Config.torso) to the torso's settings, whose
`build(obs_shape, obs_dtype)` gives the flax module; `HEADS` maps a name ("dueling" when
Config.dueling, else "plain") to the head's settings, whose `build(num_actions)` does.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp

from purejaxdqn.registry import Registry
from purejaxdqn.settings import Settings, all_positive, one_of, positive, setting

TORSOS: Registry = Registry("torso")
HEADS: Registry = Registry("head")


class Network(NamedTuple):
    init: Callable[[jax.Array, jax.Array], Any]
    apply: Callable[[Any, jax.Array], jax.Array]


def conv(features: int, kernel: int, stride: int, im2col: bool, index: int) -> nn.Module:
    """A VALID convolution layer named like flax's own ("Conv_<index>"), so the two ways of
    computing it share parameters and checkpoints: `PatchConv` (im2col) or `nn.Conv`."""
    if im2col:
        return PatchConv(features, (kernel, kernel), (stride, stride), name=f"Conv_{index}")
    return nn.Conv(features, (kernel, kernel), strides=(stride, stride), padding="VALID",
                   name=f"Conv_{index}")


class NatureTorso(nn.Module):
    """Mnih et al. (2015): 32x8x8/4, 64x4x4/2, 64x3x3/1, ReLU, VALID padding.

    Takes uint8 frames (B, stack, 84, 84) as envpool gives them (channels first)
    and scales to [0, 1] inside, so the replay stores bytes, not floats.
    `im2col`: compute the convolutions as patches @ kernel (`PatchConv`).
    """

    im2col: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32) / 255.0  # NCHW -> NHWC
        # Flax defaults to SAME padding; Nature used VALID (7x7x64 = 3136 features).
        x = nn.relu(conv(32, 8, 4, self.im2col, 0)(x))
        x = nn.relu(conv(64, 4, 2, self.im2col, 1)(x))
        x = nn.relu(conv(64, 3, 1, self.im2col, 2)(x))
        return x.reshape(x.shape[0], -1)


class TwoConvTorso(nn.Module):
    """Note 004's network before its head: 32x8x8/4, 64x4x4/2 (VALID), ReLU, Dense(512), ReLU.

    With head_hidden=128 the whole net is the note's conv-conv-512-128-|A|. uint8 frames
    (B, stack, H, W) are scaled to [0, 1] inside (the note feeds raw 0..255 floats).
    """

    im2col: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32) / 255.0  # NCHW -> NHWC
        x = nn.relu(conv(32, 8, 4, self.im2col, 0)(x))
        x = nn.relu(conv(64, 4, 2, self.im2col, 1)(x))
        return nn.relu(nn.Dense(512)(x.reshape(x.shape[0], -1)))


class PatchConv(nn.Module):
    """A VALID convolution computed as patches @ kernel (im2col), with `nn.Conv`'s
    parameters (kernel [kh, kw, C, F], bias [F]) and its result up to float rounding.
    Why: XLA:CPU runs convolution gradients inside a loop (the fused engine's) about 7x
    slower than as a top-level call, while matrix products run at full speed in both
    (measured on this 2-core CPU, MinAtar's 16x3x3 layer: 8-10 ms vs 1.6-2.1 ms per
    update inside a loop). Not everywhere faster: the Nature CNN's update as one call
    runs at 16-18 updates/s with it, 24-29 with XLA's convolutions
    (benchmarks/results/learner_limit_cpu.json), hence `ConvSettings`' per-torso default."""

    features: int
    kernel_size: tuple[int, int] = (3, 3)
    strides: tuple[int, int] = (1, 1)

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:  # NHWC
        (kh, kw), (sh, sw) = self.kernel_size, self.strides
        _, height, width, channels = x.shape
        kernel = self.param("kernel", nn.initializers.lecun_normal(),
                            (kh, kw, channels, self.features))
        bias = self.param("bias", nn.initializers.zeros_init(), (self.features,))
        rows, cols = (height - kh) // sh + 1, (width - kw) // sw + 1
        # patch feature (i, j, c) is kernel row (i, j, c): the order of kernel.reshape
        patches = jnp.concatenate(
            [x[:, i:i + sh * (rows - 1) + 1:sh, j:j + sw * (cols - 1) + 1:sw, :]
             for i in range(kh) for j in range(kw)], axis=-1)
        return patches @ kernel.reshape(kh * kw * channels, self.features) + bias


class MinAtarTorso(nn.Module):
    """Young & Tian (2019)'s MinAtar DQN before its head: 16 3x3 filters, stride 1, VALID
    padding, ReLU (10x10 -> 8x8x16 = 1,024 features); with head_hidden=128 the whole net
    is theirs. Takes (B, C, 10, 10) 0/1 bytes, channels first like envpool's stacks."""

    im2col: bool = False

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = jnp.transpose(obs, (0, 2, 3, 1)).astype(jnp.float32)  # NCHW -> NHWC, already 0/1
        x = nn.relu(conv(16, 3, 1, self.im2col, 0)(x))
        return x.reshape(x.shape[0], -1)


class MLPTorso(nn.Module):
    """ReLU MLP for vector observations (CartPole, LunarLander, Atari RAM)."""

    hidden: Sequence[int]
    scale: float = 1.0  # Atari RAM bytes are divided by 255 like pixels

    @nn.compact
    def __call__(self, obs: jax.Array) -> jax.Array:
        x = obs.reshape(obs.shape[0], -1).astype(jnp.float32) * self.scale
        for width in self.hidden:
            x = nn.relu(nn.Dense(width)(x))
        return x


class QHead(nn.Module):
    """Plain head: Dense(hidden) -> ReLU -> Dense(|A|)."""

    num_actions: int
    hidden: int

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        return nn.Dense(self.num_actions)(nn.relu(nn.Dense(self.hidden)(features)))


class DuelingHead(nn.Module):
    """Wang et al. (2016): Q(s,a) = V(s) + A(s,a) - mean_a' A(s,a').

    Value and advantage streams each get their own hidden layer.
    """

    num_actions: int
    hidden: int

    @nn.compact
    def __call__(self, features: jax.Array) -> jax.Array:
        value = nn.Dense(1)(nn.relu(nn.Dense(self.hidden)(features)))
        advantage = nn.Dense(self.num_actions)(nn.relu(nn.Dense(self.hidden)(features)))
        return dueling_aggregate(value, advantage)


def dueling_aggregate(value: jax.Array, advantage: jax.Array) -> jax.Array:
    """Q = V + (A - mean_a A); value (B, 1), advantage (B, |A|)."""
    return value + advantage - advantage.mean(axis=-1, keepdims=True)


class QNetwork(nn.Module):
    torso: nn.Module
    head: nn.Module

    def __call__(self, obs: jax.Array) -> jax.Array:
        return self.head(self.torso(obs))


@dataclasses.dataclass(frozen=True)
class MLPSettings(Settings):
    mlp_hidden: tuple[int, ...] = setting((256,), "comma-separated hidden sizes of the MLP torso",
                                          all_positive)


@dataclasses.dataclass(frozen=True)
class ConvSettings(Settings):
    conv_impl: str = setting(
        "auto", "how the CNN torsos compute convolutions: im2col (patches @ kernel), xla "
        "(XLA's convolution) or auto (the faster one measured: im2col for the MinAtar CNN on "
        "CPU, xla otherwise)", one_of("auto", "im2col", "xla"))

    # auto picks im2col only where it was measured faster: on XLA:CPU, for the small MinAtar
    # CNN (its update runs inside the fused loop); see PatchConv.
    im2col_on_cpu = False

    def im2col(self) -> bool:
        if self.conv_impl == "auto":
            return self.im2col_on_cpu and jax.default_backend() == "cpu"
        return self.conv_impl == "im2col"


@TORSOS.register("auto")
@dataclasses.dataclass(frozen=True)
class Auto(MLPSettings, ConvSettings):
    def build(self, obs_shape: Sequence[int], obs_dtype: Any) -> nn.Module:
        """The Nature CNN for image stacks (C, H, W) at least 36 pixels wide (its three VALID
        convolutions need that), the MinAtar CNN for smaller images (10x10), an MLP for
        vectors."""
        if len(obs_shape) != 3:
            kind = "mlp"
        else:
            kind = "nature_cnn" if min(obs_shape[1:]) >= 36 else "minatar_cnn"
        return TORSOS.configured(kind, self).build(obs_shape, obs_dtype)


@TORSOS.register("nature_cnn")
@dataclasses.dataclass(frozen=True)
class NatureCNN(ConvSettings):
    def build(self, obs_shape: Sequence[int], obs_dtype: Any) -> nn.Module:
        return NatureTorso(im2col=self.im2col())


@TORSOS.register("mlp")
@dataclasses.dataclass(frozen=True)
class MLP(MLPSettings):
    def build(self, obs_shape: Sequence[int], obs_dtype: Any) -> nn.Module:
        scale = 1.0 / 255.0 if jnp.dtype(obs_dtype) == jnp.uint8 else 1.0
        return MLPTorso(hidden=tuple(self.mlp_hidden), scale=scale)


@TORSOS.register("two_conv")
@dataclasses.dataclass(frozen=True)
class TwoConv(ConvSettings):
    def build(self, obs_shape: Sequence[int], obs_dtype: Any) -> nn.Module:
        return TwoConvTorso(im2col=self.im2col())


@TORSOS.register("minatar_cnn")
@dataclasses.dataclass(frozen=True)
class MinAtarCNN(ConvSettings):
    im2col_on_cpu = True

    def build(self, obs_shape: Sequence[int], obs_dtype: Any) -> nn.Module:
        return MinAtarTorso(im2col=self.im2col())


@dataclasses.dataclass(frozen=True)
class HeadSettings(Settings):
    head_hidden: int = setting(512, "units of the hidden layer after the torso", positive)


@HEADS.register("plain")
@dataclasses.dataclass(frozen=True)
class Plain(HeadSettings):
    def build(self, num_actions: int) -> nn.Module:
        return QHead(num_actions, self.head_hidden)


@HEADS.register("dueling")
@dataclasses.dataclass(frozen=True)
class Dueling(HeadSettings):
    def build(self, num_actions: int) -> nn.Module:
        return DuelingHead(num_actions, self.head_hidden)


def make_network(torso: nn.Module, head: nn.Module) -> Network:
    module = QNetwork(torso=torso, head=head)
    return Network(init=module.init, apply=module.apply)


def param_count(params: Any) -> int:
    return sum(int(x.size) for x in jax.tree_util.tree_leaves(params))
