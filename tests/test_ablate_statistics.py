"""experiments.ablate.statistics (curve AUC, IQM across games) and the per-seed bootstrap CI
the ablation tables use."""

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `experiments` is not installed

from experiments import ablate  # noqa: E402


def test_bootstrap_ci_of_equal_values_collapses_to_the_value():
    assert ablate.bootstrap_ci([0.1, 0.1, 0.1]) == pytest.approx((0.1, 0.1, 0.1))
    assert ablate.bootstrap_ci([7.0]) == (7.0, 7.0, 7.0)


def test_bootstrap_ci_hand_computed_two_point_sample():
    # Resampling {0, 1} twice gives means 0, 0.5, 1 with probabilities 1/4, 1/2, 1/4,
    # so the 2.5th and 97.5th percentiles of 10,000 resampled means are 0 and 1.
    assert ablate.bootstrap_ci([0.0, 1.0]) == (0.5, 0.0, 1.0)


def test_bootstrap_ci_small_sample_is_within_range_and_reproducible():
    values = [3.0, 9.0, 10.0, 11.0, 30.0]
    mean, lo, hi = ablate.bootstrap_ci(values)
    assert mean == pytest.approx(np.mean(values))
    assert min(values) <= lo < mean < hi <= max(values)
    assert ablate.bootstrap_ci(values) == (mean, lo, hi)  # fixed RNG seed
    assert ablate.bootstrap_ci(values, seed=1) != (mean, lo, hi)
    # 99% interval contains the 95% one
    _, lo99, hi99 = ablate.bootstrap_ci(values, confidence=0.99)
    assert lo99 <= lo and hi99 >= hi


def test_bootstrap_ci_per_column_matches_one_column_at_a_time():
    matrix = np.array([[1.0, 5.0, 2.0], [2.0, 5.0, 8.0], [4.0, 5.0, 3.0]])  # [seeds, steps]
    mean, lo, hi = ablate.bootstrap_ci(matrix)
    for j in range(matrix.shape[1]):
        assert (mean[j], lo[j], hi[j]) == pytest.approx(ablate.bootstrap_ci(matrix[:, j]))
    assert lo[1] == hi[1] == 5.0


def test_curve_auc_is_trapezoid_over_step_range():
    assert ablate.curve_auc([0, 10, 20], [0.0, 10.0, 10.0]) == pytest.approx(7.5)
    assert ablate.curve_auc([5, 10, 30], [2.0, 2.0, 2.0]) == pytest.approx(2.0)
    # uneven spacing: (1+3)/2*10 + (3+3)/2*30 = 110 over 40 steps
    assert ablate.curve_auc([0, 10, 40], [1.0, 3.0, 3.0]) == pytest.approx(110 / 40)
    assert ablate.curve_auc([100], [4.0]) == 4.0
    per_seed = ablate.curve_auc([0, 10], np.array([[0.0, 2.0], [2.0, 4.0]]))
    assert per_seed == pytest.approx([1.0, 3.0])


def test_iqm_with_ci_matches_trimmed_mean():
    pytest.importorskip("rliable")
    from scipy.stats import trim_mean

    scores = np.arange(12, dtype=float).reshape(3, 4)  # [seeds, games]
    point, lo, hi = ablate.iqm_with_ci({"a": scores})["a"]
    assert point == pytest.approx(trim_mean(scores, 0.25, axis=None))
    assert lo <= point <= hi


def test_iqm_without_rliable_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "rliable", None)  # import fails
    with pytest.raises(ablate.AblationError, match="pip install rliable"):
        ablate.iqm_with_ci({"a": np.ones((2, 2))})
