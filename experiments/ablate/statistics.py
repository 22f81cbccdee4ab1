"""Statistics of an ablation: area under the curve, and the IQM across games with
rliable's stratified-bootstrap CI (the per-seed bootstrap is purejaxdqn.tools.stats')."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from experiments.common import AblationError
from purejaxdqn.tools.stats import BOOTSTRAP_RESAMPLES, BOOTSTRAP_SEED, CONFIDENCE

RLIABLE_HINT = 'pip install rliable "pandas<3"'


def curve_auc(steps: Any, scores: Any) -> np.ndarray:
    """Trapezoid area under score-vs-step (last axis) divided by the step range from
    the first to the last evaluation: the curve's average height, in score units.
    One evaluation: that score."""
    steps = np.asarray(steps, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if steps.size == 1:
        return scores[..., 0]
    areas = (scores[..., 1:] + scores[..., :-1]) / 2 * np.diff(steps)
    return areas.sum(axis=-1) / (steps[-1] - steps[0])


def load_rliable():
    """(library, metrics) from rliable, or AblationError saying how to install it."""
    try:
        from rliable import library, metrics
    except ImportError:
        raise AblationError(f"IQM across games needs rliable: {RLIABLE_HINT}") from None
    except Exception as error:  # e.g. rliable's pinned arch breaking on pandas 3
        raise AblationError(f"rliable is installed but fails to import "
                            f"({type(error).__name__}); try {RLIABLE_HINT}") from None
    return library, metrics


def iqm_with_ci(score_matrices: Mapping[str, np.ndarray]) -> dict[str, tuple[float, float, float]]:
    """IQM over all (seed, game) scores per key, with rliable's stratified-bootstrap
    95% CI (seeds resampled within each game). Matrices are [seeds, games]."""
    library, metrics = load_rliable()
    with warnings.catch_warnings():  # arch deprecates the random_state rliable passes on
        warnings.filterwarnings("ignore", message=".*random_state.*", category=FutureWarning)
        point, interval = library.get_interval_estimates(
            {k: np.asarray(v, dtype=np.float64) for k, v in score_matrices.items()},
            lambda x: np.array([metrics.aggregate_iqm(x)]),
            reps=BOOTSTRAP_RESAMPLES, confidence_interval_size=CONFIDENCE,
            random_state=np.random.RandomState(BOOTSTRAP_SEED))
    return {k: (float(point[k][0]), float(interval[k][0][0]), float(interval[k][1][0]))
            for k in score_matrices}

