"""Observation augmentations applied inside the jitted update (DrQ, Kostrikov et al. 2020).

An augmentation is `apply(key, obs) -> obs` on a batch of stacked frames
[B, stack, H, W]; the update draws independent keys for `obs` and `next_obs`
(as Dopamine's Atari-100k agent does), so s and s' get different shifts.

* random shift: pad H and W by `pad` pixels replicating the edge pixels, then
  crop a window of the original size at an offset (dy, dx) drawn uniformly
  from {0, ..., 2 * pad}^2 independently per sample; all frames of one
  sample's stack share the offset. out[b, c, i, j] = padded[b, c, i + dy_b, j + dx_b].
* intensity (Dopamine's DrQ also applies it, after the shift; Schwarzer et
  al. 2020): obs * (1 + scale * clip(n_b, -2, 2)), n_b ~ N(0, 1) per sample.
  The result is float32 on the 0..255 scale, which the Nature torso accepts.

`AUGMENTATIONS` maps a name (Config.augmentation) to its settings, whose `build()`
gives the Augmentation, or None for no augmentation.
"""

from __future__ import annotations

import dataclasses
from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp

from purejaxdqn.registry import Registry
from purejaxdqn.settings import Settings, non_negative, setting


class Augmentation(NamedTuple):
    apply: Callable[[jax.Array, jax.Array], jax.Array]  # (key, obs [B, C, H, W]) -> obs


def shift_with_offsets(obs: jax.Array, dy: jax.Array, dx: jax.Array, pad: int) -> jax.Array:
    """Edge-pad H and W of obs [B, C, H, W] by `pad`, crop H x W at per-sample (dy[b], dx[b])."""
    _, c, h, w = obs.shape
    padded = jnp.pad(obs, ((0, 0), (0, 0), (pad, pad), (pad, pad)), mode="edge")
    crop = lambda img, y, x: jax.lax.dynamic_slice(img, (0, y, x), (c, h, w))
    return jax.vmap(crop)(padded, dy, dx)


def random_shift(key: jax.Array, obs: jax.Array, pad: int = 4) -> jax.Array:
    """DrQ's random shift: one offset in {0..2*pad}^2 per sample (see the module docstring)."""
    key_y, key_x = jax.random.split(key)
    dy = jax.random.randint(key_y, (obs.shape[0],), 0, 2 * pad + 1)
    dx = jax.random.randint(key_x, (obs.shape[0],), 0, 2 * pad + 1)
    return shift_with_offsets(obs, dy, dx, pad)


def intensity(key: jax.Array, obs: jax.Array, scale: float = 0.05) -> jax.Array:
    """Multiply each sample by 1 + scale * clip(N(0, 1), -2, 2) (float32 out)."""
    noise = jnp.clip(jax.random.normal(key, (obs.shape[0],) + (1,) * (obs.ndim - 1)), -2.0, 2.0)
    return obs.astype(jnp.float32) * (1.0 + scale * noise)


AUGMENTATIONS: Registry = Registry("augmentation")


@AUGMENTATIONS.register("none")
@dataclasses.dataclass(frozen=True)
class NoAugmentation(Settings):
    def build(self) -> None:
        return None


@AUGMENTATIONS.register("shift")
@dataclasses.dataclass(frozen=True)
class Shift(Settings):
    augment_pad: int = setting(4, "random shift: edge-pad this many pixels, then crop back "
                                  "(DrQ: 4)", non_negative)

    def build(self) -> Augmentation:
        return Augmentation(apply=lambda key, obs: random_shift(key, obs, self.augment_pad))


@AUGMENTATIONS.register("shift_intensity")
@dataclasses.dataclass(frozen=True)
class ShiftIntensity(Shift):
    def build(self) -> Augmentation:
        def shift_then_intensity(key, obs):
            shift_key, intensity_key = jax.random.split(key)
            return intensity(intensity_key, random_shift(shift_key, obs, self.augment_pad))

        return Augmentation(apply=shift_then_intensity)
