"""Statistics over seeds shared by `plot` and experiments/ablate/."""

from __future__ import annotations

from typing import Any

import numpy as np

BOOTSTRAP_RESAMPLES = 10_000
BOOTSTRAP_SEED = 0
CONFIDENCE = 0.95


def bootstrap_ci(values: Any, resamples: int = BOOTSTRAP_RESAMPLES,
                 confidence: float = CONFIDENCE, seed: int = BOOTSTRAP_SEED):
    """Mean over axis 0 (seeds) and its percentile-bootstrap CI over axis 0.

    `values` is [seeds] (returns three floats) or [seeds, ...] (three arrays, one
    entry per column: the same resampled seed sets serve every column). The RNG is
    seeded, so the interval is reproducible. With one seed the CI is that value.
    """
    x = np.asarray(values, dtype=np.float64)
    if x.ndim == 0:
        x = x[None]
    if x.shape[0] == 0:
        nan = np.full(x.shape[1:], np.nan)
        return (float(nan), float(nan), float(nan)) if x.ndim == 1 else (nan, nan, nan)
    rng = np.random.default_rng(seed)
    picks = rng.integers(0, x.shape[0], size=(resamples, x.shape[0]))
    means = x[picks].mean(axis=1)  # [resamples, ...]
    tail = 100 * (1 - confidence) / 2
    lo, hi = np.percentile(means, [tail, 100 - tail], axis=0)
    mean = x.mean(axis=0)
    # Bound by the sample range: all-equal seeds give exactly [v, v], whatever the rounding.
    lo, hi = np.maximum(lo, x.min(axis=0)), np.minimum(hi, x.max(axis=0))
    if x.ndim == 1:
        return float(mean), float(lo), float(hi)
    return mean, lo, hi
