"""Learning tests: CartPole-v1 must be solved on a 2-core CPU within the preset's budget.

"Solved" here: some Nature-protocol evaluation during the run (every 5,000 steps,
20 greedy episodes) has a mean return >= 450, for each seed. Seeds train side
by side in one process.
"""

import os

import pytest

from purejaxdqn.presets import CARTPOLE, PRESETS, VARIANTS, apply_variant

# presets that are whole experiments, not component variants, are trained by their own
# tests: the seed notes' (tests/test_seed_agents.py), Atari-100k's (tests/test_atari100k.py)
# and MinAtar's (tests/test_minatar_experiment.py); the Rainbow family's (rainbow, der,
# minatar-rainbow) are their components (VARIANTS["rainbow"]) at a paper's scale, checked in
# tests/test_presets.py
EXPERIMENT_PRESETS = {"lunarlander", "spaceinvaders-ram", "breakout-double",
                      "breakout-double-nature", "breakout-cropped", "data-efficient", "minatar",
                      "rainbow", "der", "minatar-rainbow"}
assert set(PRESETS) - {"cartpole"} - EXPERIMENT_PRESETS <= set(VARIANTS)
from purejaxdqn.run.runlog import read_jsonl
from purejaxdqn.run.train import train

SOLVED = 450.0
SEEDS = (0, 1)


def best_eval_per_seed(run_dir):
    rows = read_jsonl(os.path.join(run_dir, "eval.jsonl"))
    return {seed: max(r["score_mean"] for r in rows if r["seed"] == seed) for seed in SEEDS}


@pytest.mark.parametrize("variant", ["nature", "double", "dueling"])
def test_default_variants_solve_cartpole(tmp_path, variant):
    config = apply_variant(CARTPOLE, variant).replace(seeds=SEEDS)
    summary = train(config, str(tmp_path), progress=False)
    assert summary["steps"] == CARTPOLE.total_steps
    best = best_eval_per_seed(str(tmp_path))
    assert all(score >= SOLVED for score in best.values()), best


# Every preset but `cartpole` (the base itself) is Nature plus a named variant, so
# training each variant on CartPole covers the presets' components too.
SHORT = CARTPOLE.replace(total_steps=2_000, warmup_steps=500, eval_every=1_000, log_every=500,
                         eval_episodes=2, seeds=(0, 1))


# The Rainbow family's variants are left out: each compiles a noisy network for most of a
# minute, and their components train CartPole in test_cartpole.py's
# test_new_components_train_cartpole (C51 with every Rainbow part) and test_presets.py.
@pytest.mark.parametrize("variant", [v for v in sorted(VARIANTS)
                                     if not v.startswith(("rainbow", "der"))])
def test_every_variant_trains_cartpole(tmp_path, variant):
    assert_trains(apply_variant(SHORT, variant), str(tmp_path))


def assert_trains(config, run_dir):
    """The SHORT run ends, evaluates, and logs a finite loss."""
    summary = train(config, run_dir, progress=False)
    assert summary["steps"] == 2_000 and summary["final_eval"] is not None
    metrics = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    learned = [m for m in metrics if "loss" in m]
    assert learned and all(m["loss"] == m["loss"] for m in learned)  # finite, not NaN


# The distributional, noisy and Munchausen components combined with the existing ones
# (double, dueling, n-step, prioritized replay) through the whole run: act, learn, both
# evaluations' policy, checkpoints.
COMBINED = {
    "c51-rainbow-like": dict(head="categorical", objective="categorical", target="double",
                             dueling=True, noisy=True, n_step=3, replay="prioritized",
                             v_min=-100.0, v_max=100.0),
    "qr-dqn-noisy": dict(head="quantile", objective="quantile", num_quantiles=32, noisy=True),
    "munchausen-dueling": dict(objective="munchausen", dueling=True, n_step=3),
}


@pytest.mark.parametrize("name", sorted(COMBINED))
def test_new_components_train_cartpole(tmp_path, name):
    assert_trains(SHORT.replace(**COMBINED[name]), str(tmp_path))
