"""Learning tests: CartPole-v1 must be solved on a 2-core CPU within the preset's budget.

"Solved" here: some Nature-protocol evaluation during the run (every 5,000 steps,
20 greedy episodes) has a mean return >= 450, for each seed. Seeds train side
by side in one process, and the run stops at the first evaluation by which every
seed has solved (`stop_at_score`): the budget bounds it, the solve ends it.
"""

import os

import pytest

from purejaxdqn.presets import CARTPOLE, PRESETS, RAINBOW_COMPONENTS, VARIANTS, apply_variant

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


# The Rainbow family's agents, each on CartPole's base with its own components only (the
# atoms' support widened to CartPole's discounted returns, 0..100, as CleanRL's c51 does):
# the same solve bar, budget and seeds as Nature DQN and its two classic variants.
WIDE_SUPPORT = {"v_min": -100.0, "v_max": 100.0}
AGENTS = {
    "nature": VARIANTS["nature"],
    "double": VARIANTS["double"],
    "dueling": VARIANTS["dueling"],
    "c51": {"head": "categorical", "objective": "categorical", **WIDE_SUPPORT},
    # 32 quantiles, not the paper's 200: the quantile Huber loss pairs every quantile with
    # every target quantile, 40x less work per update (and the solve test ran > 20 min)
    "qr-dqn": {"head": "quantile", "objective": "quantile", "num_quantiles": 32},
    "noisy": RAINBOW_COMPONENTS["noisy"][0],
    "munchausen": {"objective": "munchausen"},
    "rainbow": {**VARIANTS["rainbow"], **WIDE_SUPPORT},
}


CLASSIC = ("nature", "double", "dueling")  # the Rainbow family's: test_cartpole_rainbow.py


@pytest.mark.parametrize("agent", CLASSIC)
def test_each_agent_solves_cartpole(tmp_path, agent):
    assert_solves(agent, str(tmp_path))


def assert_solves(agent, run_dir):
    """The run (act, learn, periodic evaluations, checkpoints) with finite losses, and
    every seed solves."""
    summary = train(CARTPOLE.replace(**AGENTS[agent], seeds=SEEDS), run_dir, progress=False,
                    stop_at_score=SOLVED)
    assert_learned_finite(run_dir)
    best = best_eval_per_seed(run_dir)
    assert all(score >= SOLVED for score in best.values()), best
    print(f"{agent}: solved by {summary['steps']:,} steps, best {best}")


# Every preset but `cartpole` (the base itself) is Nature plus a named variant, so
# training each variant on CartPole covers the presets' components too.
SHORT = CARTPOLE.replace(total_steps=2_000, warmup_steps=500, eval_every=1_000, log_every=500,
                         eval_episodes=2, seeds=(0, 1))


# The Rainbow family's variants are left out: Rainbow itself solves CartPole above, and
# its components combine with the others in test_new_components_train_cartpole.
@pytest.mark.parametrize("variant", [v for v in sorted(VARIANTS)
                                     if not v.startswith(("rainbow", "der"))])
def test_every_variant_trains_cartpole(tmp_path, variant):
    assert_trains(apply_variant(SHORT, variant), str(tmp_path))


def assert_trains(config, run_dir):
    """The run ends, evaluates, and logs finite losses only."""
    summary = train(config, run_dir, progress=False)
    assert summary["steps"] == config.total_steps and summary["final_eval"] is not None
    assert_learned_finite(run_dir)


def assert_learned_finite(run_dir):
    metrics = read_jsonl(os.path.join(run_dir, "metrics.jsonl"))
    learned = [m for m in metrics if "loss" in m]
    assert learned and all(m["loss"] == m["loss"] for m in learned)  # finite, not NaN


# The distributional, noisy and Munchausen components combined with the existing ones
# (double, dueling, n-step, prioritized replay) through the whole run: act, learn, both
# evaluations' policy, checkpoints.
COMBINED = {
    "qr-dqn-noisy": dict(head="quantile", objective="quantile", num_quantiles=32, noisy=True),
    "munchausen-dueling": dict(objective="munchausen", dueling=True, n_step=3),
}


@pytest.mark.parametrize("name", sorted(COMBINED))
def test_new_components_train_cartpole(tmp_path, name):
    assert_trains(SHORT.replace(**COMBINED[name]), str(tmp_path))
