"""Q-networks: a torso (Nature CNN or MLP) and a head, plain or dueling.

A network is a `Network(init, apply)` pair of pure functions: `params = init(key,
example_obs)`, `out = apply(params, obs, key)`, where `out` is a NamedTuple that always
carries `q_values` (B, |A|), what acting and Q-learning read; a head may add more fields
(a distribution's logits, atoms, quantiles) for the objective that needs them (dqn_zoo's
network outputs). `key` feeds the network's own randomness (NoisyNet's noise, IQN's
sampled fractions) and is None for a deterministic network, which ignores it
(`Network.stochastic` says which); `apply(..., noise=False)` turns the noise off and
keeps the sampling (`Network.samples`: IQN's estimate needs its key, always).
`TORSOS` maps a name (Config.torso) to the torso's settings, whose
`build(obs_shape, obs_dtype)` gives the flax module; `HEADS` maps a name (Config.head) to
the head's settings, whose `build(num_actions)` does. Dueling streams are a setting every
head shares (`HeadSettings.dueling`), not a head of their own, so any head can be dueling.
"""

from __future__ import annotations

import dataclasses
from typing import Any, Callable, NamedTuple, Sequence

import flax.linen as nn
import jax
import jax.numpy as jnp
import numpy as np

from purejaxdqn.registry import Registry
from purejaxdqn.settings import (Check, ConfigError, Settings, all_positive, one_of, positive,
                                 setting)

TORSOS: Registry = Registry("torso")
HEADS: Registry = Registry("head")


class NetworkOutput(NamedTuple):
    """What every network returns: Q(s, .) of shape (B, |A|)."""

    q_values: jax.Array


class CategoricalOutput(NamedTuple):
    """A C51 head's: the return distribution of each action on fixed atoms."""

    q_values: jax.Array  # (B, |A|): sum_j z_j p_j, what acting reads
    logits: jax.Array  # (B, |A|, N)
    probabilities: jax.Array  # (B, |A|, N): softmax of the logits over the atoms
    atoms: jax.Array  # (N,): z_1..z_N, evenly spaced on [v_min, v_max]


class QuantileOutput(NamedTuple):
    """A QR-DQN head's: N quantiles of each action's return distribution."""

    q_values: jax.Array  # (B, |A|): the mean of the quantiles, what acting reads
    quantiles: jax.Array  # (B, |A|, N), at the fractions (2i - 1) / 2N


class ImplicitQuantileOutput(NamedTuple):
    """An IQN head's: the return's quantiles at fractions it sampled itself."""

    q_values: jax.Array  # (B, |A|): the mean over K sampled fractions, what acting reads
    quantiles: jax.Array  # (B, |A|, N) at the N fractions `taus`, what the loss reads
    taus: jax.Array  # (B, N): tau ~ U[0, 1], drawn per transition


class Network(NamedTuple):
    init: Callable[[jax.Array, jax.Array], Any]  # (key, example obs) -> params
    # (params, obs, key, noise=True) -> output; noise=False: NoisyNet's mean weights, while
    # a sampling head (IQN) still draws from the key
    apply: Callable[..., Any]
    stochastic: bool = False  # apply draws from its key; else the key is unused (pass None)
    samples: bool = False  # the estimate itself is sampled (IQN): a key even without noise


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


class Head(nn.Module):
    """What every head shares: |A| outputs of `width` numbers each from the torso's
    features, through a hidden layer, either as one stream or as dueling value and
    advantage streams (Wang et al. 2016) aggregated per number. A head subclass turns
    them into its output (plain: the Q-values themselves, width None)."""

    num_actions: int
    hidden: int
    dueling: bool = False
    noisy: bool = False  # NoisyNet layers (NoisyDense) instead of Dense
    sigma0: float = 0.5  # NoisyDense's initial noise scale

    def dense(self, features: int) -> nn.Module:
        return NoisyDense(features, self.sigma0) if self.noisy else nn.Dense(features)

    def action_values(self, features: jax.Array, width: int | None = None) -> jax.Array:
        """(B, |A|) for width None, else (B, |A|, width)."""
        shape = (self.num_actions,) if width is None else (self.num_actions, width)

        def stream(*out_shape: int) -> jax.Array:
            # The output layer is made before the hidden one, so flax names it Dense_0
            # (and the hidden Dense_1): the names, hence the parameters and checkpoints,
            # of the heads as first written.
            out = self.dense(int(np.prod(out_shape)))(nn.relu(self.dense(self.hidden)(features)))
            return out.reshape((-1,) + out_shape)

        if not self.dueling:
            return stream(*shape)
        value = stream(1, *shape[1:])
        return dueling_aggregate(value, stream(*shape))


class NoisyDense(nn.Module):
    """Fortunato et al. (2018), "Noisy Networks for Exploration": a dense layer with
    factorised Gaussian noise (Sec. 3(b)), y = (mu_w + sigma_w * f(e_in) f(e_out)^T) x +
    mu_b + sigma_b * f(e_out), f(e) = sgn(e) sqrt|e|, e ~ N(0, 1): p + q draws per call.
    Init (Sec. 3.2): mu ~ U[-1/sqrt(p), 1/sqrt(p)], sigma = sigma0 / sqrt(p), p the input
    size. Without a "noise" RNG (init; evaluation, see exploration.make_policy) it is
    the mean layer, mu only."""

    features: int
    sigma0: float = 0.5

    @nn.compact
    def __call__(self, x: jax.Array) -> jax.Array:
        fan_in = x.shape[-1]
        bound = 1.0 / np.sqrt(fan_in)

        def mu_init(key, shape):
            return jax.random.uniform(key, shape, jnp.float32, -bound, bound)

        def sigma_init(key, shape):
            return jnp.full(shape, self.sigma0 * bound, jnp.float32)

        kernel_mu = self.param("kernel_mu", mu_init, (fan_in, self.features))
        kernel_sigma = self.param("kernel_sigma", sigma_init, (fan_in, self.features))
        bias_mu = self.param("bias_mu", mu_init, (self.features,))
        bias_sigma = self.param("bias_sigma", sigma_init, (self.features,))
        if not self.has_rng("noise"):
            return x @ kernel_mu + bias_mu
        in_key, out_key = jax.random.split(self.make_rng("noise"))
        f_in, f_out = factorised_noise(in_key, fan_in), factorised_noise(out_key, self.features)
        kernel = kernel_mu + kernel_sigma * jnp.outer(f_in, f_out)
        return x @ kernel + bias_mu + bias_sigma * f_out


def factorised_noise(key: jax.Array, size: int) -> jax.Array:
    """f(e) = sgn(e) sqrt|e|, e ~ N(0, 1) (Fortunato et al. 2018, eqs. 10-11)."""
    noise = jax.random.normal(key, (size,))
    return jnp.sign(noise) * jnp.sqrt(jnp.abs(noise))


class QHead(Head):
    """Q(s, .) directly: Dense(hidden) -> ReLU -> Dense(|A|), or the dueling streams."""

    @nn.compact
    def __call__(self, features: jax.Array) -> NetworkOutput:
        return NetworkOutput(q_values=self.action_values(features))


class CategoricalHead(Head):
    """C51 (Bellemare et al. 2017): per action, logits over `num_atoms` atoms evenly spaced
    on [v_min, v_max]; Q = sum_j z_j p_j. Dueling aggregates the logits per atom before the
    softmax, as Rainbow's dueling distributional head (Hessel et al. 2018, Sec. 3)."""

    num_atoms: int = 51
    v_min: float = -10.0
    v_max: float = 10.0

    @nn.compact
    def __call__(self, features: jax.Array) -> CategoricalOutput:
        logits = self.action_values(features, self.num_atoms)
        probabilities = jax.nn.softmax(logits)
        atoms = jnp.linspace(self.v_min, self.v_max, self.num_atoms)
        return CategoricalOutput(jnp.sum(probabilities * atoms, axis=-1), logits, probabilities,
                                 atoms)


class QuantileHead(Head):
    """QR-DQN (Dabney et al. 2018): per action, `num_quantiles` quantiles of the return at
    the midpoint fractions; Q = their mean. Dueling aggregates per quantile."""

    num_quantiles: int = 200

    @nn.compact
    def __call__(self, features: jax.Array) -> QuantileOutput:
        quantiles = self.action_values(features, self.num_quantiles)
        return QuantileOutput(quantiles.mean(axis=-1), quantiles)


class QuantileFunction(Head):
    """Z_tau(s, a) = f(psi(s) * phi(tau))_a for given fractions `taus` (B, T): the cosine
    embedding phi_j(tau) = ReLU(sum_i cos(pi i tau) w_ij + b_j) (Dabney et al. 2018b,
    eq. 4; i = 1..n as dqn_zoo and Dopamine write it: the paper's i = 0 term, cos 0 = 1,
    is the bias), then the head's layers per fraction. Returns (B, |A|, T)."""

    embedding_dim: int = 64  # n

    @nn.compact
    def __call__(self, features: jax.Array, taus: jax.Array) -> jax.Array:
        (batch, width), samples = features.shape, taus.shape[1]
        i = jnp.arange(1, self.embedding_dim + 1, dtype=jnp.float32)
        phi = nn.relu(nn.Dense(width)(jnp.cos(jnp.pi * i * taus[..., None])))
        mixed = (features[:, None, :] * phi).reshape(batch * samples, width)
        return self.action_values(mixed).reshape(batch, samples, -1).swapaxes(1, 2)


class ImplicitQuantileHead(Head):
    """IQN (Dabney, Ostrovski, Silver & Munos 2018, "Implicit Quantile Networks for
    Distributional Reinforcement Learning"): the quantile function of each action's
    return at fractions tau ~ U[0, 1] it draws itself from the "tau" RNG stream, N of
    them for the loss and K for Q = the mean of K quantiles (acting, the bootstrap
    action). One `QuantileFunction` (shared parameters) evaluates each set, so jit
    drops the set a caller does not read (acting reads Q only)."""

    num_tau_samples: int = 64  # N (and N': the target's samples)
    num_quantile_samples: int = 32  # K
    embedding_dim: int = 64  # n

    @nn.compact
    def __call__(self, features: jax.Array) -> ImplicitQuantileOutput:
        quantile = QuantileFunction(self.num_actions, self.hidden, self.dueling, self.noisy,
                                    self.sigma0, self.embedding_dim)
        loss_key, q_key = jax.random.split(self.make_rng("tau"))
        batch = features.shape[0]
        taus = jax.random.uniform(loss_key, (batch, self.num_tau_samples))
        q_taus = jax.random.uniform(q_key, (batch, self.num_quantile_samples))
        return ImplicitQuantileOutput(quantile(features, q_taus).mean(axis=-1),
                                      quantile(features, taus), taus)


def dueling_aggregate(value: jax.Array, advantage: jax.Array) -> jax.Array:
    """Q = V + (A - mean_a A); value (B, 1, ...), advantage (B, |A|, ...): the mean is over
    the action axis, for each of a distributional head's numbers alike."""
    return value + advantage - advantage.mean(axis=1, keepdims=True)


class QNetwork(nn.Module):
    torso: nn.Module
    head: nn.Module

    def __call__(self, obs: jax.Array) -> Any:
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
    # What the head's output carries beyond q_values, for the objective that learns it
    # (objectives check it against their own `learns`).
    output = "q_values"
    samples = False  # its estimate is sampled (IQN): the network needs a key, always

    head_hidden: int = setting(512, "units of the hidden layer after the torso", positive)
    dueling: bool = setting(False, "dueling value/advantage streams (Wang et al. 2016), in "
                                   "any head")
    noisy: bool = setting(False, "NoisyNet: the head's layers with factorised Gaussian noise "
                                 "(Fortunato et al. 2018), fresh per forward pass and env; "
                                 "evaluation plays the mean weights")
    noisy_sigma0: float = setting(0.5, "NoisyNet's initial noise scale sigma0 (the paper's 0.5; "
                                       "Dopamine and dqn_zoo use 0.1)", positive)

    def layers(self) -> dict:
        """The Head fields these settings give every head."""
        return dict(hidden=self.head_hidden, dueling=self.dueling, noisy=self.noisy,
                    sigma0=self.noisy_sigma0)


@HEADS.register("plain")
@dataclasses.dataclass(frozen=True)
class Plain(HeadSettings):
    def build(self, num_actions: int) -> nn.Module:
        return QHead(num_actions, **self.layers())


at_least_two = Check(lambda v: v >= 2, "must be at least 2")


@HEADS.register("categorical")
@dataclasses.dataclass(frozen=True)
class Categorical(HeadSettings):
    """C51's head; the defaults are Bellemare et al. (2017)'s Atari agent's (51 atoms on
    [-10, 10]), as dqn_zoo's c51 and Dopamine's c51.gin."""

    output = "categorical"
    num_atoms: int = setting(51, "C51: atoms of the return distribution", at_least_two)
    v_min: float = setting(-10.0, "C51: the lowest atom (return value)")
    v_max: float = setting(10.0, "C51: the highest atom (return value)")

    def check_against(self, run) -> None:
        if not self.v_min < self.v_max:
            raise ConfigError(f"v_min ({self.v_min}) must be below v_max ({self.v_max})")

    def build(self, num_actions: int) -> nn.Module:
        return CategoricalHead(num_actions, **self.layers(), num_atoms=self.num_atoms,
                               v_min=self.v_min, v_max=self.v_max)


@HEADS.register("implicit_quantile")
@dataclasses.dataclass(frozen=True)
class ImplicitQuantile(HeadSettings):
    """IQN's head; the defaults are Dabney et al. (2018b)'s Atari agent's (N = N' = 64,
    K = 32, n = 64), as dqn_zoo's iqn and Dopamine's implicit_quantile.gin."""

    output = "implicit_quantiles"
    samples = True
    num_tau_samples: int = setting(64, "IQN: fractions tau sampled per state for the loss "
                                       "(N for s, N' for s')", positive)
    num_quantile_samples: int = setting(32, "IQN: fractions sampled for Q = their mean "
                                            "(K: acting, the bootstrap action)", positive)
    iqn_embedding_dim: int = setting(64, "IQN: size n of the cosine embedding of tau",
                                     positive)

    def build(self, num_actions: int) -> nn.Module:
        return ImplicitQuantileHead(num_actions, **self.layers(),
                                    num_tau_samples=self.num_tau_samples,
                                    num_quantile_samples=self.num_quantile_samples,
                                    embedding_dim=self.iqn_embedding_dim)


@HEADS.register("quantile")
@dataclasses.dataclass(frozen=True)
class Quantile(HeadSettings):
    """QR-DQN's head; 200 quantiles as Dabney et al. (2018)'s Atari agent (and Dopamine's
    quantile.gin)."""

    output = "quantiles"
    num_quantiles: int = setting(200, "QR-DQN: quantiles of the return distribution",
                                 positive)

    def build(self, num_actions: int) -> nn.Module:
        return QuantileHead(num_actions, **self.layers(), num_quantiles=self.num_quantiles)


TAU_STREAM = 0x746175  # folded into apply's key for the "tau" stream: never the noise's


def make_network(torso: nn.Module, head: nn.Module, stochastic: bool = False,
                 samples: bool = False) -> Network:
    """`Network` of `torso` then `head`. A stochastic network's modules draw from the
    "noise" RNG stream (NoisyNet), and a sampling head from the "tau" stream (IQN), which
    `apply` feeds from its key (noise=False: the "tau" stream only). Init draws the
    fractions of a sampling head from its own key; it needs no noise."""
    module = QNetwork(torso=torso, head=head)

    def apply(params: Any, obs: jax.Array, key: jax.Array | None, noise: bool = True) -> Any:
        rngs = {} if key is None or not noise else {"noise": key}
        if samples and key is not None:
            rngs["tau"] = jax.random.fold_in(key, TAU_STREAM)
        return module.apply(params, obs, rngs=rngs or None)

    def init(key: jax.Array, obs: jax.Array) -> Any:
        return module.init({"params": key, "tau": jax.random.fold_in(key, TAU_STREAM)}
                           if samples else key, obs)

    return Network(init=init, apply=apply, stochastic=stochastic or samples, samples=samples)


def param_count(params: Any) -> int:
    return sum(int(x.size) for x in jax.tree_util.tree_leaves(params))
