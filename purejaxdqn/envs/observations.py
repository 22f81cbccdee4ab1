"""Observation components: crop rows, then a nearest-neighbour resize (note 002).

Note 002 keeps rows 31:195 of Breakout's 210x160 screen (score bar and the
floor below the paddle go) and resizes to 80x80 with nearest-neighbour
interpolation (scipy's `imresize(..., interp='nearest')`, i.e. PIL NEAREST).
PIL samples each output pixel at its centre:

    src_row(i) = floor((i + 0.5) * in_rows / out_rows),   likewise for columns,

so the whole transform is one gather with precomputed index arrays. The same
function runs on numpy arrays (host, in the env wrapper) and on jax arrays
(device, inside the jitted `act`); `config.obs_transform_on` picks where.
envpool cannot crop, so the envpool frame is the full screen (frame_size
(210, 160)) and only this component shrinks it.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple

import numpy as np

from purejaxdqn.config import Config


class ObsTransform(NamedTuple):
    shape: tuple[int, int]  # (h, w) of a transformed frame
    apply: Callable[[Any], Any]  # [..., H, W] -> [..., h, w], numpy or jax


def nearest_indices(size_in: int, size_out: int) -> np.ndarray:
    """PIL NEAREST source indices: floor((i + 0.5) * size_in / size_out), i < size_out."""
    return np.minimum(((np.arange(size_out) + 0.5) * size_in / size_out).astype(np.int64),
                      size_in - 1)


def crop_resize(frames, rows: np.ndarray, cols: np.ndarray):
    """frames[..., rows[:, None], cols[None, :]]: one gather, numpy or jax alike."""
    return frames[..., rows[:, None], cols[None, :]]


def make_obs_transform(config: Config, frame_hw: tuple[int, int]) -> ObsTransform | None:
    """The configured crop + resize for frames of `frame_hw`, or None if none is set."""
    if not config.obs_crop_rows and not config.obs_resize:
        return None
    height, width = frame_hw
    top, bottom = config.obs_crop_rows or (0, height)
    out_h, out_w = config.obs_resize or (bottom - top, width)
    rows = top + nearest_indices(bottom - top, out_h)
    cols = nearest_indices(width, out_w)
    return ObsTransform(shape=(out_h, out_w), apply=lambda f: crop_resize(f, rows, cols))
