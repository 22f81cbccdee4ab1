"""benchmarks.common: the timing loops and stats every benchmark uses (no jax, fast)."""

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # `benchmarks` is not installed

from benchmarks.common import repeat_blocking, round_up, stats, timed_reps, write_json  # noqa: E402


def test_stats_keeps_median_spread_and_values():
    s = stats([3.0, 1.0, 2.0])
    assert (s["median"], s["min"], s["max"], s["n"]) == (2.0, 1.0, 3.0, 3)
    assert s["p25"] == 1.5 and s["p75"] == 2.5 and s["values"] == [3.0, 1.0, 2.0]


def test_round_up():
    assert round_up(1, 4) == 4 and round_up(8, 4) == 8 and round_up(8.5, 4) == 12


def test_timed_reps_gives_one_rate_per_rep_and_counts_the_units():
    calls = []

    def step():
        calls.append(1)
        return 5

    rates = timed_reps(step, reps=3, rep_s=0.01, warmup_calls=2)
    assert len(rates) == 3 and all(r > 0 for r in rates) and len(calls) >= 2 + 3 + 3


def test_repeat_blocking_gives_one_rate_per_rep():
    rates, calls = repeat_blocking(lambda: None, units_per_call=2.0, reps=4, rep_s=0.001)
    assert len(rates) == len(calls) == 4 and all(r > 0 for r in rates)


def test_write_json_creates_the_folder(tmp_path):
    path = tmp_path / "a" / "b.json"
    write_json(str(path), {"x": 1})
    assert json.loads(path.read_text()) == {"x": 1}
